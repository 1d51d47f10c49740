#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS on a temporary copy
# of its seed corpus (the repository's corpus never grows). Exits non-zero if any target crashed,
# leaked, timed out or ran out of memory, naming the input that did it.
# Usage: scripts/fuzz.sh SECONDS [TARGET...]    (FUZZ_JOBS targets at a time, default 2;
#        FUZZ_SEED=N makes the run repeatable: a shorter run explores a prefix of a longer one)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
cxx=${FUZZ_CXX:-clang++-16}

if [[ ! -f $build/build.ninja ]]; then
  CC=${cxx/++/} CXX=$cxx cmake -S . -B "$build" -G Ninja -DWATCHPOST_FUZZ=ON -DWATCHPOST_TESTS=OFF \
    -DWATCHPOST_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target fuzzers

targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
crashes="$build/fuzz-crashes"
mkdir -p "$crashes"

dictionary_for() {
  case $1 in
    *response_parser*) echo tests/fuzz/http.dict ;;
    *_config) echo tests/fuzz/yaml.dict ;;
  esac
}

# Runs one target; its log goes to $work/NAME.log and its verdict to $work/NAME.rc.
run_target() {
  local name=$1 corpus="$work/$1" dictionary
  mkdir -p "$corpus"
  # A target without seeds starts from nothing (libFuzzer's empty input).
  [[ ! -d tests/fuzz/corpus/$name ]] || cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$crashes/$name-")
  [[ -n ${FUZZ_SEED:-} ]] && args+=(-seed="$FUZZ_SEED")
  dictionary=$(dictionary_for "$name")
  [[ -n $dictionary ]] && args+=(-dict="$dictionary")
  local rc=0
  UBSAN_OPTIONS=print_stacktrace=1 "$build/tests/fuzz/fuzz_$name" "${args[@]}" "$corpus" >"$work/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}

start=$(date +%s)
running=0
for name in "${targets[@]}"; do
  run_target "$name" &
  if ((++running >= jobs)); then
    wait -n || true
    ((running--))
  fi
done
wait

failed=0
for name in "${targets[@]}"; do
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
  if [[ $(cat "$work/$name.rc") == 0 ]]; then
    echo "fuzz $name: ok, ${runs:-?} inputs in ${seconds}s"
  else
    failed=1
    echo "fuzz $name: FAILED"
    grep -E '^==[0-9]+==|SUMMARY|runtime error|invariant|Test unit written|^(ours|beast)' "$work/$name.log" | head -20
    echo "  reproduce: $build/tests/fuzz/fuzz_$name $(sed -n 's/.*Test unit written to //p' "$work/$name.log")"
  fi
done
echo "fuzzing: $(( $(date +%s) - start )) s for ${#targets[@]} targets"
exit "$failed"
