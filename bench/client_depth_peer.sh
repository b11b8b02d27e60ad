#!/bin/sh
# coring_client_bench pipelined, as a client peer of ../shared/peers/run-all.sh
# (which invokes `<cmd> URL C N`): C connections, DEPTH requests in flight on each.
#   EXTRA_CLIENTS="coring_p10=/path/to/bench/client_depth_peer.sh 10 /path/to/build/bench/coring_client_bench"
set -eu
depth=$1 bench=$2
shift 2
exec "$bench" "$@" "$depth"
