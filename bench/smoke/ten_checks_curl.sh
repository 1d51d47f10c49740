#!/usr/bin/env bash
# The 10 checks of ten_checks.yaml as the curl + jq script a CI job carries without watchpost
# (the field's baseline in bench_smoke.sh). Exits 1 at the first failed check.
#   bench/smoke/ten_checks_curl.sh BASE_URL
set -euo pipefail
base=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

[[ $(curl -fsS "$base/health" | jq -r .status) == ok ]] || fail health
curl -fsS "$base/" | grep -q '<html' || fail home
(( $(curl -fsS "$base/api/info" | jq .count) > 1 )) || fail info
[[ $(code "$base/status/404") == 404 ]] || fail status 404
[[ $(code "$base/admin") =~ ^40[13]$ ]] || fail admin
curl -fsS "$base/headers" | jq -e 'has("host")' >/dev/null || fail headers
created=$(curl -sS -w '\n%{http_code}' -X POST --data canary "$base/api/files")
[[ ${created##*$'\n'} == 201 ]] || fail upload
id=$(jq -r .id <<<"${created%$'\n'*}")
[[ $(curl -fsS "$base/api/files/$id" | jq .size) == 6 ]] || fail size
if curl -fsS "$base/api/files/$id/raw" | grep -q canary; then fail raw; fi
awk -v t="$(curl -fsS -o /dev/null -w '%{time_total}' "$base/stats")" 'BEGIN { exit !(t < 1) }' || fail latency
