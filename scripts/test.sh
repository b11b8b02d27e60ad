#!/usr/bin/env bash
# Sets up, then runs every test twice: in the release build and under
# ASan+UBSan (leaks count as failures). Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0
run_suite() {  # $1 = build dir
  local log=$1/meson-logs/testlog.json
  rm -f "$log"
  meson test -C "$1" --print-errorlogs --num-processes 2 || true
  if [[ -f $log ]]; then
    local ok bad
    ok=$(grep -c '"result": "OK"' "$log")
    bad=$(grep -vc '"result": "OK"' "$log")
    passed=$((passed + ok)) failed=$((failed + bad))
  else
    failed=$((failed + 1))
  fi
}

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if scripts/setup.sh; then run_suite build; else failed=$((failed + 1)); fi
if BUILD=build-asan SANITIZE=1 scripts/setup.sh; then run_suite build-asan; else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
