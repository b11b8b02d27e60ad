#!/usr/bin/env bash
# TLS benchmark, side by side in one run: coring-bench and curl (7.88,
# --parallel, i.e. libcurl's multi interface) against the same nginx with
# ssl on 127.0.0.1, nginx pinned to CPU 0 and the client to CPU 1.
#   keep-alive:  requests per second over C pooled TLS connections
#   handshakes:  one connection per request (Connection: close), with and
#                without TLS session resumption
# Prints one line per run: client, case, requests, seconds, req/s, client
# CPU seconds per 100k requests. Usage: bench/tls_bench.sh [build-dir]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
bench="$build/coring-bench"
work=$(mktemp -d /tmp/coring-tls-bench.XXXXXX)
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

# A CA and a server certificate for localhost / 127.0.0.1 (EC P-256).
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=bench CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -CA ca.pem -CAkey ca.key -keyout server.key -out server.pem 2>/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p www tmp logs
printf 'Hello, world!' > www/small
cat > nginx.conf <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000000;
    client_body_temp_path tmp;
    proxy_temp_path tmp; fastcgi_temp_path tmp; uwsgi_temp_path tmp; scgi_temp_path tmp;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:10m;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        root $work/www;
        location = /small { default_type text/plain; }
    }
}
CONF
nginx -p "$work/" -c "$work/nginx.conf" -e "$work/logs/error.log"
for _ in $(seq 50); do [[ -s nginx.pid ]] && break; sleep 0.1; done
sleep 0.3
worker=$(pgrep -P "$(cat nginx.pid)" | head -1)
taskset -pc 0 "$worker" >/dev/null
url="https://127.0.0.1:$port/small"

# measure NAME CASE REQUESTS -- command...: runs pinned to CPU 1 under
# /usr/bin/time, prints a result line.
measure() {
  local name=$1 case=$2 requests=$3; shift 4
  local t0 t1 cpu
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o time.txt taskset -c 1 "$@" > out.txt 2> err.txt || { echo "$name $case FAILED"; tail -3 err.txt; return; }
  t1=$(date +%s.%N)
  cpu=$(awk '{print $1 + $2}' time.txt)
  awk -v n="$name" -v c="$case" -v r="$requests" -v t0="$t0" -v t1="$t1" -v cpu="$cpu" 'BEGIN {
    s = t1 - t0; printf "%-14s %-22s %8d requests %6.2f s %9.0f req/s %6.2f CPU s/100k\n", n, c, r, s, r / s, cpu * 100000 / r }'
}

# curl reads its URLs from a config file: N lines of url/output pairs.
curl_config() {  # N [header]
  : > curl.cfg
  [[ -n "${2:-}" ]] && echo "header = \"$2\"" >> curl.cfg
  for _ in $(seq "$1"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >> curl.cfg
}

keepalive_n=${KEEPALIVE_N:-200000}
handshake_n=${HANDSHAKE_N:-5000}
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r); nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(openssl version | cut -d' ' -f1-2)"
for round in 1 2; do
  measure coring-bench "keep-alive c=100" "$keepalive_n" -- "$bench" --no-progress --cacert ca.pem -c 100 -n "$keepalive_n" "$url"
  curl_config "$keepalive_n"
  measure curl "keep-alive c=100" "$keepalive_n" -- curl -s --parallel --parallel-max 100 --parallel-immediate --cacert ca.pem -K curl.cfg
  measure coring-bench "handshakes resumed c=10" "$handshake_n" -- "$bench" --no-progress --cacert ca.pem -c 10 -n "$handshake_n" -H 'Connection: close' "$url"
  measure coring-bench "handshakes full c=10" "$handshake_n" -- "$bench" --no-progress --cacert ca.pem -c 10 -n "$handshake_n" --no-sessionid -H 'Connection: close' "$url"
  curl_config "$handshake_n" "Connection: close"
  measure curl "handshakes c=10" "$handshake_n" -- curl -s --parallel --parallel-max 10 --parallel-immediate --cacert ca.pem -K curl.cfg
done
