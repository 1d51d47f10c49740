#!/usr/bin/env bash
# Probing while /metrics is scraped (issue 11): an agent with N targets probed every INTERVAL
# against two loopback test targets; alternating spans of SPAN seconds, quiet and with one scrape
# a second, each printing the probes/s the targets answered, the agent's CPU, the largest
# watchpost_agent_scheduler_lag_seconds read (a quiet span's by one scrape after it) and the
# slowest scrape. A scrape that
# disturbs probing shows as fewer probes/s or a larger lag in the scrape spans.
#
# usage: bench/agent/bench_scrape.sh [N=10000] [INTERVAL_S=10] [SPAN_S=15] [ROUNDS=2] [BUILD_DIR=build]
set -euo pipefail
N=${1:-10000}; INTERVAL=${2:-10}; SPAN=${3:-15}; ROUNDS=${4:-2}; BUILD=${5:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/watchpost-bench-scrape.XXXXXX); PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"' EXIT
ready() { for _ in $(seq 100); do grep -q READY "$1" 2>/dev/null && return; sleep 0.1; done; echo "no READY in $1" >&2; exit 1; }
PORTS=()
for i in 1 2; do
  "$ROOT/$BUILD/tests/target/watchpost-test-target" --port 0 --no-tls --threads 1 > "$W/t$i.out" 2>/dev/null &
  PIDS+=($!); ready "$W/t$i.out"; PORTS+=("$(sed -n 's/READY http=\([0-9]*\).*/\1/p' "$W/t$i.out")")
done
{ printf 'listen: 127.0.0.1:0\nstate_dir: %s/state\ntargets:\n' "$W"
  for i in $(seq 0 $((N - 1))); do
    printf "  - { name: t%d, url: 'http://127.0.0.1:%s/health', interval: %ss }\n" "$i" "${PORTS[$((i % 2))]}" "$INTERVAL"
  done; } > "$W/agent.yaml"
"$ROOT/$BUILD/cli/watchpost" agent "$W/agent.yaml" > "$W/agent.out" 2> "$W/agent.err" &
AGENT=$!; PIDS+=($AGENT); ready "$W/agent.out"
PORT=$(sed -n 's/READY listen=.*:\([0-9]*\)$/\1/p' "$W/agent.out")
answered() { local s=0; for p in "${PORTS[@]}"; do s=$((s + $(curl -s "127.0.0.1:$p/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'))); done; echo "$s"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$AGENT/stat"; }
now() { date +%s.%N; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }
span() {  # quiet|scrape
  local r0 c0 w0 lag=0 slowest=0 s0
  r0=$(answered); c0=$(cpu_ticks); w0=$(now)
  for _ in $(seq "$SPAN"); do
    if [[ $1 == scrape ]]; then
      s0=$(now); curl -s "127.0.0.1:$PORT/metrics" > "$W/metrics.txt"
      slowest=$(max "$slowest" "$(awk -v a="$s0" -v b="$(now)" 'BEGIN { print b - a }')")
      lag=$(max "$lag" "$(sed -n 's/^watchpost_agent_scheduler_lag_seconds \(.*\)/\1/p' "$W/metrics.txt")")
    fi
    sleep 1
  done
  local r1 c1 w1; r1=$(answered); c1=$(cpu_ticks); w1=$(now)
  # A quiet span's lag (the gauge holds the last few seconds' largest) is read after its counts.
  [[ $1 == quiet ]] && lag=$(curl -s "127.0.0.1:$PORT/metrics" | sed -n 's/^watchpost_agent_scheduler_lag_seconds \(.*\)/\1/p')
  awk -v m="$1" -v p=$((r1 - r0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v d="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" \
    -v lag="$lag" -v s="$slowest" 'BEGIN { printf "%-6s %6.1f s  probes/s %5.0f  agent CPU %3.0f%%  max scheduler lag %.3f s  slowest scrape %.2f s\n", m, d, p / d, 100 * c / hz / d, lag, s }'
}
sleep $((INTERVAL + 2))
echo "targets=$N interval=${INTERVAL}s spans of ${SPAN}s"
for _ in $(seq "$ROUNDS"); do span quiet; span scrape; done
