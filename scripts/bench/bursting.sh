#!/usr/bin/env bash
# Bursting benchmark (not a test): one report with recipients from a query, one slot,
# each partner's own CSV by mail (loopback SMTP, STARTTLS + AUTH) and by SFTP (its own
# folder on the loopback sshd), against a shell loop doing the same with standard tools:
# for each partner `sqlite3 -csv -header` writes its file, `curl --mail-rcpt` sends a
# MIME message built with a here-doc and base64, OpenSSH `sftp -b` uploads the file.
#
#   scripts/bench/bursting.sh [LOOP_N] [SIZES…]      (defaults: 1000; 100 1000 5000; root)
#
# reportctl runs `run-due` once per size (SIZES recipients; at LOOP_N recipients once per
# `--max-parallel` value in REPORTCTL_BENCH_PARALLEL, e.g. "1 default", when it is set);
# the loop runs once, with LOOP_N partners (0: skip it), right after reportctl's run of
# the same size.
# Measured for each: wall time, peak RSS (GNU time -v: the largest process, for the
# loop its largest child), and connections opened, counted on the servers' side: SMTP
# sessions are the "handling connection" lines aiosmtpd logs in smtpd.log, SSH sessions
# the "Accepted publickey" lines sshd logs (LogLevel VERBOSE) in sshd.log, each counted
# before and after the run. Every run is checked: one mail per partner in the Maildir,
# one file in each partner's folder. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LOOP_N=${1:-1000}
shift || true
SIZES=(100 1000 5000)
[ $# -eq 0 ] || SIZES=("$@")

[ "$(id -u)" -eq 0 ] || { echo "bursting.sh: must run as root (test servers)" >&2; exit 2; }
log() { echo "bursting.sh: $*" >&2; }
for tool in sqlite3 curl sftp base64 /usr/bin/time; do
    command -v "$tool" >/dev/null || { log "$tool missing (scripts/install-test-deps.sh)"; exit 1; }
done

if [ -z "${REPORTCTL_BIN:-}" ]; then
    log "building reportctl (release)"
    cargo build --release --quiet --bin reportctl
fi
BIN=${REPORTCTL_BIN:-$ROOT/target/release/reportctl}

W=$(mktemp -d /tmp/rctl-burst.XXXXXX)
chmod a+x "$W"
cleanup() {
    scripts/test-servers/stop.sh "$W/servers" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
scripts/test-servers/start.sh "$W/servers" sshd smtp 2>/dev/null
set -a
# shellcheck disable=SC1091
. "$W/servers/servers.env"
set +a
SMTP_LOG=$W/servers/smtp/smtpd.log
SSHD_LOG=$W/servers/sshd/sshd.log
MAILDIR=$RCTL_TEST_SMTP_MAILDIR

# ------------------------------------------------------------------ data
# shellcheck source=scripts/bench/burst_common.sh
. scripts/bench/burst_common.sh

# ------------------------------------------------------------------ reportctl
config() { # DIR DB REMOTE
    cat <<EOF
[settings]
timezone = "UTC"
state = "$1/ledger.sqlite"
spool = "$1/spool"

[settings.smtp]
host = "127.0.0.1"
port = $RCTL_TEST_SMTP_PORT
user = "$RCTL_TEST_SMTP_USER"
password = { env = "RCTL_TEST_SMTP_PASSWORD" }
ca_file = "$RCTL_TEST_SMTP_CA"
from = "Reports <reports@example.com>"

[sources.db]
kind = "sqlite"
path = "$2"

[destinations.mail]
kind = "email"
to = ["{recipient.email}"]
subject = "Orders of {recipient.id}"

[destinations.partner]
kind = "sftp"
host = "127.0.0.1"
port = $RCTL_TEST_SSHD_PORT
user = "$RCTL_TEST_SSHD_USER"
path = "$3/{recipient.folder}"
known_hosts = "$RCTL_TEST_SSHD_KNOWN_HOSTS"
key_file = "$RCTL_TEST_SSHD_KEY"
create_dirs = true

EOF
    burst_report '"mail", "partner"'
}

count() { grep -c "$1" "$2" || true; }
mails() { find "$MAILDIR/new" -type f | wc -l; }
elapsed() { # GNU time -v's "Elapsed (wall clock)" line in seconds
    sed -n 's/.*Elapsed (wall clock).*: //p' "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}
peak_mb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1" | awk '{ printf "%.1f", $1 / 1024 }'; }

# measure NAME N REMOTE CMD…: runs CMD under GNU time -v and prints a table row; checks
# that N mails arrived and that each of N folders under REMOTE got one file.
measure() {
    local name=$1 n=$2 remote=$3 smtp0 ssh0 mail0 t
    shift 3
    smtp0=$(count "handling connection" "$SMTP_LOG")
    ssh0=$(count "Accepted publickey" "$SSHD_LOG")
    mail0=$(mails)
    t=$W/time.txt
    /usr/bin/time -v -o "$t" "$@" >"$W/out.txt" 2>"$W/err.txt" \
        || { log "$name failed:"; tail -20 "$W/err.txt" >&2; exit 1; }
    local got_mail got_files smtp ssh
    got_mail=$(( $(mails) - mail0 ))
    got_files=$(find "$remote" -mindepth 2 -type f -name '*.csv' | wc -l)
    [ "$got_mail" -eq "$n" ] && [ "$got_files" -eq "$n" ] \
        || { log "$name: $got_mail mails, $got_files files, expected $n each"; tail -20 "$W/err.txt" >&2; exit 1; }
    smtp=$(( $(count "handling connection" "$SMTP_LOG") - smtp0 ))
    ssh=$(( $(count "Accepted publickey" "$SSHD_LOG") - ssh0 ))
    awk -v name="$name" -v n="$n" -v w="$(elapsed "$t")" -v rss="$(peak_mb "$t")" -v smtp="$smtp" -v ssh="$ssh" \
        'BEGIN { printf "| %s | %d | %.1f | %.1f | %.1f | %d | %d |\n", name, n, w, w * 1000 / n, rss, smtp, ssh }'
    rm -rf "$MAILDIR/new"/*
}

# run_reportctl N [MAX_PARALLEL]: a fresh ledger, the report first seen on the 24th, then
# run-due on the 25th after 06:00: one slot (window: the 23rd), N recipients.
run_reportctl() {
    local n=$1 mode=${2:-} d=$W/rctl-$1-${2:-seq} flag=() label="reportctl"
    mkdir -p "$d"
    local remote=$RCTL_TEST_SSHD_ROOT/${d##*/}
    mkdir -p "$remote" && chown "$RCTL_TEST_SSHD_USER:" "$remote"
    config "$d" "$W/partners-$n.db" "$remote" >"$d/reports.toml"
    "$BIN" --config "$d/reports.toml" validate >/dev/null
    "$BIN" --config "$d/reports.toml" run-due --now 2026-11-24T12:00:00Z >/dev/null
    if [ -n "$mode" ]; then
        label="reportctl, max_parallel $mode"
        [ "$mode" = default ] || flag=(--max-parallel "$mode")
    fi
    measure "$label" "$n" "$remote" \
        "$BIN" --config "$d/reports.toml" run-due --now 2026-11-25T12:00:00Z "${flag[@]}"
    rm -rf "$remote" "$d"
}

# ------------------------------------------------------------------ the shell loop
cat >"$W/loop.sh" <<'LOOP'
#!/usr/bin/env bash
# loop.sh DB OUT REMOTE CURL_CONFIG: what a cron job without reportctl would do.
set -euo pipefail
db=$1 out=$2 remote=$3 curlrc=$4
mkdir -p "$out"
sqlite3 -csv "$db" "SELECT id, email, folder FROM partners ORDER BY id" |
while IFS=, read -r id email folder; do
    name=ORDERS_${id}_20261123.csv
    file=$out/$name
    sqlite3 -csv -header "$db" ".param set :id $id" \
        "SELECT partner_id, day, amount FROM orders WHERE partner_id = :id AND day >= '2026-11-23' AND day <= '2026-11-23' ORDER BY amount" >"$file"
    printf -v date '%(%a, %d %b %Y %H:%M:%S %z)T' -1
    cat >"$out/msg.eml" <<EOF
From: Reports <reports@example.com>
To: $email
Subject: Orders of $id
Date: $date
Message-ID: <$id.$EPOCHREALTIME@bench.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="rctl-bench"

--rctl-bench
Content-Type: text/plain; charset=utf-8

Orders of $id attached.

--rctl-bench
Content-Type: text/csv; name="$name"
Content-Disposition: attachment; filename="$name"
Content-Transfer-Encoding: base64

$(base64 "$file")
--rctl-bench--
EOF
    curl -sS -K "$curlrc" --mail-rcpt "$email" --upload-file "$out/msg.eml"
    sftp -q -b - -P "$RCTL_TEST_SSHD_PORT" -i "$RCTL_TEST_SSHD_KEY" -o BatchMode=yes \
        -o UserKnownHostsFile="$RCTL_TEST_SSHD_KNOWN_HOSTS" "$RCTL_TEST_SSHD_USER@127.0.0.1" >/dev/null <<EOF
-mkdir $remote/$folder
put $file $remote/$folder/$name
EOF
done
LOOP
# curl's options with the SMTP password, in a file (not on a command line).
( umask 077; cat >"$W/curlrc" <<EOF
url = "smtp://127.0.0.1:$RCTL_TEST_SMTP_PORT"
ssl-reqd
cacert = "$RCTL_TEST_SMTP_CA"
user = "$RCTL_TEST_SMTP_USER:$RCTL_TEST_SMTP_PASSWORD"
mail-from = "reports@example.com"
EOF
)

run_loop() { # N
    local n=$1 remote=$RCTL_TEST_SSHD_ROOT/loop-$1
    mkdir -p "$remote" && chown "$RCTL_TEST_SSHD_USER:" "$remote"
    measure "shell loop (sqlite3 + curl + sftp)" "$n" "$remote" \
        bash "$W/loop.sh" "$W/partners-$n.db" "$W/loop-out-$n" "$remote" "$W/curlrc"
    rm -rf "$remote" "$W/loop-out-$n"
}

# ------------------------------------------------------------------ run
for n in "${SIZES[@]}" "$LOOP_N"; do
    [ "$n" -gt 0 ] && [ ! -f "$W/partners-$n.db" ] && make_db "$n" "$W/partners-$n.db"
done
log "reportctl $("$BIN" --version | head -1); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| run | recipients | wall (s) | per recipient (ms) | peak RSS (MB) | SMTP connections | SSH sessions |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for n in "${SIZES[@]}"; do
    if [ "$n" -eq "$LOOP_N" ] && [ -n "${REPORTCTL_BENCH_PARALLEL:-}" ]; then
        for mode in $REPORTCTL_BENCH_PARALLEL; do run_reportctl "$n" "$mode"; done
    else
        run_reportctl "$n"
    fi
    if [ "$n" -eq "$LOOP_N" ]; then run_loop "$LOOP_N"; LOOP_N=0; fi
done
[ "$LOOP_N" -eq 0 ] || run_loop "$LOOP_N"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
