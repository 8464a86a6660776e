#!/usr/bin/env bash
# Benchmark: the commands that read every report (`validate`, `list`, `plan --count 1`,
# `run-due` with nothing due) on configurations of 1,000, 10,000 and 100,000 reports,
# and `run-due` with nothing due on a ledger holding 1 million recorded runs. As a floor,
# in the same run: python3's tomllib parsing the same file (what any tool that reads the
# configuration must at least pay).
#
#   scripts/bench/many_reports.sh [REPETITIONS] [SIZES…]    (default 9; 1000 10000 100000)
#
# Prints a Markdown table; BENCHMARKS.md holds the latest results.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-9}
shift || true
sizes=(1000 10000 100000)
[ $# -eq 0 ] || sizes=("$@")
work=$(mktemp -d /tmp/reportctl-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin reportctl
bin=${REPORTCTL_BIN:-$PWD/target/release/reportctl}
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing (scripts/install-test-deps.sh)" >&2; exit 1; }
here=$PWD/scripts/bench
printf 'import sys, tomllib\nwith open(sys.argv[1], "rb") as f:\n    tomllib.load(f)\n' >"$work/floor.py"

# No slot of any generated report falls on this instant (its seconds are not 0), so
# run-due at it after the reports were first seen at it finds nothing due.
now=2026-11-25T00:10:17Z
runs=1000000

echo "| reports | ledger runs | command | median (ms) | per report (µs) | max RSS (MB) |"
echo "|---:|---:|---|---:|---:|---:|"
for n in "${sizes[@]}"; do
    dir=$work/$n
    mkdir -p "$dir"
    python3 "$here/gen_many_reports.py" "$n" "$dir"
    # validate checks the file is a database and prepares each query on it (no query runs).
    sqlite3 "$dir/events.db" "CREATE TABLE events (t TEXT NOT NULL)"
    cfg=$dir/reports.toml
    rc="$bin --config $cfg"
    # First sight: every report recorded in the ledger at $now, nothing due.
    $rc run-due --now "$now"
    results=$(python3 "$here/interleave.py" "$reps" \
        "tomllib=python3 $work/floor.py $cfg" \
        "validate=$rc validate" \
        "list=$rc list --now $now" \
        "plan=$rc plan --count 1 --now $now" \
        "run-due=$rc run-due --now $now")
    # The same reports with 1 million past runs in the ledger (completed, one an hour
    # back from $now, spread over the reports), inserted in one transaction in the
    # ledger's own schema.
    per=$(( (runs + n - 1) / n ))
    sqlite3 "$dir/.reportctl/ledger.sqlite" <<SQL
BEGIN;
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < $per),
slots AS (
    SELECT r.name AS report, j,
           strftime('%Y-%m-%dT%H:%M:%fZ', unixepoch('$now') - j * 3600 - 17, 'unixepoch') AS at,
           strftime('%Y-%m-%dT%H:%M:%fZ', unixepoch('$now') - j * 3600 - 17 - 86400, 'unixepoch') AS since
    FROM reports r, k
)
INSERT INTO runs (token, report, kind, slot_at, run_at, window_from, window_to, status,
                  detail, attempts, max_attempts, created_at, updated_at, started_at, finished_at)
SELECT 'bench-' || report || '-' || j, report, 'scheduled', at, at, since, at, 'completed',
       '', 1, 5, at, at, at, at
FROM slots LIMIT $runs;
COMMIT;
SQL
    recorded=$(sqlite3 "$dir/.reportctl/ledger.sqlite" "SELECT count(*) FROM runs")
    results+=$'\n'$(python3 "$here/interleave.py" "$reps" \
        "run-due-history=$rc run-due --now $now" | sed "s/^/$recorded /")
    while read -r a b c d; do
        if [ -z "$d" ]; then history=0; name=$a; wall=$b; rss=$c; else history=$a; name=$b; wall=$c; rss=$d; fi
        awk -v n="$n" -v h="$history" -v name="${name%-history}" -v w="$wall" -v r="$rss" \
            'BEGIN { printf "| %d | %d | %s | %.1f | %.2f | %.1f |\n", n, h, name, w * 1000, w * 1e6 / n, r / 1024 }'
    done <<<"$results"
done
