#!/usr/bin/env bash
# Memory of one slot's fan-out as the recipients grow (not a test): the bursting report of
# scripts/bench/bursting.sh (recipients from a query, each partner's orders bound to
# `:id`), delivered to a directory so that no server is needed and the fan-out itself is
# what is measured. For each size: a fresh ledger, `run-due` once to record the report,
# then the timed `run-due` of the slot's N recipients, under GNU time (peak RSS, wall).
#
#   scripts/bench/fanout-memory.sh [SIZES…]    (default: 200 1000 5000 20000)
#
# REPORTCTL_BIN picks the binary (default: a release build); REPORTCTL_BENCH_PARALLEL the
# `--max-parallel` values to run each size with (default: "4 1").
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=(200 1000 5000 20000)
[ $# -eq 0 ] || SIZES=("$@")
for tool in sqlite3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "fanout-memory.sh: $tool missing" >&2; exit 1; }
done
if [ -z "${REPORTCTL_BIN:-}" ]; then
    cargo build --release --quiet --bin reportctl
fi
BIN=${REPORTCTL_BIN:-$PWD/target/release/reportctl}
# shellcheck source=scripts/bench/burst_common.sh
. scripts/bench/burst_common.sh
W=$(mktemp -d /tmp/rctl-fanout.XXXXXX)
trap 'rm -rf "$W"' EXIT

measure() { # N MAX_PARALLEL
    local n=$1 p=$2 d=$W/n$1-p$2
    mkdir -p "$d/out"
    make_db "$n" "$d/p.db"
    cat >"$d/reports.toml" <<TOML
[settings]
timezone = "UTC"
state = "$d/ledger.sqlite"
spool = "$d/spool"

[sources.db]
kind = "sqlite"
path = "$d/p.db"

[destinations.partner]
kind = "directory"
path = "$d/out/{recipient.folder}"

TOML
    burst_report '"partner"' >>"$d/reports.toml"
    "$BIN" --config "$d/reports.toml" run-due --now 2026-11-24T12:00:00Z >/dev/null
    /usr/bin/time -f "%M %e" -o "$d/time.txt" \
        "$BIN" --config "$d/reports.toml" run-due --now 2026-11-25T12:00:00Z --max-parallel "$p" >/dev/null
    local files
    files=$(find "$d/out" -type f -name '*.csv' | wc -l)
    [ "$files" -eq "$n" ] || { echo "fanout-memory.sh: $files files for $n recipients" >&2; exit 1; }
    read -r kb secs <"$d/time.txt"
    awk -v n="$n" -v p="$p" -v kb="$kb" -v s="$secs" \
        'BEGIN { printf "| %d | %d | %.1f | %.1f |\n", n, p, s, kb / 1024 }'
    rm -rf "$d"
}

echo "| recipients | max_parallel | wall (s) | peak RSS (MB) |"
echo "|---:|---:|---:|---:|"
for p in ${REPORTCTL_BENCH_PARALLEL:-4 1}; do
    for n in "${SIZES[@]}"; do measure "$n" "$p"; done
done
