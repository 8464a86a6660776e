#!/usr/bin/env bash
# Benchmark: `run-due` with 200 reports due at once whose command source takes about a
# second each (`sleep 1`), executed side by side (`--max-parallel 8`) and one after
# another (`--max-parallel 1`), in the same run. The ideal with 8 at once is
# 200 / 8 × 1 s = 25 s; the target is within 1.3× of it.
#
#   scripts/bench/parallel.sh [REPORTS] [PARALLEL…]    (default 200; 8 1)
#
# Prints a Markdown table; BENCHMARKS.md holds the latest results.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200}
shift || true
widths=(8 1)
[ $# -eq 0 ] || widths=("$@")
work=$(mktemp -d /tmp/reportctl-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin reportctl
bin=${REPORTCTL_BIN:-$PWD/target/release/reportctl}
now=2026-11-02T12:00:00Z

# One command source that sleeps a second and prints one row; N one-time reports on it,
# all due at $now, delivered to a directory.
config() {
    printf '[settings]\ntimezone = "UTC"\n\n[sources.slow]\nkind = "command"\nprogram = "sh"\n'
    printf 'args = ["-c", "sleep 1; printf '"'"'n\\\\n1\\\\n'"'"'"]\n\n'
    printf '[destinations.out]\nkind = "directory"\npath = "out"\n'
    for i in $(seq 1 "$n"); do
        printf '\n[[reports]]\nname = "Report %04d"\ntype = "T"\nsource = "slow"\n' "$i"
        printf 'destinations = ["out"]\nquery = "SELECT 1"\n[reports.schedule]\n'
        printf 'once = 2026-11-02T06:00:00\nfrom = 2026-11-01\nto = 2026-11-01\n'
    done
}

echo "| reports | --max-parallel | wall (s) | ideal (s) | wall / ideal | files delivered | max RSS (MB) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for p in "${widths[@]}"; do
    dir=$work/p$p
    mkdir -p "$dir"
    config >"$dir/reports.toml"
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$dir/rss" "$bin" --config "$dir/reports.toml" run-due --now "$now" --max-parallel "$p"
    end=$(date +%s.%N)
    files=$(find "$dir/out" -type f | wc -l)
    python3 - "$n" "$p" "$start" "$end" "$files" "$(cat "$dir/rss")" <<'PY'
import math, sys
n, p, start, end, files, rss = sys.argv[1:]
wall = float(end) - float(start)
ideal = math.ceil(int(n) / int(p)) * 1.0
print(f"| {n} | {p} | {wall:.1f} | {ideal:.0f} | {wall / ideal:.2f} | {files} | {int(rss) / 1024:.1f} |")
PY
done
