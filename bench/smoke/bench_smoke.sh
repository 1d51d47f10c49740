#!/usr/bin/env bash
# Wall time of `watchpost smoke` (process start to exit) on a 10-check suite against the
# loopback test target. Prints the median; uses hyperfine when installed.
#   bench/smoke/bench_smoke.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-50}
here=$(cd "$(dirname "$0")" && pwd)
watchpost=$build/agent/watchpost
target_bin=$build/tests/target/watchpost-test-target
[[ -x $watchpost && -x $target_bin ]] || { echo "build watchpost and watchpost-test-target in $build first" >&2; exit 2; }

work=$(mktemp -d)
"$target_bin" >"$work/target.out" 2>&1 &
target_pid=$!
trap 'kill "$target_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q READY "$work/target.out" && break; sleep 0.1; done
port=$(sed -nE 's/^READY http=([0-9]+).*/\1/p' "$work/target.out")
[[ -n $port ]] || { echo "test target did not start" >&2; exit 3; }
suite="$here/ten_checks.yaml"
cmd=("$watchpost" smoke "$suite" --base-url "http://127.0.0.1:$port")
"${cmd[@]}" >/dev/null || { echo "the suite does not pass against the test target" >&2; exit 1; }

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs "$runs" --export-json "$work/h.json" "${cmd[*]}" >/dev/null
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(f"watchpost smoke, 10 checks: median {r["median"]*1000:.1f} ms over {len(r["times"])} runs (hyperfine)")' "$work/h.json"
  exit 0
fi
for _ in 1 2 3; do "${cmd[@]}" >/dev/null; done  # warm the page cache
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "${cmd[@]}" >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
min=$(printf '%s\n' "${times[@]}" | sort -n | head -1)
printf 'watchpost smoke, 10 checks: median %d.%03d ms, min %d.%03d ms over %d runs (date loop)\n' \
  $((median / 1000)) $((median % 1000)) $((min / 1000)) $((min % 1000)) "$runs"
