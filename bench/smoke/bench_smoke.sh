#!/usr/bin/env bash
# Wall time (process start to exit) of a 10-check post-deploy suite against the loopback test
# target: `watchpost smoke` beside the same checks as a curl + jq script (ten_checks_curl.sh),
# run alternately so both see the same machine load. Prints medians, minima and the ratio.
#   bench/smoke/bench_smoke.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-50}
here=$(cd "$(dirname "$0")" && pwd)
watchpost=$build/cli/watchpost
target_bin=$build/tests/target/watchpost-test-target
[[ -x $watchpost && -x $target_bin ]] || { echo "build watchpost and watchpost-test-target in $build first" >&2; exit 2; }
for tool in curl jq; do command -v $tool >/dev/null || { echo "$tool is needed for the baseline (apt-get install $tool)" >&2; exit 2; }; done

work=$(mktemp -d)
"$target_bin" >"$work/target.out" 2>&1 &
target_pid=$!
trap 'kill "$target_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q READY "$work/target.out" && break; sleep 0.1; done
port=$(sed -nE 's/^READY http=([0-9]+).*/\1/p' "$work/target.out")
[[ -n $port ]] || { echo "test target did not start" >&2; exit 3; }
base="http://127.0.0.1:$port"
ours=("$watchpost" smoke "$here/ten_checks.yaml" --base-url "$base")
field=(bash "$here/ten_checks_curl.sh" "$base")
for cmd in ours field; do
  declare -n c=$cmd
  "${c[@]}" >/dev/null || { echo "$cmd: the checks do not pass against the test target" >&2; exit 1; }
done

# Microseconds of one run of the named command array.
wall_us() {
  declare -n c=$1
  local start end
  start=$(date +%s%N)
  "${c[@]}" >/dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000 ))
}
for _ in 1 2 3; do wall_us ours >/dev/null; wall_us field >/dev/null; done  # warm the page cache
: >"$work/ours"; : >"$work/field"
for _ in $(seq "$runs"); do
  wall_us ours >>"$work/ours"
  wall_us field >>"$work/field"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { printf '%d.%03d ms' $(($1 / 1000)) $(($1 % 1000)); }
m_ours=$(median "$work/ours"); m_field=$(median "$work/field")
echo "10 checks, $runs runs each, load average $(cut -d' ' -f1 /proc/loadavg):"
echo "  watchpost smoke:  median $(ms "$m_ours"), min $(ms "$(sort -n "$work/ours" | head -1)")"
echo "  curl + jq script: median $(ms "$m_field"), min $(ms "$(sort -n "$work/field" | head -1)")"
awk -v a="$m_field" -v b="$m_ours" 'BEGIN { printf "  ratio (curl script / watchpost): %.1fx\n", a / b }'
