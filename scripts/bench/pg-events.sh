# shellcheck shell=bash
# Sourced by the PostgreSQL benchmarks (postgres.sh, structured.sh): a private PostgreSQL
# server for one benchmark run and the events table loaded into it.
#
#   pg_bench_server DIR     start the project's PostgreSQL in DIR/servers (stopped by
#                           pg_bench_cleanup), export PG* for psql and create the
#                           database rctl_bench
#   pg_load_events GEN DIR [ARGS...]
#                           generate events with examples/gen_events (binary GEN, extra
#                           ARGS such as --rows N --start DATE --days N) as CSV in DIR,
#                           COPY it into table events, index (event_time, id), analyze
#   pg_bench_cleanup DIR    stop the server and remove DIR

pg_bench_server() {
    local dir="$1"
    chmod 755 "$dir"   # the postgres user reaches its data dir below it
    scripts/test-servers/start.sh "$dir/servers" postgres 2>"$dir/start.log" \
        || { cat "$dir/start.log" >&2; return 1; }
    set -a
    # shellcheck disable=SC1091
    . "$dir/servers/servers.env"
    set +a
    export PGHOST=127.0.0.1 PGPORT="$RCTL_TEST_PG_PORT" PGUSER="$RCTL_TEST_PG_USER" \
        PGPASSWORD="$RCTL_TEST_PG_PASSWORD" PGSSLMODE=disable PGDATABASE=rctl_bench
    psql -X -q -d "$RCTL_TEST_PG_DB" -c "CREATE DATABASE rctl_bench"
}

pg_load_events() {
    local gen="$1" dir="$2"
    shift 2
    "$gen" "$@" --csv --out "$dir/events.csv" 2>/dev/null
    psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE events (
    id bigint PRIMARY KEY, event_time timestamptz NOT NULL, event_type text NOT NULL,
    event_name text, storyboard text NOT NULL, statistics_id text NOT NULL,
    tags text NOT NULL, network text NOT NULL, site text NOT NULL, campaign text NOT NULL,
    tracker text NOT NULL, creative text NOT NULL, segment text NOT NULL,
    country text NOT NULL, location text NOT NULL, os text NOT NULL,
    device_type text NOT NULL, browser text NOT NULL, revenue double precision);
\copy events FROM '$dir/events.csv' WITH (FORMAT csv, HEADER)
CREATE INDEX events_time ON events (event_time, id);
VACUUM ANALYZE events;
SQL
    rm -f "$dir/events.csv"
}

pg_bench_cleanup() {
    scripts/test-servers/stop.sh "$1/servers" >/dev/null 2>&1 || true
    rm -rf "$1"
}
