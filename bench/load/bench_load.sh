#!/usr/bin/env bash
# watchpost load side by side with wrk, h2load (--h1) and ab against a local nginx, from one run:
# req/s, CPU-seconds of the client process, requests per CPU-second, peak RSS, and the ratio
# watchpost/peer of each, as the median of ROUNDS alternating rounds.
#
#   bench/load/bench_load.sh [path/to/watchpost]
#   env: ROUNDS=5 DURATION=5 CASES="c64 c10000 rate" RATE=10000 PEERS="wrk h2load ab"
#        IO=uring|epoll (passed as `watchpost load --io`; unset: the flag is left out)
#
# Cases: cN is the closed model at -t1 -cN (the open-file limit is raised for c10000); `rate` is
# the open model at RATE req/s over 64 connections, where wrk2 (-R) and h2load (--rps per
# connection) are the peers that can hold a rate (Debian's wrk is not wrk2; ab cannot).
# nginx (1 worker) is pinned to core 0 and every client to core 1. Each round runs watchpost
# right before each peer (watchpost, wrk, watchpost, h2load, ...), so a ratio compares runs a few
# seconds apart; the ratio printed is the median of those paired ratios. CPU-seconds and peak
# RSS are the kernel's utime + stime and VmHWM of the client process (read through wait4: the
# same counters as /proc/PID/stat and /proc/PID/status, but final). Only 127.0.0.1 is targeted;
# every run is bounded by DURATION.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
watchpost=${1:-${WATCHPOST:-$here/../../build/cli/watchpost}}
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
cases=${CASES:-"c64 c10000 rate"}
rate=${RATE:-10000}
peers=${PEERS:-"wrk h2load ab"}
io_flag=()
[ -n "${IO:-}" ] && io_flag=(--io "$IO")
port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

need() { command -v "$1" >/dev/null 2>&1; }
install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "$@" >/dev/null
}
need nginx || install nginx-light || install nginx
[ -x /usr/bin/time ] || install time
for peer in $peers; do
  case $peer in
    wrk) need wrk || install wrk || true ;;
    h2load) need h2load || install nghttp2-client || true ;;
    ab) need ab || install apache2-utils || true ;;
  esac
  need "$peer" || echo "$peer not available: its column is skipped" >&2
done
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

mkdir -p "$work/www" "$work/logs" "$work/tmp"
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
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
taskset -c 0 "$nginx_bin" -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
  sleep 0.1
done
kill -0 "$nginx_pid" 2>/dev/null || { echo "nginx did not start (see above)" >&2; exit 3; }
url="http://127.0.0.1:$port/index.html"

# Runs a client on core 1 with its output in $work/out.txt; prints "cpu_seconds peak_rss_kib":
# utime + stime and the peak RSS (VmHWM) of the client process, from wait4 through GNU time
# (the counters /proc/PID/stat and /proc/PID/status show, but final). A launcher's own pages
# count in the peak of what it execs, so the launcher is time(1) (~1 MiB), not a script.
measured() {
  taskset -c 1 /usr/bin/time -f '%U %S %M' -o "$work/time.txt" "$@" >"$work/out.txt" 2>&1 || true
  # The last line: time(1) puts "Command exited with non-zero status N" before it.
  tail -n 1 "$work/time.txt" | awk '{printf "%.2f %d\n", $1 + $2, $3}'
}
field() { awk "$1" "$work/out.txt"; }

