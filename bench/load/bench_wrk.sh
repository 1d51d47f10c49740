#!/usr/bin/env bash
# The load bench's former name: bench_load.sh runs watchpost beside wrk, h2load and ab. The old
# knobs still work: CONFIGS="64 10000" (connection counts, closed model only) and EXTRA=0 (wrk only).
cases=""
for c in ${CONFIGS:-64 10000}; do cases+="c$c "; done
peers="wrk h2load ab"
[ "${EXTRA:-1}" = 1 ] || peers=wrk
CASES=${CASES:-$cases} PEERS=${PEERS:-$peers} exec "$(dirname "$0")/bench_load.sh" "$@"
