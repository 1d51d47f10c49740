#!/usr/bin/env bash
# Agent scale bench (issue 5): N targets probed every INTERVAL (default 10,000 x 10 s = 1,000
# probes/s, a new connection each) against loopback test targets. Reports the agent's CPU per
# probe (utime+stime from /proc/<pid>/stat over the measured span / probes the test targets
# answered in that span) and RSS, side by side with prometheus-blackbox-exporter driven at the
# same probe rate. blackbox_exporter is driven by a second watchpost agent whose targets are
# its /probe?module=http_2xx URLs (a curl loop cannot sustain 1,000 requests/s on 2 cores);
# only blackbox_exporter's own CPU is counted for it. Probes are counted on the test targets
# (/stats), so no /metrics scrape lands inside a measured span; the cost of one full /metrics
# scrape of the agent is printed on its own line.
#
# usage: bench/agent/bench_agent.sh [N=10000] [INTERVAL_S=10] [MEASURE_S=30] [BUILD_DIR=build-agent]
#   BENCH_TOOLS="watchpost blackbox" (default) or just one of them; THREADS (agent workers, 2);
#   BATCH_WINDOW (the agent's batch_window, default 50ms); BLACKBOX_BATCH_WINDOW (0s: the
#   driver spreads its requests to blackbox_exporter evenly, as Prometheus spreads scrapes).
# Loopback only. Installs prometheus-blackbox-exporter with apt-get if missing.
set -euo pipefail
N=${1:-10000}; INTERVAL=${2:-10}; MEASURE=${3:-30}; BUILD=${4:-build-agent}
TOOLS=${BENCH_TOOLS:-watchpost blackbox}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WATCHPOST=$ROOT/$BUILD/cli/watchpost
TARGET_BIN=$ROOT/$BUILD/tests/target/watchpost-test-target
BLACKBOX=/usr/bin/prometheus-blackbox-exporter
WORK=$(mktemp -d /tmp/watchpost-bench-agent.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
[[ -x $WATCHPOST && -x $TARGET_BIN ]] || { echo "build first: ninja -C $BUILD watchpost watchpost-test-target" >&2; exit 2; }
if [[ $TOOLS == *blackbox* && ! -x $BLACKBOX ]]; then apt-get install -y prometheus-blackbox-exporter >/dev/null; fi
WARMUP=$(( INTERVAL + 2 ))

wait_ready() { for _ in $(seq 100); do grep -q READY "$1" 2>/dev/null && return; sleep 0.1; done; echo "no READY in $1" >&2; exit 1; }
PORTS=()
for i in 1 2; do
  "$TARGET_BIN" --port 0 --no-tls --threads 1 > "$WORK/target$i.out" 2>/dev/null &
  PIDS+=($!)
  wait_ready "$WORK/target$i.out"
  PORTS+=($(sed -n 's/READY http=\([0-9]*\).*/\1/p' "$WORK/target$i.out"))
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
requests_answered() {  # requests the test targets served so far
  local sum=0 n
  for p in "${PORTS[@]}"; do
    n=$(curl -s "http://127.0.0.1:$p/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'); sum=$((sum + n))
  done
  echo "$sum"
}
SLO='slo: { availability: 99.9%, latency: { p95: 500ms }, window: 30d, burn_alerts: [ { long: 1h, short: 5m, factor: 14.4 }, { long: 6h, short: 30m, factor: 6 } ] }'
write_config() {  # file, url-template (PORT is replaced), batch_window, slo_every
  local every=${4:-0} slo
  { echo "listen: 127.0.0.1:0"; echo "state_dir: $WORK/state-$(basename "$1")"; echo "threads: ${THREADS:-2}"
    echo "batch_window: $3"; echo "targets:"
    for i in $(seq 0 $((N - 1))); do
      p=${PORTS[$((i % ${#PORTS[@]}))]}; slo=
      (( every > 0 && i % every == 0 )) && slo=", $SLO"
      echo "  - { name: t$i, url: '${2//PORT/$p}', interval: ${INTERVAL}s, timeout: 5s$slo }"
    done; } > "$1"
}
AGENT_PID=; AGENT_PORT=
start_agent() {  # config
  "$WATCHPOST" agent "$1" > "$1.out" 2> "$1.err" &
  AGENT_PID=$!; PIDS+=($AGENT_PID)
  wait_ready "$1.out"
  AGENT_PORT=$(sed -n 's/READY listen=.*:\([0-9]*\)$/\1/p' "$1.out")
}
measure() {  # measured-pid -> "cpu_us_per_probe probes rss_mb"
  sleep "$WARMUP"
  local t0 r0 t1 r1 hz; hz=$(getconf CLK_TCK)
  r0=$(requests_answered); t0=$(ticks "$1"); sleep "$MEASURE"; t1=$(ticks "$1"); r1=$(requests_answered)
  awk -v t=$((t1 - t0)) -v p=$((r1 - r0)) -v hz="$hz" -v rss="$(rss_kb "$1")" \
    'BEGIN { printf "%.1f %d %.1f\n", (p ? t / hz * 1e6 / p : 0), p, rss / 1024 }'
}

echo "targets=$N interval=${INTERVAL}s (=$((N / INTERVAL)) probes/s) measure=${MEASURE}s slo_every=${SLO_EVERY:-0} test targets on ports ${PORTS[*]}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
W_CPU=-; W_PROBES=-; W_RSS=-; B_CPU=-; B_PROBES=-; B_RSS=-; SCRAPE=

if [[ $TOOLS == *watchpost* ]]; then
  write_config "$WORK/agent.yaml" "http://127.0.0.1:PORT/health" "${BATCH_WINDOW:-50ms}" "${SLO_EVERY:-0}"
  start_agent "$WORK/agent.yaml"
  read -r W_CPU W_PROBES W_RSS < <(measure "$AGENT_PID")
  t0=$(ticks "$AGENT_PID"); s0=$(date +%s.%N)
  bytes=$(curl -s "http://127.0.0.1:$AGENT_PORT/metrics" | wc -c)
  SCRAPE=$(awk -v t=$(( $(ticks "$AGENT_PID") - t0 )) -v hz="$(getconf CLK_TCK)" -v s0="$s0" -v s1="$(date +%s.%N)" -v b="$bytes" \
    'BEGIN { printf "one /metrics scrape: %.1f MB in %.2f s wall, %.2f s agent CPU (probing included)", b / 1e6, s1 - s0, t / hz }')
  kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
fi

if [[ $TOOLS == *blackbox* ]]; then
  cat > "$WORK/blackbox.yml" <<'YAML'
modules:
  http_2xx: { prober: http, timeout: 5s, http: { preferred_ip_protocol: ip4 } }
YAML
  BB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BLACKBOX" --config.file="$WORK/blackbox.yml" --web.listen-address="127.0.0.1:$BB_PORT" --log.level=error > /dev/null 2>&1 &
  BPID=$!; PIDS+=($BPID)
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$BB_PORT/" > /dev/null && break; sleep 0.1; done
  write_config "$WORK/driver.yaml" "http://127.0.0.1:$BB_PORT/probe?module=http_2xx&target=127.0.0.1:PORT/health" "${BLACKBOX_BATCH_WINDOW:-0s}"
  start_agent "$WORK/driver.yaml"
  read -r B_CPU B_PROBES B_RSS < <(measure "$BPID")
fi

rate() { [[ $1 == - ]] && echo - || echo $(( $1 / MEASURE )); }
printf '\n%-28s %14s %10s %10s %10s\n' tool "cpu_us/probe" probes "probes/s" rss_MB
printf '%-28s %14s %10s %10s %10s\n' "watchpost agent" "$W_CPU" "$W_PROBES" "$(rate "$W_PROBES")" "$W_RSS"
printf '%-28s %14s %10s %10s %10s\n' "blackbox_exporter" "$B_CPU" "$B_PROBES" "$(rate "$B_PROBES")" "$B_RSS"
echo "(a tool well under $((N / INTERVAL)) probes/s could not keep up: its CPU per probe is then that of a saturated process)"
[[ -n $SCRAPE ]] && echo "$SCRAPE"
awk -v w="$W_CPU" -v b="$B_CPU" -v wr="$W_RSS" -v br="$B_RSS" 'BEGIN { if (w + 0 > 0 && b + 0 > 0)
  printf "ratio blackbox/watchpost: CPU per probe %.1fx (goal >= 14x), RSS %.2fx\n", b / w, (wr + 0 > 0 ? br / wr : 0) }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (includes the bench)"
