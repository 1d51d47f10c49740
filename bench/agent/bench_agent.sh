#!/usr/bin/env bash
# Agent scale bench: N targets probed every INTERVAL against loopback test targets; reports the
# agent's CPU per probe (utime+stime from /proc/<pid>/stat over the measured span / probes
# done) and RSS, side by side with prometheus-blackbox-exporter driven at the same probe rate.
# blackbox_exporter is driven by a second watchpost agent whose targets are its
# /probe?module=http_2xx URLs (a curl loop could not sustain 1,000 requests/s on 2 cores);
# only blackbox_exporter's own CPU is counted for it.
#
# usage: bench/agent/bench_agent.sh [N=10000] [INTERVAL_S=10] [MEASURE_S=30] [BUILD_DIR=build-agent]
# Loopback only. Installs prometheus-blackbox-exporter with apt-get if missing.
set -euo pipefail
N=${1:-10000}; INTERVAL=${2:-10}; MEASURE=${3:-30}; BUILD=${4:-build-agent}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WATCHPOST=$ROOT/$BUILD/agent/watchpost
TARGET_BIN=$ROOT/$BUILD/tests/target/watchpost-test-target
BLACKBOX=/usr/bin/prometheus-blackbox-exporter
WORK=$(mktemp -d /tmp/watchpost-bench-agent.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
[[ -x $WATCHPOST && -x $TARGET_BIN ]] || { echo "build first: ninja -C $BUILD watchpost watchpost-test-target" >&2; exit 2; }
if [[ ! -x $BLACKBOX ]]; then apt-get install -y prometheus-blackbox-exporter >/dev/null; fi
WARMUP=$(( INTERVAL + 2 ))

start_target() {  # prints the HTTP port of a fresh test target
  "$TARGET_BIN" --port 0 --no-tls --threads 1 > "$WORK/target$1.out" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q READY "$WORK/target$1.out" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/READY http=\([0-9]*\).*/\1/p' "$WORK/target$1.out"
}
PORTS=($(start_target 1) $(start_target 2))

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
probes_done() {  # sum of watchpost_probe_total on an agent's /metrics
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^watchpost_probe_total/ {s += $NF} END {printf "%d\n", s}'
}
write_config() {  # file, url-template (PORT is replaced), listen
  { echo "listen: $3"; echo "state_dir: $WORK/state-$(basename "$1")"; echo "threads: 2"; echo "targets:"
    for i in $(seq 0 $((N - 1))); do
      p=${PORTS[$((i % ${#PORTS[@]}))]}
      echo "  - { name: t$i, url: '${2//PORT/$p}', interval: ${INTERVAL}s, timeout: 5s }"
    done; } > "$1"
}
start_agent() {  # config -> "pid port"
  "$WATCHPOST" agent "$1" > "$1.out" 2> "$1.err" &
  local pid=$!; PIDS+=($pid)
  for _ in $(seq 100); do grep -q READY "$1.out" 2>/dev/null && break; sleep 0.1; done
  echo "$pid $(sed -n 's/READY listen=.*:\([0-9]*\)$/\1/p' "$1.out")"
}
measure() {  # driver-pid metrics-port measured-pid -> "cpu_us_per_probe probes rss_mb"
  sleep "$WARMUP"
  local t0 p0 t1 p1 hz; hz=$(getconf CLK_TCK)
  t0=$(ticks "$3"); p0=$(probes_done "$2"); sleep "$MEASURE"; t1=$(ticks "$3"); p1=$(probes_done "$2")
  awk -v t=$((t1 - t0)) -v p=$((p1 - p0)) -v hz="$hz" -v rss="$(rss_kb "$3")" \
    'BEGIN { printf "%.1f %d %.1f\n", (p ? t / hz * 1e6 / p : 0), p, rss / 1024 }'
}

echo "targets=$N interval=${INTERVAL}s (=$((N / INTERVAL)) probes/s) measure=${MEASURE}s test targets on ports ${PORTS[*]}"

write_config "$WORK/agent.yaml" "http://127.0.0.1:PORT/health" "127.0.0.1:0"
read -r APID APORT < <(start_agent "$WORK/agent.yaml")
read -r W_CPU W_PROBES W_RSS < <(measure "$APID" "$APORT" "$APID")
kill -TERM "$APID"; wait "$APID" 2>/dev/null || true

cat > "$WORK/blackbox.yml" <<'YAML'
modules:
  http_2xx: { prober: http, timeout: 5s, http: { preferred_ip_protocol: ip4 } }
YAML
BB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BLACKBOX" --config.file="$WORK/blackbox.yml" --web.listen-address="127.0.0.1:$BB_PORT" --log.level=error > /dev/null 2>&1 &
BPID=$!; PIDS+=($BPID); sleep 1
write_config "$WORK/driver.yaml" "http://127.0.0.1:$BB_PORT/probe?module=http_2xx&target=127.0.0.1:PORT/health" "127.0.0.1:0"
read -r DPID DPORT < <(start_agent "$WORK/driver.yaml")
read -r B_CPU B_PROBES B_RSS < <(measure "$DPID" "$DPORT" "$BPID")

printf '\n%-28s %14s %10s %10s\n' tool "cpu_us/probe" probes rss_MB
printf '%-28s %14s %10s %10s\n' "watchpost agent" "$W_CPU" "$W_PROBES" "$W_RSS"
printf '%-28s %14s %10s %10s\n' "blackbox_exporter" "$B_CPU" "$B_PROBES" "$B_RSS"
awk -v w="$W_CPU" -v b="$B_CPU" 'BEGIN { if (w > 0) printf "CPU per probe ratio blackbox/watchpost: %.1fx (target >= 10x)\n", b / w }'
