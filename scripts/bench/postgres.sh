#!/usr/bin/env bash
# Benchmark (not a timed test): exporting a month of detail rows from a 2-million-row
# PostgreSQL table with `reportctl run`, against `psql -c "\copy (query) to stdout
# with csv header"`, in the same run on the same private server. Wall time and peak
# memory (GNU time), medians of REPS runs per variant, variants interleaved.
#
#   scripts/bench/postgres.sh            # ROWS=2000000 REPS=5 by default
#   ROWS=500000 REPS=3 scripts/bench/postgres.sh
#
# The table: examples/gen_events.rs --csv (ROWS rows over September and October
# 2026, so October is about half of them), loaded with COPY, indexed on
# (event_time, id). The query (the same for every variant):
#   SELECT * FROM events WHERE event_time >= <from> AND event_time < <to>
#   ORDER BY event_time, id
# with the October window bound as parameters by reportctl and written as literals
# for psql. Both connect over TCP to 127.0.0.1 without TLS.
#
# Variants:
#   psql \copy          psql --csv path of the server's COPY, stdout to a file
#   reportctl --output - the same rows through reportctl's source and CSV renderer,
#                        stdout to a file
#   reportctl run        the whole run: spool file (fsync, SHA-256), delivery to a
#                        directory destination, the run recorded in the ledger
#   reportctl week       the --output - variant for one week, to show memory is flat
# Prints a Markdown table (for BENCHMARKS.md) on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"
ROWS="${ROWS:-2000000}"
REPS="${REPS:-5}"

log() { echo "bench/postgres: $*" >&2; }

scripts/install-test-deps.sh 2>/dev/null
log "building (release)"
cargo build --release --quiet --bin reportctl --example gen_events
RCTL="$ROOT/target/release/reportctl"
GEN="$ROOT/target/release/examples/gen_events"

# shellcheck source=scripts/bench/pg-events.sh
. scripts/bench/pg-events.sh
W="$(mktemp -d /tmp/rctl-bench-pg.XXXXXX)"
trap 'pg_bench_cleanup "$W"' EXIT
pg_bench_server "$W"

log "generating and loading $ROWS rows"
pg_load_events "$GEN" "$W" --rows "$ROWS" --start 2026-09-01 --days 61

QUERY="SELECT * FROM events WHERE event_time >= :from AND event_time < :to ORDER BY event_time, id"
LITERAL="SELECT * FROM events WHERE event_time >= '2026-10-01T00:00:00Z' AND event_time < '2026-11-01T00:00:00Z' ORDER BY event_time, id"
mkdir -p "$W/host"
cat >"$W/host/reports.toml" <<EOF
[settings]
timezone = "UTC"

[sources.pg]
kind = "postgres"
url = "postgres://$PGUSER@127.0.0.1:$PGPORT/rctl_bench"
password = { env = "PGPASSWORD" }
sslmode = "disable"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Month Detail"
type = "EVENTS"
source = "pg"
destinations = ["out"]
query = "$QUERY"
[reports.schedule]
frequency = "monthly"
EOF

# measure NAME SHELL-COMMAND: appends "NAME wall_seconds max_rss_kb" to $W/results.
# The command ends in `exec`, so what is measured is psql or reportctl itself.
measure() {
    /usr/bin/time -f "$1 %e %M" -o "$W/time.out" sh -c "$2"
    cat "$W/time.out" >>"$W/results"
}
OCT="--from 2026-10-01 --to 2026-10-31"
PSQL_COPY="exec psql -X -q -c \"\\\\copy ($LITERAL) to stdout with csv header\" >'$W/psql.csv'"
RCTL_STDOUT="cd '$W/host' && exec '$RCTL' run 'Month Detail' $OCT --output - >'$W/rctl.csv'"
RCTL_RUN="cd '$W/host' && exec '$RCTL' run 'Month Detail' $OCT"
RCTL_WEEK="cd '$W/host' && exec '$RCTL' run 'Month Detail' --from 2026-10-01 --to 2026-10-07 --output - >'$W/week.csv'"

log "warming up"
sh -c "$PSQL_COPY"
sh -c "$RCTL_STDOUT"
: >"$W/results"
for i in $(seq "$REPS"); do
    log "round $i of $REPS"
    measure psql_copy "$PSQL_COPY"
    measure rctl_stdout "$RCTL_STDOUT"
    measure rctl_run "$RCTL_RUN"
    measure rctl_week "$RCTL_WEEK"
done

rows_psql=$(($(wc -l <"$W/psql.csv") - 1))
rows_rctl=$(($(wc -l <"$W/rctl.csv") - 1))
rows_week=$(($(wc -l <"$W/week.csv") - 1))
[ "$rows_psql" = "$rows_rctl" ] || { log "row counts differ: psql $rows_psql, reportctl $rows_rctl"; exit 1; }
bytes_psql=$(stat -c %s "$W/psql.csv")
bytes_rctl=$(stat -c %s "$W/rctl.csv")

python3 - "$W/results" "$rows_psql" "$rows_week" "$bytes_psql" "$bytes_rctl" "$ROWS" "$REPS" <<'EOF'
import statistics, sys
path, rows, week_rows, bytes_psql, bytes_rctl, total, reps = sys.argv[1:]
runs = {}
for line in open(path):
    name, wall, rss = line.split()
    runs.setdefault(name, []).append((float(wall), int(rss)))
med = {n: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for n, v in runs.items()}
base = med["psql_copy"][0]
labels = {
    "psql_copy": f"psql `\\copy (query) to stdout with csv header` > file",
    "rctl_stdout": "reportctl run --output - > file",
    "rctl_run": "reportctl run (spool, SHA-256, fsync, directory delivery, ledger)",
    "rctl_week": f"reportctl run --output - > file, one week ({int(week_rows):,} rows)",
}
print(f"{int(total):,}-row table, October = {int(rows):,} rows "
      f"(psql {int(bytes_psql)/1e6:.1f} MB, reportctl {int(bytes_rctl)/1e6:.1f} MB of CSV); "
      f"medians of {reps} runs\n")
print("| variant | wall (s) | vs psql | peak RSS (MiB) |")
print("|---|---|---|---|")
for n in ["psql_copy", "rctl_stdout", "rctl_run", "rctl_week"]:
    w, r = med[n]
    print(f"| {labels[n]} | {w:.2f} | {w / base:.2f}x | {r / 1024:.1f} |")
EOF
