#!/usr/bin/env bash
# Installs what is missing, builds, starts the bundled test target on loopback and runs
# watchpost against it: a probe, the post-deploy smoke suite and a short load test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWATCHPOST_TESTS=OFF -DWATCHPOST_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target watchpost watchpost-test-target
wp="$build/cli/watchpost"

ready=$(mktemp)
"$build/tests/target/watchpost-test-target" --threads 1 >"$ready" &
target_pid=$!
trap 'kill $target_pid 2>/dev/null; rm -f "$ready"' EXIT
for _ in $(seq 100); do grep -q READY "$ready" && break; sleep 0.05; done
read -r _ http https cert <"$ready"
http_url="http://127.0.0.1:${http#http=}"
https_url="https://127.0.0.1:${https#https=}"
cert=${cert#cert=}

echo "== watchpost probe $https_url/health --ca-file <test target cert>"
"$wp" probe "$https_url/health" --ca-file "$cert"

echo; echo "== TOKEN=*** watchpost smoke examples/post-deploy.yaml --base-url $http_url"
TOKEN=test-token "$wp" smoke examples/post-deploy.yaml --base-url "$http_url" --var RUN_ID=demo

echo; echo "== watchpost load $http_url/health -c 16 -t 1 -d 3s --threshold 'p99<50ms'"
"$wp" load "$http_url/health" -c 16 -t 1 -d 3s --threshold 'p99<50ms'

echo; echo "== watchpost agent (two targets, 1s interval) for 4 s, then its /metrics"
state=$(mktemp -d)
cat >"$state/agent.yaml" <<YAML
listen: 127.0.0.1:0
state_dir: $state
targets:
  - { name: health, url: $http_url/health, interval: 1s, expect: { status: 200 } }
  - { name: slow, url: $http_url/delay/100, interval: 1s, timeout: 2s }
YAML
"$wp" agent "$state/agent.yaml" >"$state/agent.out" 2>"$state/agent.log" &
agent_pid=$!
trap 'kill $target_pid $agent_pid 2>/dev/null; rm -rf "$ready" "$state"' EXIT
for _ in $(seq 100); do grep -q READY "$state/agent.out" && break; sleep 0.05; done
listen=$(sed -n 's/.*READY listen=\([^ ]*\).*/\1/p' "$state/agent.out")
sleep 4
exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}"
printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$listen" >&3
grep -E '^watchpost_(probe_success|uptime_ratio)|^watchpost_probe_total.*result="ok"|^watchpost_probe_duration_seconds_sum.*total' <&3
exec 3<&-
kill -TERM $agent_pid && wait $agent_pid
