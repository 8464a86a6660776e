#!/usr/bin/env bash
# Benchmark: the size of the release binary, and the time a clean build of it takes on
# this machine, for a few profile variants; ripgrep's binary beside them as a peer.
#
#   scripts/bench/size.sh [VARIANT...]        (default: every variant below)
#   scripts/bench/size.sh --table             (only rewrite the section from kept results)
#
# Each variant builds from scratch (`cargo build --release --locked`, `nice -n 10`) into
# its own target directory, $SIZE_TARGETS/VARIANT (default target/size-bench/VARIANT,
# kept: a second run of the same variant reuses it and its time is then marked
# "reused"; delete the directory for a clean time). The profile of each variant is set
# entirely by CARGO_PROFILE_RELEASE_* variables, so the variants do not depend on what
# Cargo.toml's [profile.release] holds at the time. Variant `before` builds the commit
# $SIZE_BASE_REV (default 12fbf1f, before the AWS SDK was moved from aws-lc-rs to ring)
# from `git archive` with that commit's own release profile: the effect of dropping the
# second TLS/crypto stack.
#
# One result file per variant is kept in $SIZE_TARGETS/results; the section
# "Release binary size" of BENCHMARKS.md is rewritten from all of them (between the
# markers <!-- size.sh begin --> and <!-- size.sh end -->), so variants can be measured
# one at a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
targets=${SIZE_TARGETS:-$root/target/size-bench}
base_rev=${SIZE_BASE_REV:-12fbf1f}
results=$targets/results
mkdir -p "$results"

# name | what the table says | CARGO_PROFILE_RELEASE_* settings (KEY=VALUE, space-separated)
variants='before|commit before this change: debug = "line-tables-only", aws-lc-rs and ring|
plain|debug = false, strip = true (opt-level 3, 16 codegen units, no LTO)|DEBUG=false STRIP=true
thin|plain + lto = "thin"|DEBUG=false STRIP=true LTO=thin
fat1|plain + lto = "fat", codegen-units = 1|DEBUG=false STRIP=true LTO=fat CODEGEN_UNITS=1
fat1-s|fat1 + opt-level = "s"|DEBUG=false STRIP=true LTO=fat CODEGEN_UNITS=1 OPT_LEVEL=s
fat1-abort|fat1 + panic = "abort"|DEBUG=false STRIP=true LTO=fat CODEGEN_UNITS=1 PANIC=abort'

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

build_variant() { # name description settings
    local name="$1" desc="$2" settings="$3" dir="$targets/$1" src="$root" reused=no
    [ -d "$dir/release" ] && reused=yes
    mkdir -p "$dir"
    local env=(CARGO_TARGET_DIR="$dir")
    for kv in $settings; do env+=("CARGO_PROFILE_RELEASE_$kv"); done
    if [ "$name" = before ]; then
        src=$dir/src
        rm -rf "$src" && mkdir -p "$src"
        git archive "$base_rev" | tar -x -C "$src"
        # This tree's static OpenSSL settings, so that only the TLS stacks differ.
        cp -r .cargo "$src/"
    fi
    echo "size.sh: building $name ($desc)" >&2
    local start end
    start=$(date +%s)
    (cd "$src" && env "${env[@]}" nice -n 10 cargo build --release --locked --quiet --bin reportctl)
    end=$(date +%s)
    local bin=$dir/release/reportctl size stripped
    size=$(stat -c %s "$bin")
    strip -o "$dir/reportctl.stripped" "$bin"
    stripped=$(stat -c %s "$dir/reportctl.stripped")
    local secs=$((end - start))
    [ "$reused" = yes ] && secs="$secs (reused)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$desc" "$size" "$stripped" "$secs" >"$results/$name.tsv"
}

selected=("$@")
if [ "${1:-}" = --table ]; then
    selected=()
elif [ ${#selected[@]} -eq 0 ]; then
    mapfile -t selected < <(cut -d'|' -f1 <<<"$variants")
fi
for want in ${selected[@]+"${selected[@]}"}; do
    line=$(grep "^$want|" <<<"$variants") || { echo "size.sh: unknown variant $want" >&2; exit 2; }
    IFS='|' read -r name desc settings <<<"$line"
    build_variant "$name" "$desc" "$settings"
done

table() {
    echo "| variant | profile | binary (MiB) | stripped (MiB) | clean build (s) |"
    echo "|---|---|---:|---:|---:|"
    while IFS='|' read -r name _ _; do
        [ -f "$results/$name.tsv" ] || continue
        IFS=$'\t' read -r n desc size stripped secs <"$results/$name.tsv"
        echo "| $n | $desc | $(mib "$size") | $(mib "$stripped") | $secs |"
    done <<<"$variants"
    if command -v rg >/dev/null; then
        local rg size
        rg=$(command -v rg)
        size=$(stat -c %s "$(readlink -f "$rg")")
        echo "| peer: ripgrep $(rg --version | head -1 | cut -d' ' -f2) | Debian's package ($rg) | $(mib "$size") | $(mib "$size") | – |"
    fi
}

section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
    echo "<!-- size.sh begin -->"
    echo "## Release binary size"
    echo
    echo '```sh'
    echo 'scripts/bench/size.sh                 # every variant; or name some: size.sh plain fat1'
    echo '```'
    echo
    echo "Clean builds of \`reportctl\` (\`cargo build --release --locked\`, \`nice -n 10\`, one"
    echo "variant after the other, $(nproc) cores; other builds may have shared them), OpenSSL"
    echo "linked statically in every variant. \"stripped\" is \`strip\` run on the binary."
    echo "Measured on $(date -u +%Y-%m-%d)."
    echo
    table
    echo "<!-- size.sh end -->"
} >"$section"
cat "$section"
python3 - "$root/BENCHMARKS.md" "$section" <<'EOF'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(path).read()
pattern = re.compile(r"<!-- size.sh begin -->.*?<!-- size.sh end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
EOF
