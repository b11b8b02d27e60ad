#!/usr/bin/env bash
# Sets up, then runs every test twice: in the release build and under
# ASan+UBSan (leaks count as failures); then the thread-per-core tests under
# ThreadSanitizer, and the libFuzzer target of the client's response path for
# a fixed number of runs (build-fuzz/, clang), which counts as one test.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0
run_suite() {  # $1 = build dir, then meson test's own arguments (e.g. test names)
  local build=$1 log=$1/meson-logs/testlog.json
  shift
  rm -f "$log"
  meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || true
  if [[ -f $log ]]; then
    local ok bad
    ok=$(grep -c '"result": "OK"' "$log")
    bad=$(grep -vc '"result": "OK"' "$log")
    passed=$((passed + ok)) failed=$((failed + bad))
  else
    failed=$((failed + 1))
  fi
}

# Builds only the fuzz target, then runs it over the seed corpus. New inputs go
# to a scratch dir named first: tests/fuzz/corpus is only read. A finding is
# written to build-fuzz/fuzz-crash-* (or leak-, timeout-, oom-).
run_fuzz() {
  local build=build-fuzz
  if [[ ! -f $build/build.ninja ]]; then
    # -fno-sanitize=function: clang 14 cannot emit that check beside the
    # coverage instrumentation in coroutines (llvm/llvm-project#49689:
    # "Cannot represent a difference across sections").
    CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true -Dbuildtype=debug \
      -Db_sanitize=address,undefined -Db_lundef=false \
      "-Dcpp_args=-fsanitize=fuzzer-no-link -fno-sanitize=function" -Dc_args=-fsanitize=fuzzer-no-link >/dev/null ||
      return 1
  fi
  ninja -C "$build" tests/fuzz/response_fuzz >/dev/null || return 1
  local scratch log=$build/meson-logs/fuzz.log rc
  scratch=$(mktemp -d)
  # -entropic=0: its per-feature bookkeeping took 70% of the time here.
  # -max_total_time only bounds a slow machine; -runs is the measure.
  "$build"/tests/fuzz/response_fuzz -runs=20000 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -max_total_time=150 -entropic=0 -print_final_stats=1 -artifact_prefix="$build/fuzz-" \
    "$scratch" tests/fuzz/corpus >"$log" 2>&1
  rc=$?
  rm -rf "$scratch"
  if ((rc == 0)); then
    grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$log"
    grep -m 5 '^response_fuzz:' "$log"  # a client timeout: not a failure, but worth a look
  else
    tail -n 80 "$log"
  fi
  echo "fuzz: response_fuzz $( ((rc == 0)) && echo OK || echo FAIL) (log: $log)"
  return $rc
}

# The thread-per-core tests (loops on several threads, cross-thread wake-ups)
# under ThreadSanitizer; only their targets are built.
tsan_tests=(rt_loop http_threads)
setup_tsan() {
  local build=build-tsan
  if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" -Dbuildtype=debug -Doptimization=1 -Db_sanitize=thread -Db_lundef=false >/dev/null || return 1
  fi
  ninja -C "$build" "${tsan_tests[@]/#/tests/}" >/dev/null
}

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if scripts/setup.sh; then run_suite build; else failed=$((failed + 1)); fi
if BUILD=build-asan SANITIZE=1 scripts/setup.sh; then run_suite build-asan; else failed=$((failed + 1)); fi
if setup_tsan; then
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" run_suite build-tsan --no-rebuild "${tsan_tests[@]}"
else
  failed=$((failed + 1))
fi
if run_fuzz; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