# run_TOOL CASE -> "req_per_s cpu_seconds peak_rss_kib" (req/s 0 when the tool failed)
run_watchpost() {
  local args=(-t1 -c"${1#c}")
  [ "$1" = rate ] && args=(-t1 -c64 --rate "$rate")
  local m
  m=$(measured "$watchpost" load "$url" "${args[@]}" "${io_flag[@]}" -d "${duration}s" -q --json "$work/wp.json")
  [ -s "$work/wp.json" ] || head -n 3 "$work/out.txt" >&2  # no report: say why (e.g. an unknown --io)
  echo "$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['rps'],1))" "$work/wp.json" \
    2>/dev/null || echo 0) $m"
  rm -f "$work/wp.json"
}
run_wrk() {
  local m
  case $1 in
    rate) m=$(measured wrk2 -t1 -c64 -R"$rate" -d"${duration}s" "$url") ;;
    *) m=$(measured wrk -t1 -c"${1#c}" -d"${duration}s" "$url") ;;
  esac
  echo "$(field '/Requests\/sec/ {print $2}') $m"
}
run_h2load() {
  local m
  case $1 in
    # --rps is per connection.
    rate) m=$(measured h2load --h1 -t1 -c64 --rps "$(awk -v r="$rate" 'BEGIN{printf "%.3f", r / 64}')" \
      -D "$duration" "$url") ;;
    *) m=$(measured h2load --h1 -t1 -c"${1#c}" -D "$duration" "$url") ;;
  esac
  echo "$(field '/^finished in/ {gsub(",","",$4); print $4}') $m"
}
run_ab() {
  # ab needs -n; -t bounds the time.
  local m
  m=$(measured ab -k -q -c"${1#c}" -t"$duration" -n 100000000 "$url")
  echo "$(field '/Requests per second/ {print $4}') $m"
}

# The peers that can run a case.
peers_for() {
  local out=""
  for peer in $peers; do
    case $1:$peer in
      rate:wrk) need wrk2 && out+=" wrk" ;;
      rate:ab) ;;
      *) need "$peer" && out+=" $peer" ;;
    esac
  done
  echo "$out"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# Requests per CPU-second: req/s x duration / CPU-seconds.
per_cpu_s() { awk -v r="$1" -v c="$2" -v d="$duration" 'BEGIN{ if (c > 0) printf "%.0f", r * d / c; else print 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.3f", a / b; else print 0 }'; }
med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }

echo "watchpost load vs peers: nginx 1 worker on core 0, clients on core 1; ${duration}s runs," \
  "${rounds} alternating rounds; medians${IO:+; watchpost --io $IO}"
echo "load average before the bench: $load_before ($(nproc) cores)"
printf '%-7s %-10s %10s %7s %10s %8s   %-26s\n' case tool "req/s" cpu_s "req/cpu_s" rss_MiB \
  "watchpost/tool: req/s req/cpu_s rss"
for c in $cases; do
  case_peers=$(peers_for "$c")
  declare -A rps=() cpu=() per_cpu=() rss=() r_rps=() r_cpu=() r_rss=()
  for _ in $(seq "$rounds"); do
    for peer in $case_peers; do
      read -r w_rps w_cpu w_rss < <(run_watchpost "$c")
      read -r p_rps p_cpu p_rss < <("run_$peer" "$c")
      w_rps=${w_rps:-0} p_rps=${p_rps:-0}
      w_per=$(per_cpu_s "$w_rps" "$w_cpu")
      p_per=$(per_cpu_s "$p_rps" "$p_cpu")
      rps[watchpost]+="$w_rps " cpu[watchpost]+="$w_cpu " per_cpu[watchpost]+="$w_per " rss[watchpost]+="$w_rss "
      rps[$peer]+="$p_rps " cpu[$peer]+="$p_cpu " per_cpu[$peer]+="$p_per " rss[$peer]+="$p_rss "
      r_rps[$peer]+="$(ratio "$w_rps" "$p_rps") " r_cpu[$peer]+="$(ratio "$w_per" "$p_per") "
      r_rss[$peer]+="$(ratio "$w_rss" "$p_rss") "
    done
  done
  for tool in watchpost $case_peers; do
    ratios="-"
    [ "$tool" != watchpost ] &&
      ratios=$(printf '%.3f %.3f %.3f' "$(med "${r_rps[$tool]}")" "$(med "${r_cpu[$tool]}")" "$(med "${r_rss[$tool]}")")
    label=$tool
    [ "$c:$tool" = rate:wrk ] && label=wrk2
    printf '%-7s %-10s %10.0f %7.2f %10.0f %8.1f   %-26s\n' "$c" "$label" "$(med "${rps[$tool]}")" \
      "$(med "${cpu[$tool]}")" "$(med "${per_cpu[$tool]}")" "$(awk -v k="$(med "${rss[$tool]}")" 'BEGIN{print k / 1024}')" \
      "$ratios"
  done
  unset rps cpu per_cpu rss r_rps r_cpu r_rss
done
echo "load average after the bench: $(cut -d' ' -f1-3 /proc/loadavg) (includes the bench itself)"
