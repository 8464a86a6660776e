#!/usr/bin/env bash
# Benchmark: the typed formats against their usual Python peers, on the events tables of
# scripts/bench/sqlite.sh (100 thousand and 2 million rows), a month of detail rows
# (July 2026: 14,486 and 289,720 rows), in the same run, interleaved, medians:
#
#   - xlsx:    reportctl (format = "xlsx") against XlsxWriter in constant-memory mode
#              reading the same rows from sqlite3;
#   - parquet: reportctl (format = "parquet", snappy) against pyarrow's ParquetWriter
#              fed from sqlite3 in batches of 100,000 rows (snappy, one row group per
#              batch, as reportctl's default row_group_rows);
#   - csv:     reportctl against `sqlite3 -csv -header`, and whether the two files are
#              byte-identical (issue 14, item 7).
#
# Then reportctl alone on the whole 2-million-row table in both typed formats (one run
# after a warm-up), to show that its memory does not grow with the rows. DuckDB's
# `COPY … TO 'x.parquet'` is not a peer here: reading SQLite needs its sqlite extension,
# which DuckDB downloads at run time (not possible on the project's machines).
#
#   scripts/bench/formats.sh [REPETITIONS]      (default 3)
#
# Needs the test venv (scripts/install-test-deps.sh: XlsxWriter, pyarrow) and sqlite3.
# Prints Markdown tables; BENCHMARKS.md holds the latest results.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
work=$(mktemp -d /tmp/reportctl-formats.XXXXXX)
trap 'rm -rf "$work"' EXIT
python=${RCTL_TEST_PYTHON:-${REPORTCTL_TOOLS:-$HOME/.cache/reportctl-tools}/venv/bin/python}
"$python" -c 'import xlsxwriter, pyarrow' || { echo "the test venv lacks XlsxWriter or pyarrow (scripts/install-test-deps.sh)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing (scripts/install-test-deps.sh)" >&2; exit 1; }

cargo build --release --quiet --bin reportctl --example gen_events
bin=$PWD/target/release/reportctl
gen=$PWD/target/release/examples/gen_events

cols="id, event_time, event_type, event_name, storyboard, statistics_id, tags, network, site, campaign, tracker, creative, segment, country, location, os, device_type, browser, revenue"

# The peers: the same query, rows from Python's sqlite3 module.
cat >"$work/xlsx_peer.py" <<'PY'
import sqlite3, sys, xlsxwriter
db, sql, out = sys.argv[1:4]
con = sqlite3.connect(db)
cur = con.execute(sql)
book = xlsxwriter.Workbook(out, {"constant_memory": True})
sheet = book.add_worksheet("EVENTS")
bold = book.add_format({"bold": True})
sheet.write_row(0, 0, [d[0] for d in cur.description], bold)
sheet.freeze_panes(1, 0)
row = 1
for r in cur:
    sheet.write_row(row, 0, r)
    row += 1
book.close()
PY
cat >"$work/parquet_peer.py" <<'PY'
import sqlite3, sys
import pyarrow as pa, pyarrow.parquet as pq
db, sql, out = sys.argv[1:4]
con = sqlite3.connect(db)
cur = con.execute(sql)
names = [d[0] for d in cur.description]
schema = pa.schema([(n, pa.int64() if n == "id" else pa.float64() if n == "revenue" else pa.string()) for n in names])
with pq.ParquetWriter(out, schema, compression="snappy") as w:
    while True:
        rows = cur.fetchmany(100_000)
        if not rows:
            break
        w.write_table(pa.Table.from_pylist([dict(zip(names, r)) for r in rows], schema=schema))
PY

# A configuration with one report per format over the table `db`.
config() {
    local db=$1 where=$2
    cat <<TOML
[settings]
timezone = "UTC"
max_range_days = 366
[sources.db]
kind = "sqlite"
path = "$db"
[destinations.out]
kind = "directory"
path = "$work/out"
TOML
    for f in csv xlsx parquet; do
        cat <<TOML
[[reports]]
name = "Detail_$f"
type = "EVENTS"
source = "db"
destinations = ["out"]
format = "$f"
query = "SELECT $cols FROM events WHERE $where ORDER BY event_time, id"
[reports.schedule]
frequency = "daily"
TOML
    done
}

q() { printf '%q' "$1"; }
mb() { echo "$1 / 1024" | bc -l; }

declare -A dbs
for rows in 100000 2000000; do
    dbs[$rows]=$work/events-$rows.db
    "$gen" --rows "$rows" --out "${dbs[$rows]}" 2>/dev/null
done

