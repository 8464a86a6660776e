#!/usr/bin/env bash
# Benchmark of `reportctl serve` against nginx serving the same file statically, in the
# same run, on 127.0.0.1, with wrk and 64 concurrent connections:
#   1. download throughput of one report file through a signed link (nginx: the same
#      file, sendfile on);
#   2. requests per second of a small listing, GET /reports/{id} with the API key
#      (nginx: a static file of the same size, for reference).
#
#   scripts/bench/serve.sh [SIZE_MB] [SECONDS]      (defaults: 10 MB, 10 s per run)
#
# Needs wrk and nginx (scripts/install-test-deps.sh installs them). nginx runs as a
# private instance (own config, port, pid and log files in a temporary directory); the
# system nginx is never touched. Both servers log every request to a file. Prints a
# Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE_MB="${1:-10}"
SECONDS_PER_RUN="${2:-10}"
CONNECTIONS=64
THREADS=2

command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/install-test-deps.sh)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench: nginx is missing (scripts/install-test-deps.sh)" >&2; exit 1; }

# BENCH_BIN=target/debug/reportctl skips the release build (a quick trial of the script).
if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$(realpath "$BENCH_BIN")
else
    cargo build --release --quiet
    BIN="$PWD/target/release/reportctl"
fi

# shellcheck source=scripts/bench/serve_common.sh
. scripts/bench/serve_common.sh
RC_PORT=$(free_port)
NGINX_PORT=$(free_port)
pickup_report "$SIZE_MB" "max_connections = 4096
# wrk's connections all come from 127.0.0.1.
max_connections_per_client = 4096"
start_serve "$RC_PORT"

LISTING="http://127.0.0.1:$RC_PORT/reports/Bench_Export"
curl -sf -H "X-API-Key: $BENCH_API_KEY" "$LISTING" > "$WORK/listing.json"
LINK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["links"][0]["url"])' "$WORK/listing.json")

# nginx: the same file, and a static copy of the listing.
mkdir -p "$WORK/nginx/www" "$WORK/nginx/tmp"
cp "$WORK/listing.json" "$WORK/nginx/www/listing.json"
cat > "$WORK/nginx/nginx.conf" <<CONF
# The pickup store is owner-only: the workers read it as the user that starts nginx.
user $(id -un);
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log $WORK/nginx/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    types { text/csv csv; application/json json; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /file.csv { alias "$FILE"; }
        location / { root "$WORK/nginx/www"; }
    }
}
CONF
start_nginx "http://127.0.0.1:$NGINX_PORT/listing.json"

# Same bytes from both.
cmp <(curl -sf "$LINK") <(curl -sf "http://127.0.0.1:$NGINX_PORT/file.csv")

WRK_LUA="$WORK/key.lua"
cat > "$WRK_LUA" <<LUA
wrk.headers["X-API-Key"] = "$BENCH_API_KEY"
LUA

bench() { # name url [lua]
    local name="$1" url="$2" lua="${3:-}"
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 30s --latency ${lua:+-s "$lua"} "$url")
    echo "$out" > "$WORK/$name.wrk"
    local rps tput non2xx errors p50 p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    tput=$(awk '/^Transfer\/sec:/ {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    errors=$(awk '/Socket errors:/ {sub(/^ *Socket errors: */, ""); print}' <<<"$out")
    printf '%s|%s|%s|%s|%s|%s|%s\n' "$name" "$rps" "$tput" "$p50" "$p99" "${non2xx:-0}" "${errors:-none}"
}

to_mb() { # wrk's "1.23GB" / "456.7MB" / "12KB" -> MB/s number
    python3 -c '
import sys, re
v = sys.argv[1]
m = re.match(r"([0-9.]+)([KMG]?B)", v)
n, u = float(m.group(1)), m.group(2)
print(n * {"B": 1/1048576, "KB": 1/1024, "MB": 1, "GB": 1024}[u])' "$1"
}

echo "bench: file $BYTES bytes, $CONNECTIONS connections, $THREADS wrk threads, ${SECONDS_PER_RUN}s per run, $(nproc) CPUs" >&2
results=()
results+=("$(bench nginx-file "http://127.0.0.1:$NGINX_PORT/file.csv")")
results+=("$(bench reportctl-file "$LINK")")
results+=("$(bench nginx-listing "http://127.0.0.1:$NGINX_PORT/listing.json")")
results+=("$(bench reportctl-listing "$LISTING" "$WRK_LUA")")

echo
echo "| run | requests/s | transfer/s | latency p50 | latency p99 | non-2xx | socket errors |"
echo "|---|---|---|---|---|---|---|"
for r in "${results[@]}"; do
    IFS='|' read -r name rps tput p50 p99 non2xx errors <<<"$r"
    echo "| $name | $rps | $tput | $p50 | $p99 | $non2xx | $errors |"
done
nginx_file=$(to_mb "$(cut -d'|' -f3 <<<"${results[0]}")")
rc_file=$(to_mb "$(cut -d'|' -f3 <<<"${results[1]}")")
ratio=$(python3 -c "print(f'{$rc_file / $nginx_file:.2f}')")
echo
echo "reportctl/nginx file throughput: $ratio (listing: $(wc -c < "$WORK/listing.json") bytes)"
echo "log lines: reportctl $(grep -c '" 200 ' "$WORK/serve.log"), nginx $(wc -l < "$WORK/nginx/access.log")" >&2
