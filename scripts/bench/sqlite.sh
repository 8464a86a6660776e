#!/usr/bin/env bash
# Benchmark: exporting a month of detail rows from SQLite with `reportctl run`, against
# the sqlite3 CLI's CSV export of the same query, in the same run. Wall time and peak
# memory (max RSS), several repetitions, medians. Tables of 100 thousand and 2 million
# rows (the generator's data spans 214 days), plus the whole 2-million-row table to show
# that memory does not grow with the output.
#
#   scripts/bench/sqlite.sh [REPETITIONS]      (default 7)
#
# Prints a Markdown table; BENCHMARKS.md holds the latest results.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-7}
work=$(mktemp -d /tmp/reportctl-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin reportctl --example gen_events
bin=$PWD/target/release/reportctl
gen=$PWD/target/release/examples/gen_events
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing (scripts/install-test-deps.sh)" >&2; exit 1; }

echo "| table rows | exported rows | sqlite3 -csv (s) | reportctl run (s) | ratio | sqlite3 max RSS (MB) | reportctl max RSS (MB) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for rows in 100000 2000000; do
    db=$work/events-$rows.db
    "$gen" --rows "$rows" --out "$db" 2>/dev/null
    for period in month all; do
        if [ "$period" = month ]; then
            from=2026-07-01; to=2026-07-31
            where="event_time >= '2026-07-01T00:00:00Z' AND event_time < '2026-08-01T00:00:00Z'"
            pwhere="event_time >= :from AND event_time < :to"
        else
            [ "$rows" = 2000000 ] || continue
            from=2026-06-01; to=2026-12-31
            where="1"; pwhere="1"
        fi
        cols="id, event_time, event_type, event_name, storyboard, statistics_id, tags, network, site, campaign, tracker, creative, segment, country, location, os, device_type, browser, revenue"
        cat >"$work/reports.toml" <<TOML
[settings]
timezone = "UTC"
max_range_days = 366
[sources.db]
kind = "sqlite"
path = "$db"
[destinations.out]
kind = "directory"
path = "$work/out"
[[reports]]
name = "Detail"
type = "EVENTS"
source = "db"
destinations = ["out"]
query = "SELECT $cols FROM events WHERE $pwhere ORDER BY event_time, id"
[reports.schedule]
frequency = "daily"
TOML
        exported=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE $where")
        # Interleaved runs, medians: see scripts/bench/interleave.py.
        sql="SELECT $cols FROM events WHERE $where ORDER BY event_time, id"
        # The small table's runs take ~50 ms, where scheduling noise is larger: 5x the runs.
        n=$reps; [ "$rows" = 2000000 ] || n=$((reps * 5))
        python3 scripts/bench/interleave.py "$n" \
            "sqlite3=sqlite3 -csv -header -cmd $(printf '%q' ".output $work/sqlite3.csv") $(printf '%q' "$db") $(printf '%q' "$sql")" \
            "reportctl=$(printf '%q' "$bin") --config $(printf '%q' "$work/reports.toml") run Detail --from $from --to $to --output $(printf '%q' "$work/rc")" \
            >"$work/times"
        read -r _ st sm < <(grep '^sqlite3 ' "$work/times")
        read -r _ rt rm < <(grep '^reportctl ' "$work/times")
        # sqlite3 quotes fields with spaces and prints reals with 15 digits: compare values.
        python3 - "$work/sqlite3.csv" "$work/rc/EVENTS_Detail_${from//-/}_${to//-/}.csv" <<'PY' \
            || echo "warning: the two exports differ for $rows/$period" >&2
import csv, sys
a, b = (csv.reader(open(p, newline="")) for p in sys.argv[1:3])
for x, y in zip(a, b):
    if x != y and [float(u) if u.replace('.', '', 1).isdigit() else u for u in x] != [float(v) if v.replace('.', '', 1).isdigit() else v for v in y]:
        sys.exit(f"differ: {x} != {y}")
PY
        printf "| %s | %s | %.3f | %.3f | %.2f | %.1f | %.1f |\n" "$rows" "$exported" "$st" "$rt" \
            "$(echo "$rt / $st" | bc -l)" "$(echo "$sm / 1024" | bc -l)" "$(echo "$rm / 1024" | bc -l)"
    done
done