echo "### A month (July 2026), $reps interleaved runs, medians"
echo
echo "| table rows | month rows | format | peer | peer (s) | reportctl (s) | ratio | peer max RSS (MB) | reportctl max RSS (MB) | file sizes (peer / reportctl, MB) |"
echo "|---:|---:|---|---|---:|---:|---:|---:|---:|---|"
from=2026-07-01; to=2026-07-31
where="event_time >= '2026-07-01T00:00:00Z' AND event_time < '2026-08-01T00:00:00Z'"
sql="SELECT $cols FROM events WHERE $where ORDER BY event_time, id"
for rows in 100000 2000000; do
    db=${dbs[$rows]}
    config "$db" "event_time >= :from AND event_time < :to" >"$work/reports.toml"
    month=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE $where")
    run="$(q "$bin") --config $(q "$work/reports.toml") run"
    for f in csv xlsx parquet; do
        case $f in
            csv) peer="sqlite3 -csv -header"; peer_cmd="sqlite3 -csv -header -cmd $(q ".output $work/peer.csv") $(q "$db") $(q "$sql")" ;;
            xlsx) peer="XlsxWriter (constant_memory)"; peer_cmd="$(q "$python") $(q "$work/xlsx_peer.py") $(q "$db") $(q "$sql") $(q "$work/peer.xlsx")" ;;
            parquet) peer="pyarrow ParquetWriter (snappy)"; peer_cmd="$(q "$python") $(q "$work/parquet_peer.py") $(q "$db") $(q "$sql") $(q "$work/peer.parquet")" ;;
        esac
        n=$reps; [ "$rows" = 2000000 ] || n=$((reps * 3))
        rm -rf "$work/rc"
        python3 scripts/bench/interleave.py "$n" \
            "peer=$peer_cmd" \
            "reportctl=$run Detail_$f --from $from --to $to --output $(q "$work/rc")" >"$work/times"
        read -r _ pt pm < <(grep '^peer ' "$work/times")
        read -r _ rt rm < <(grep '^reportctl ' "$work/times")
        mine=$work/rc/EVENTS_Detail_${f}_${from//-/}_${to//-/}.$f
        sizes=$(printf "%.1f / %.1f" "$(echo "$(stat -c %s "$work/peer.$f") / 1048576" | bc -l)" "$(echo "$(stat -c %s "$mine") / 1048576" | bc -l)")
        printf "| %s | %s | %s | %s | %.3f | %.3f | %.2f | %.1f | %.1f | %s |\n" "$rows" "$month" "$f" "$peer" \
            "$pt" "$rt" "$(echo "$rt / $pt" | bc -l)" "$(mb "$pm")" "$(mb "$rm")" "$sizes"
        if [ "$f" = csv ]; then
            # sqlite3 before 3.4x quotes every field holding a space ("New York"), which
            # RFC 4180 does not ask for and reportctl does not do: count the lines that
            # differ as they are, once those quotes are taken off, and as parsed CSV.
            python3 - "$work/peer.csv" "$mine" "$rows" >>"$work/notes" <<'PY'
import csv, re, sys
a, b = (open(p, newline="").read().split("\n") for p in sys.argv[1:3])
unquote = lambda l: re.sub(r'"([^",\r\n]* [^",\r\n]*)"', r"\1", l)
raw = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
spaces = sum(unquote(x) != y for x, y in zip(a, b)) + abs(len(a) - len(b))
pa, pb = (list(csv.reader(open(p, newline=""))) for p in sys.argv[1:3])
parsed = sum(x != y for x, y in zip(pa, pb)) + abs(len(pa) - len(pb))
print(f"csv, {sys.argv[3]}-row table: {len(b) - 1} lines with the header; lines differing from sqlite3 -csv -header: {raw} as written, {spaces} once sqlite3's quotes around fields with a space are taken off; rows differing as parsed CSV: {parsed}")
PY
        fi
    done
done
echo
cat "$work/notes"
echo
echo "### reportctl alone, the whole 2-million-row table (one run after a warm-up)"
echo
echo "| format | rows | reportctl (s) | reportctl max RSS (MB) | file (MB) |"
echo "|---|---:|---:|---:|---:|"
config "${dbs[2000000]}" "1" >"$work/reports.toml"
for f in xlsx parquet; do
    rm -rf "$work/rc"
    python3 scripts/bench/interleave.py 1 \
        "reportctl=$(q "$bin") --config $(q "$work/reports.toml") run Detail_$f --from 2026-06-01 --to 2026-12-31 --output $(q "$work/rc")" >"$work/times"
    read -r _ rt rm < <(grep '^reportctl ' "$work/times")
    size=$(du -bc "$work"/rc/*."$f" | tail -1 | cut -f1)
    printf "| %s | 2000000 | %.3f | %.1f | %.1f |\n" "$f" "$rt" "$(mb "$rm")" "$(echo "$size / 1048576" | bc -l)"
done
