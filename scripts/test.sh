#!/usr/bin/env bash
# Sets up, then runs every test twice: in the release build and under
# ASan+UBSan (leaks count as failures); then the thread-per-core tests under
# ThreadSanitizer, and four libFuzzer targets for a fixed number of runs each
# (build-fuzz/, clang), each counting as one test: the client's response path,
# both parsers fed whole against fed in pieces, the cookie jar, and URLs.
# Ends with one line "N passed, N failed, N skipped": a test skips (exit 77)
# where the machine lacks what it needs, e.g. a kernel feature.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0
run_suite() {  # $1 = build dir, then meson test's own arguments (e.g. test names)
  local build=$1 log=$1/meson-logs/testlog.json
  shift
  rm -f "$log"
  meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || true
  if [[ -f $log ]]; then
    local ok skip bad
    ok=$(grep -c '"result": "OK"' "$log")
    skip=$(grep -c '"result": "SKIP"' "$log")
    bad=$(grep -vc -e '"result": "OK"' -e '"result": "SKIP"' "$log")
    passed=$((passed + ok)) skipped=$((skipped + skip)) failed=$((failed + bad))
  else
    failed=$((failed + 1))
  fi
}

# Builds a fuzz target, then runs it over its seed corpus: run_fuzz TARGET
# CORPUS RUNS MAX_LEN. New inputs go to a scratch dir named first: the corpus
# is only read. A finding is written to build-fuzz/TARGET-crash-* (or leak-,
# timeout-, oom-).
run_fuzz() {
  local target=$1 corpus=$2 runs=$3 max_len=$4
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
  ninja -C "$build" "tests/fuzz/$target" >/dev/null || return 1
  local scratch log=$build/meson-logs/$target.log rc
  scratch=$(mktemp -d)
  # -entropic=0: its per-feature bookkeeping would cost these short runs most
  # of their time.
  # -max_total_time only bounds a slow machine; -runs is the measure.
  # -seed=1: the same inputs every run, so that CI goes red for a change, not
  # for a lucky draw (longer campaigns, with other seeds, are run by hand).
  # The sanitizer options are those of tests/meson.build's test setup.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$build/tests/fuzz/$target" -seed=1 -runs="$runs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -max_total_time=150 -entropic=0 -print_final_stats=1 -artifact_prefix="$build/$target-" \
    "$scratch" "$corpus" >"$log" 2>&1
  rc=$?
  rm -rf "$scratch"
  if ((rc == 0)); then
    grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$log"
    grep -m 5 "^$target:" "$log"  # e.g. a client timeout: not a failure, but worth a look
  else
    tail -n 80 "$log"
  fi
  echo "fuzz: $target $( ((rc == 0)) && echo OK || echo FAIL) (log: $log)"
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

# The sanitizers' options come with each build: tests/meson.build's test setup.
if scripts/setup.sh; then run_suite build; else failed=$((failed + 1)); fi
if BUILD=build-asan SANITIZE=1 scripts/setup.sh; then run_suite build-asan; else failed=$((failed + 1)); fi
if setup_tsan; then run_suite build-tsan --no-rebuild "${tsan_tests[@]}"; else failed=$((failed + 1)); fi
if run_fuzz response_fuzz tests/fuzz/corpus 20000 4096; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# Requests and responses of up to 16 KiB: past the 8190-byte line limit.
if run_fuzz parser_fuzz tests/fuzz/parser_corpus 100000 16384; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# The jar's checks pass over it for each cookie stored: its runs are slower.
if run_fuzz cookie_fuzz tests/fuzz/cookie_corpus 8000 4096; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if run_fuzz url_fuzz tests/fuzz/url_corpus 20000 4096; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
