#!/usr/bin/env bash
# Installs the Debian 12 packages coring needs (only the missing ones), then
# configures and compiles build/. Idempotent: a second run only recompiles.
#   scripts/setup.sh              release build in build/
#   BUILD=build-asan SANITIZE=1 scripts/setup.sh   ASan+UBSan debug build (-O0: it compiles
#   far faster than -O2 under ASan, and nothing relies on the optimiser:
#   awaits run in constant stack without tail calls)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config liburing-dev doctest-dev node-llhttp
          libssl-dev libc-ares-dev zlib1g-dev libbrotli-dev nlohmann-json3-dev libbenchmark-dev libcli11-dev
          libpsl-dev publicsuffix  # the cookie jar's public suffix list: libpsl, and the list apt keeps current
          nginx-light openssl curl python3 cmake help2man  # cmake: the find_package consumer test; help2man: the man pages
          clang libclang-rt-14-dev)  # the fuzz build (scripts/test.sh): clang++, libFuzzer and its sanitizers
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${BUILD:-build}
if [[ ! -f $build/build.ninja ]]; then
  if [[ ${SANITIZE:-0} == 1 ]]; then
    meson setup "$build" -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  else
    meson setup "$build" >/dev/null
  fi
fi
ninja -C "$build" >/dev/null
echo "setup: $build is built"
