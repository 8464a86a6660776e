#!/usr/bin/env bash
# Benchmark (not a timed test): a structured summary report — 3 dimensions, daily
# buckets, count and revenue sum — over a month of a 2-million-row events table, on
# SQLite and on PostgreSQL, against the same query written by hand and run by
# `sqlite3 -csv` and `psql --csv`, in the same run. Wall time and peak memory (GNU
# time), medians of REPS runs, variants interleaved.
#
#   scripts/bench/structured.sh          # ROWS=2000000 REPS=5 by default
#
# SQLite works in UTC (the hand-written query cuts the UTC text, as reportctl's
# compiled query does for a UTC report); PostgreSQL in America/New_York (the
# hand-written query gets the zone from PGTZ, as reportctl's session does).
# Prints a Markdown table (for BENCHMARKS.md) on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
ROWS="${ROWS:-2000000}"
REPS="${REPS:-5}"
log() { echo "bench/structured: $*" >&2; }

scripts/install-test-deps.sh 2>/dev/null
log "building (release)"
cargo build --release --quiet --bin reportctl --example gen_events
RCTL="$ROOT/target/release/reportctl"
GEN="$ROOT/target/release/examples/gen_events"

# shellcheck source=scripts/bench/pg-events.sh
. scripts/bench/pg-events.sh
W="$(mktemp -d /tmp/rctl-bench-st.XXXXXX)"
trap 'pg_bench_cleanup "$W"' EXIT
pg_bench_server "$W"

log "generating $ROWS rows (SQLite, and CSV loaded into PostgreSQL)"
"$GEN" --rows "$ROWS" --out "$W/events.db" 2>/dev/null
pg_load_events "$GEN" "$W" --rows "$ROWS"

SPEC='kind = "summary"
group_by = ["network", "country", "campaign"]
time_series = 24
counters = ["count", "sum:revenue"]'
MAPPING='time = "event_time"
dimensions = { network = "network", country = "country", campaign = "campaign" }
measures = { revenue = "revenue" }'
cat >"$W/reports.toml" <<TOML
[settings]
max_range_days = 366
[sources.lite]
kind = "sqlite"
path = "$W/events.db"
[sources.lite.events]
table = "events"
$MAPPING
[sources.pg]
kind = "postgres"
url = "postgres://$PGUSER@127.0.0.1:$PGPORT/rctl_bench"
password = { env = "PGPASSWORD" }
sslmode = "disable"
[sources.pg.events]
table = "events"
$MAPPING
[destinations.out]
kind = "directory"
path = "$W/out"
[[reports]]
name = "Lite"
source = "lite"
destinations = ["out"]
timezone = "UTC"
[[reports.outputs]]
type = "S"
$SPEC
[reports.schedule]
frequency = "daily"
[[reports]]
name = "Pg"
source = "pg"
destinations = ["out"]
timezone = "America/New_York"
[[reports.outputs]]
type = "S"
$SPEC
[reports.schedule]
frequency = "daily"
TOML

LITE_SQL="SELECT substr(event_time, 1, 10) AS date, network, country, campaign, count(*) AS count, round(sum(revenue), 6) AS revenue_sum
FROM events WHERE event_time >= '2026-07-01T00:00:00Z' AND event_time < '2026-08-01T00:00:00Z'
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
PG_SQL="SELECT to_char(event_time, 'YYYY-MM-DD') AS date, network, country, campaign, count(*) AS count, round(sum(revenue)::numeric, 6)::float8 AS revenue_sum
FROM events WHERE event_time >= '2026-07-01T00:00:00-04:00' AND event_time < '2026-08-01T00:00:00-04:00'
GROUP BY 1, 2, 3, 4 ORDER BY 1, network COLLATE \"C\", country COLLATE \"C\", campaign COLLATE \"C\""

# The outputs agree (values; sqlite3 and psql print reals their own way).
"$RCTL" -c "$W/reports.toml" run Lite --from 2026-07-01 --to 2026-07-31 -o - >"$W/lite.csv"
sqlite3 -csv -header "$W/events.db" "$LITE_SQL" >"$W/lite-hand.csv"
"$RCTL" -c "$W/reports.toml" run Pg --from 2026-07-01 --to 2026-07-31 -o - >"$W/pg.csv"
PGTZ=America/New_York psql -X --csv -c "$PG_SQL" >"$W/pg-hand.csv"
python3 - "$W" <<'PY'
import csv, sys
d = sys.argv[1]
def value(x):
    try:
        return round(float(x), 4)
    except ValueError:
        return x
def rows(p): return [[value(x) for x in r] for r in csv.reader(open(p))]
for a, b in (("lite.csv", "lite-hand.csv"), ("pg.csv", "pg-hand.csv")):
    ra, rb = rows(f"{d}/{a}"), rows(f"{d}/{b}")
    assert ra == rb, f"{a} and {b} differ: {len(ra)} vs {len(rb)} rows"
print(f"bench/structured: outputs agree ({len(ra) - 1} rows)", file=sys.stderr)
PY

measure() { # NAME CMD...: appends "NAME seconds kb" to $W/times
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$W/t" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
    echo "$name $(cat "$W/t")" >>"$W/times"
}
log "measuring, $REPS rounds"
for _ in $(seq "$REPS"); do
    measure sqlite3 sqlite3 -csv -header "$W/events.db" "$LITE_SQL"
    measure lite "$RCTL" -c "$W/reports.toml" run Lite --from 2026-07-01 --to 2026-07-31 -o -
    measure psql env PGTZ=America/New_York psql -X --csv -c "$PG_SQL"
    measure pg "$RCTL" -c "$W/reports.toml" run Pg --from 2026-07-01 --to 2026-07-31 -o -
done
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
stat() { awk -v n="$1" -v c="$2" '$1==n {print $c}' "$W/times" | median; }
echo "| back-end | hand-written SQL (s) | reportctl summary (s) | ratio | hand-written max RSS (MB) | reportctl max RSS (MB) |"
echo "|---|---:|---:|---:|---:|---:|"
for pair in "SQLite (UTC):sqlite3:lite" "PostgreSQL (America/New_York):psql:pg"; do
    IFS=: read -r label hand ours <<<"$pair"
    ht=$(stat "$hand" 2); ot=$(stat "$ours" 2); hm=$(stat "$hand" 3); om=$(stat "$ours" 3)
    printf "| %s | %s | %s | %.2f | %.1f | %.1f |\n" "$label" "$ht" "$ot" "$(echo "$ot / $ht" | bc -l)" \
        "$(echo "$hm / 1024" | bc -l)" "$(echo "$om / 1024" | bc -l)"
done
