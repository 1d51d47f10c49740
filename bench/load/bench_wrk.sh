#!/usr/bin/env bash
# watchpost load vs wrk against a local nginx: median req/s of each, their ratio, peak RSS.
#
#   bench/load/bench_wrk.sh [path/to/watchpost]      (env: ROUNDS=5 DURATION=5 CONFIGS="64 10000")
#
# nginx (1 worker) is pinned to core 0 and the load generators to core 1, run alternately with
# the same connections and duration. h2load (--h1) and `ab -k` are extra columns: installed from
# Debian (nghttp2-client, apache2-utils) when missing, skipped if that fails (EXTRA=0 skips them).
# Only 127.0.0.1 is ever targeted; every run is bounded by DURATION.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
watchpost=${1:-${WATCHPOST:-$here/../../build-load/cli/watchpost}}
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
configs=${CONFIGS:-"64 10000"}
# A free loopback port unless PORT is given.
port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

need() { command -v "$1" >/dev/null 2>&1; }
install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "$@" >/dev/null
}
need nginx || install nginx-light || install nginx
need wrk || install wrk
[ -x /usr/bin/time ] || install time
if [ "${EXTRA:-1}" = 1 ]; then
  need h2load || install nghttp2-client || echo "h2load not available: column skipped" >&2
  need ab || install apache2-utils || echo "ab not available: column skipped" >&2
fi
[ -x "$watchpost" ] || { echo "watchpost binary not found at $watchpost (build it first)" >&2; exit 2; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/watchpost-bench.XXXXXX)
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/www" "$work/logs"
printf 'hello from nginx, a small static file for load benchmarks\n' > "$work/www/index.html"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/logs/error.log crit;
worker_rlimit_nofile 65536;
events { worker_connections 32768; use epoll; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  server {
    listen 127.0.0.1:$port backlog=65535;
    root $work/www;
    location / { }
  }
}
CONF
mkdir -p "$work/tmp"
taskset -c 0 "$nginx_bin" -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/index.html" >/dev/null 2>&1 && break
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
  sleep 0.1
done
kill -0 "$nginx_pid" 2>/dev/null || { echo "nginx did not start (see above)" >&2; exit 3; }
url="http://127.0.0.1:$port/index.html"

rss_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
# Requests per CPU-second of the load generator (user + sys): its efficiency, which the
# machine's other load disturbs far less than req/s.
per_cpu() { awk -F': ' -v rps="$1" -v d="$duration" '/User time|System time/ {cpu += $2} END {printf "%.0f", (cpu > 0 ? rps * d / cpu : 0)}' "$2"; }
result() { echo "${1:-0} $(rss_kb "$work/time.txt") $(per_cpu "${1:-0}" "$work/time.txt")"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

run_watchpost() {  # conns -> "rps rss_kb req_per_cpu_s"
  taskset -c 1 /usr/bin/time -v -o "$work/time.txt" "$watchpost" load "$url" -t1 -c"$1" -d "${duration}s" -q \
    --json "$work/wp.json" >/dev/null 2>&1 || true
  local rps
  rps=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['rps'],1))" "$work/wp.json" 2>/dev/null || echo 0)
  result "$rps"
}
run_wrk() {
  taskset -c 1 /usr/bin/time -v -o "$work/time.txt" wrk -t1 -c"$1" -d"${duration}s" "$url" >"$work/wrk.txt" 2>&1 || true
  result "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")"
}
run_h2load() {
  taskset -c 1 /usr/bin/time -v -o "$work/time.txt" h2load --h1 -t1 -c"$1" -D "$duration" "$url" >"$work/h2.txt" 2>&1 || true
  result "$(awk '/^finished in/ {gsub(",","",$4); print $4}' "$work/h2.txt")"
}
run_ab() {
  # ab caps concurrency at 20000 and needs -n; -t bounds the time.
  taskset -c 1 /usr/bin/time -v -o "$work/time.txt" ab -k -q -c"$1" -t"$duration" -n 100000000 "$url" >"$work/ab.txt" 2>&1 || true
  result "$(awk '/Requests per second/ {print $4}' "$work/ab.txt")"
}

tools="watchpost wrk"
if [ "${EXTRA:-1}" = 1 ]; then
  need h2load && tools="$tools h2load"
  need ab && tools="$tools ab"
fi

echo "nginx 1 worker on core 0; load generators on core 1; ${duration}s x ${rounds} rounds, alternating"
echo "load on this machine while running: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-10s %12s %14s %13s %12s %14s   %s\n' conns tool median_rps watchpost/tool peak_rss_MiB \
  req/cpu_s watchpost/tool "rounds (req/s)"
for c in $configs; do
  declare -A rps_list=() rss_max=() cpu_list=()
  for r in $(seq "$rounds"); do
    for tool in $tools; do
      read -r rps rss per_cpu_s < <("run_$tool" "$c")
      rps_list[$tool]+="${rps:-0} "
      cpu_list[$tool]+="${per_cpu_s:-0} "
      prev=${rss_max[$tool]:-0}
      [ "${rss:-0}" -gt "$prev" ] && rss_max[$tool]=${rss:-0}
    done
  done
  declare -A med=() med_cpu=()
  for tool in $tools; do
    med[$tool]=$(echo "${rps_list[$tool]}" | tr ' ' '\n' | grep -v '^$' | median)
    med_cpu[$tool]=$(echo "${cpu_list[$tool]}" | tr ' ' '\n' | grep -v '^$' | median)
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.3f", a / b; else print "-" }'; }
  for tool in $tools; do
    printf '%-8s %-10s %12s %14s %13.1f %12s %14s   %s\n' "$c" "$tool" "${med[$tool]}" "$(ratio "${med[watchpost]}" "${med[$tool]}")" \
      "$(awk -v k="${rss_max[$tool]:-0}" 'BEGIN{print k/1024}')" "${med_cpu[$tool]}" \
      "$(ratio "${med_cpu[watchpost]}" "${med_cpu[$tool]}")" "${rps_list[$tool]}"
  done
  echo "c=$c: watchpost/wrk req/s ratio $(awk -v a="${med[watchpost]}" -v b="${med[wrk]}" 'BEGIN{printf "%.3f", a / (b > 0 ? b : 1e-9)}')," \
       "peak RSS watchpost ${rss_max[watchpost]} KiB vs wrk ${rss_max[wrk]} KiB"
  unset med med_cpu
  unset rps_list rss_max cpu_list
done
