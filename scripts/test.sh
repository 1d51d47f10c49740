#!/usr/bin/env bash
# Installs what is missing, builds from scratch with -Werror and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
build=${BUILD_DIR:-build-ci}
rm -rf "$build"
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWATCHPOST_WERROR=ON -DWATCHPOST_TESTS=ON >/dev/null
cmake --build "$build" -j2
echo "clean build: $(( $(date +%s) - start )) s"
ctest --test-dir "$build" -j2 --output-on-failure --timeout 300
echo "build + tests: $(( $(date +%s) - start )) s"
