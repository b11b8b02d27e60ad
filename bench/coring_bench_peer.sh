#!/bin/sh
# coring-bench as a client peer of ../shared/peers/run-all.sh, which invokes
# `<cmd> URL C N` and reads one RESULT line:
#   EXTRA_CLIENTS="coring_bench=/path/to/bench/coring_bench_peer.sh /path/to/build/coring-bench"
# CORING_RING_SETUP=defer|coop|none, if set, goes to coring-bench's
# --ring-setup (the peers' command line has no room for flags).
# The JSON is read with awk, not python: the peers' CPU time is measured for
# the whole command, and a python start-up would be charged to coring-bench.
set -eu
bench=$1 url=$2 connections=$3 requests=$4
json=$(mktemp)
trap 'rm -f "$json"' EXIT
"$bench" --no-progress ${CORING_RING_SETUP:+--ring-setup "$CORING_RING_SETUP"} \
  -c "$connections" -n "$requests" --json "$json" "$url" >&2
awk -F'[:,]' '
  /"requests":/ { requests = $2 + 0 }
  /"requests_per_sec":/ { rps = $2 + 0 }
  /"(connect|read|write|timeout|status)": [0-9]/ { errors += $2 }
  END { printf "RESULT client=coring_bench requests=%d rps=%.0f errors=%d\n", requests, rps, errors }
' "$json"
