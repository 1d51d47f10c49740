#!/usr/bin/env bash
# Installs what is missing, builds, starts the bundled test target on loopback and runs
# watchpost against it: a probe, the post-deploy smoke suite and a short load test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWATCHPOST_TESTS=OFF -DWATCHPOST_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target watchpost watchpost-test-target
wp="$build/agent/watchpost"

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
if [[ -f examples/post-deploy.yaml ]] && "$wp" --help | grep -q '^  smoke'; then
  echo; echo "== watchpost smoke examples/post-deploy.yaml --base-url $http_url"
  "$wp" smoke examples/post-deploy.yaml --base-url "$http_url" --var RUN_ID=demo
fi
if "$wp" --help | grep -q '^  load'; then
  echo; echo "== watchpost load $http_url/health -c 16 -d 3s --threshold 'p99<50ms'"
  "$wp" load "$http_url/health" -c 16 -t 1 -d 3s --threshold 'p99<50ms'
fi
