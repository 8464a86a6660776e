# shellcheck shell=bash
# Shared by scripts/bench/serve.sh and serve_stall.sh (sourced, after `cd` to the
# repository): a work directory cleaned up on exit, free ports, a pickup report of
# about SIZE_MB, and starting `reportctl serve` and a private nginx on it.

WORK=$(mktemp -d /tmp/reportctl-bench.XXXXXX)
SERVE_PID=""
NGINX_PID=""
cleanup() {
    if [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null; then
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    if [ -n "$NGINX_PID" ]; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
    fi
    sleep 0.2
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export BENCH_API_KEY="bench-api-key" BENCH_LINK_SECRET="bench-link-secret-0123456789abcdef0123"

# pickup_report SIZE_MB SERVE_LINES: the report "Bench Export" (rows of ~100 bytes, about
# SIZE_MB) delivered to the pickup store $WORK/store, with SERVE_LINES added to
# [serve]; sets FILE (its path) and BYTES.
pickup_report() {
    local rows=$(( $1 * 1024 * 1024 / 100 ))
    echo "create table t(x);" > "$WORK/init.sql"
    cat > "$WORK/reports.toml" <<TOML
[settings]
timezone = "UTC"
[sources.gen]
kind = "sqlite"
init = ["init.sql"]
[destinations.api]
kind = "pickup"
path = "store"
[serve]
api_key = { env = "BENCH_API_KEY" }
link_secret = { env = "BENCH_LINK_SECRET" }
$2
[[reports]]
name = "Bench Export"
type = "ROWS"
source = "gen"
destinations = ["api"]
query = """
with recursive n(i) as (select 1 union all select i + 1 from n where i < $rows)
select i, printf('%090d', i) as pad from n
"""
[reports.schedule]
frequency = "daily"
TOML
    "$BIN" --config "$WORK/reports.toml" run "Bench Export" >/dev/null
    FILE=$(find "$WORK/store/Bench_Export" -name '*.csv' | head -n1)
    BYTES=$(stat -c %s "$FILE")
}

# start_serve PORT: `reportctl serve` on 127.0.0.1:PORT, logging to $WORK/serve.log.
start_serve() {
    "$BIN" --config "$WORK/reports.toml" serve --listen "127.0.0.1:$1" 2> "$WORK/serve.log" &
    SERVE_PID=$!
    for _ in $(seq 50); do grep -q "listening on" "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
}

# start_nginx URL: the private nginx of $WORK/nginx/nginx.conf, once URL answers.
start_nginx() {
    "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
    NGINX_PID=$!
    for _ in $(seq 50); do curl -sf -o /dev/null "$1" && break; sleep 0.1; done
}
