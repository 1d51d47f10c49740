#!/usr/bin/env bash
# Installs the Debian packages watchpost needs that are missing; a no-op when all are present.
# Usage: scripts/install-deps.sh [--test]   (--test adds the real peers the test suite starts)
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config ca-certificates openssl
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libssl-dev prometheus-cpp-dev libsimdjson-dev libyaml-cpp-dev libre2-dev libc-ares-dev liburing-dev
  libnghttp2-dev)
if [[ "${1:-}" == "--test" ]]; then
  # clang-16 with its runtime builds and runs the libFuzzer targets; clang-format checks the layout;
  # nghttp and h2load (nghttp2-client) and curl check the test target's HTTP/2 and HTTP/1.1;
  # nginx (h2 over TLS) and nghttpd (h2c) are the HTTP/2 peers of the probe client's tests.
  packages+=(catch2 python3 prometheus prometheus-pushgateway clang-16 libclang-rt-16-dev clang-format
    nghttp2-client curl nginx-light nghttp2-server)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
