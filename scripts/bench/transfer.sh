#!/usr/bin/env bash
# Transfer benchmark (not a test): one report of about 256 MB uploaded side by side by
#   - reportctl's SFTP destination and OpenSSH's sftp client, over loopback and over a
#     link with a 25 ms round-trip time;
#   - reportctl's S3 destination and the aws CLI, to s3s-fs over loopback.
#
#   scripts/bench/transfer.sh [SIZE_MB] [ROUNDS]      (defaults: 256 3; needs root)
#
# Each reportctl run renders the report first (not timed); the time is the delivery
# alone as reportctl -v reports it: connect, log in, upload, fsync, size check and
# rename for SFTP; upload, size check and presigned link for S3. The reference clients
# are timed as whole commands (connect, log in, upload). Each figure is the median of
# ROUNDS, the two sides alternating.
#
# The 25 ms link: a network namespace reached over a veth pair with `tc netem delay`,
# or, when the kernel has no sch_netem, over a pair of TUN devices joined by a
# user-space delay line (scripts/bench/delay_line.py) that holds every packet for half
# the round-trip time in each direction. Either way TCP sees a real 25 ms RTT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SIZE_MB=${1:-256}
ROUNDS=${2:-3}
RTT_MS=${RCTL_BENCH_RTT_MS:-25}
NS=rctlbench$$
NS_ADDR=10.77.0.2
HOST_ADDR=10.77.0.1

[ "$(id -u)" -eq 0 ] || { echo "transfer.sh: must run as root (network namespace)" >&2; exit 2; }
log() { echo "transfer.sh: $*" >&2; }

scripts/install-test-deps.sh 2>/dev/null
log "building reportctl (release)"
cargo build --release --quiet
BIN=$ROOT/target/release/reportctl

W=$(mktemp -d /tmp/rctl-bench.XXXXXX)
chmod a+x "$W"   # the test user and sshd reach files under it
DELAY_PID=""
cleanup() {
    if [ -f "$W/nssshd/sshd.pid" ]; then kill "$(cat "$W/nssshd/sshd.pid")" 2>/dev/null || true; fi
    if [ -n "$DELAY_PID" ]; then kill "$DELAY_PID" 2>/dev/null || true; fi
    ip netns del "$NS" 2>/dev/null || true
    ip link del rbveth0 2>/dev/null || true
    scripts/test-servers/stop.sh "$W/servers" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
scripts/test-servers/start.sh "$W/servers" sshd s3 2>/dev/null
set -a
# shellcheck disable=SC1091
. "$W/servers/servers.env"
set +a

# ------------------------------------------------------------------ the 25 ms link
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
HALF=$(awk "BEGIN { print $RTT_MS / 2 }")
ip link add rbveth0 type veth peer name rbveth1
if tc qdisc add dev rbveth0 root netem delay "${HALF}ms" limit 100000 2>/dev/null; then
    LINK="veth pair with tc netem delay ${HALF} ms each way"
    ip link set rbveth1 netns "$NS"
    ip addr add "$HOST_ADDR/30" dev rbveth0
    ip link set rbveth0 up
    ip netns exec "$NS" ip addr add "$NS_ADDR/30" dev rbveth1
    ip netns exec "$NS" ip link set rbveth1 up
    ip netns exec "$NS" tc qdisc add dev rbveth1 root netem delay "${HALF}ms" limit 100000
else
    ip link del rbveth0
    LINK="TUN pair joined by a user-space delay line, ${HALF} ms each way (this kernel has no sch_netem)"
    setsid "$RCTL_TEST_PYTHON" scripts/bench/delay_line.py rbtun0 rbtun1 "$HALF" "$W/delay.ready" \
        </dev/null >"$W/delay.log" 2>&1 &
    DELAY_PID=$!
    for _ in $(seq 1 50); do [ -f "$W/delay.ready" ] && break; sleep 0.1; done
    [ -f "$W/delay.ready" ] || { cat "$W/delay.log" >&2; exit 1; }
    ip link set rbtun1 netns "$NS"
    ip addr add "$HOST_ADDR" peer "$NS_ADDR" dev rbtun0
    ip link set rbtun0 mtu 65000 txqueuelen 10000 up
    ip netns exec "$NS" ip addr add "$NS_ADDR" peer "$HOST_ADDR" dev rbtun1
    ip netns exec "$NS" ip link set rbtun1 mtu 65000 txqueuelen 10000 up
fi

# An sshd inside the namespace: the test sshd's configuration, keys and user.
mkdir -p "$W/nssshd"
sed -e "s|^ListenAddress .*|ListenAddress $NS_ADDR|" -e "s|^Port .*|Port 2222|" \
    -e "s|^PidFile .*|PidFile $W/nssshd/sshd.pid|" \
    "$W/servers/sshd/sshd_config" >"$W/nssshd/sshd_config"
ip netns exec "$NS" /usr/sbin/sshd -f "$W/nssshd/sshd_config" -E "$W/nssshd/sshd.log"
for _ in $(seq 1 100); do
    ssh-keyscan -T 2 -t ed25519 -p 2222 "$NS_ADDR" 2>/dev/null | grep -v '^#' >"$W/nssshd/known_hosts" || true
    [ -s "$W/nssshd/known_hosts" ] && break
    sleep 0.1
done
[ -s "$W/nssshd/known_hosts" ] || { log "sshd in the namespace did not answer"; cat "$W/nssshd/sshd.log" >&2; exit 1; }
MEASURED_RTT=$("$RCTL_TEST_PYTHON" -c "
import socket, time
best = 1e9
for _ in range(5):
    t = time.perf_counter(); s = socket.create_connection(('$NS_ADDR', 2222)); best = min(best, time.perf_counter() - t); s.close()
print(f'{best * 1000:.1f}')")
log "link: $LINK; TCP connect time (one RTT) $MEASURED_RTT ms"

# ------------------------------------------------------------------ the report
ROWS=$((SIZE_MB * 1048576 / 86))
log "generating $ROWS rows (~$SIZE_MB MB of CSV)"
sqlite3 "$W/big.db" "create table t(day text, n integer, label text);
with recursive c(i) as (select 0 union all select i + 1 from c where i + 1 < $ROWS)
insert into t select '2026-11-23', i, hex(randomblob(32)) from c;"
REMOTE=$RCTL_TEST_SSHD_ROOT/bench
mkdir -p "$REMOTE" && chown "$RCTL_TEST_SSHD_USER:" "$REMOTE"
sftp_dest() { # NAME HOST PORT KNOWN_HOSTS
    printf '[destinations.%s]\nkind = "sftp"\nhost = "%s"\nport = %s\nuser = "%s"\npath = "%s"\nknown_hosts = "%s"\nkey_file = "%s"\n\n' \
        "$1" "$2" "$3" "$RCTL_TEST_SSHD_USER" "$REMOTE" "$4" "$RCTL_TEST_SSHD_KEY"
}
report() { # NAME DESTINATION
    printf '[[reports]]\nname = "%s"\ntype = "VIEWS"\nsource = "big"\ndestinations = ["local", "%s"]\nquery = "select * from t"\n[reports.schedule]\nfrequency = "daily"\n\n' "$1" "$2"
}
{
    printf '[settings]\ntimezone = "UTC"\nstate = "%s/ledger.sqlite"\nspool = "%s/spool"\n\n' "$W" "$W"
    printf '[sources.big]\nkind = "sqlite"\npath = "%s/big.db"\n\n' "$W"
    printf '[destinations.local]\nkind = "directory"\npath = "%s/out"\n\n' "$W"
    sftp_dest loopback 127.0.0.1 "$RCTL_TEST_SSHD_PORT" "$RCTL_TEST_SSHD_KNOWN_HOSTS"
    sftp_dest rtt "$NS_ADDR" 2222 "$W/nssshd/known_hosts"
    printf '[destinations.bucket]\nkind = "s3"\nbucket = "%s"\nprefix = "bench/"\nendpoint = "%s"\npath_style = true\naccess_key_id = { env = "RCTL_TEST_S3_ACCESS_KEY" }\nsecret_access_key = { env = "RCTL_TEST_S3_SECRET_KEY" }\n\n' \
        "$RCTL_TEST_S3_BUCKET" "$RCTL_TEST_S3_ENDPOINT"
    report "Bench Loopback" loopback
    report "Bench Rtt" rtt
    report "Bench S3" bucket
} >"$W/reports.toml"

# ------------------------------------------------------------------ timing
now() { date +%s.%N; }
# reportctl_time REPORT DESTINATION: the delivery time reportctl -v reports.
reportctl_time() {
    "$BIN" --config "$W/reports.toml" -v run "$1" --from 2026-11-23 --to 2026-11-23 2>"$W/run.log" \
        || { cat "$W/run.log" >&2; exit 1; }
    sed -n "s/.*\"$2\": .* in \([0-9.]*\) s (.*/\1/p" "$W/run.log"
}
# timed CMD...: wall time of a command.
timed() {
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>"$W/ref.log" || { cat "$W/ref.log" >&2; exit 1; }
    t1=$(now)
    awk "BEGIN { printf \"%.3f\", $t1 - $t0 }"
}
openssh_put() { # HOST PORT KNOWN_HOSTS FILE
    echo "put \"$4\" \"$REMOTE/openssh.csv\"" | sftp -q -b - -P "$2" -i "$RCTL_TEST_SSHD_KEY" \
        -o BatchMode=yes -o UserKnownHostsFile="$3" "$RCTL_TEST_SSHD_USER@$1"
}
aws_cp() { # FILE
    AWS_ACCESS_KEY_ID=$RCTL_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RCTL_TEST_S3_SECRET_KEY \
        AWS_DEFAULT_REGION=$RCTL_TEST_S3_REGION \
        "$RCTL_TEST_AWS" --endpoint-url "$RCTL_TEST_S3_ENDPOINT" s3 cp "$1" "s3://$RCTL_TEST_S3_BUCKET/bench/awscli.csv"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A T
for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS"
    T[sftp_lo_r]+="$(reportctl_time "Bench Loopback" loopback) "
    FILE=$(ls "$W"/out/VIEWS_Bench\ Loopback_*.csv)
    T[sftp_lo_o]+="$(timed openssh_put 127.0.0.1 "$RCTL_TEST_SSHD_PORT" "$RCTL_TEST_SSHD_KNOWN_HOSTS" "$FILE") "
    T[sftp_rtt_r]+="$(reportctl_time "Bench Rtt" rtt) "
    T[sftp_rtt_o]+="$(timed openssh_put "$NS_ADDR" 2222 "$W/nssshd/known_hosts" "$FILE") "
    T[s3_r]+="$(reportctl_time "Bench S3" bucket) "
    T[s3_o]+="$(timed aws_cp "$FILE") "
done
BYTES=$(stat -c %s "$FILE")
MB=$(awk "BEGIN { print $BYTES / 1048576 }")

rate() { awk "BEGIN { printf \"%.1f\", $MB / $1 }"; }
row() { # LABEL KEY_R KEY_O REFERENCE
    local r o
    r=$(tr ' ' '\n' <<<"${T[$2]}" | grep . | median)
    o=$(tr ' ' '\n' <<<"${T[$3]}" | grep . | median)
    printf '| %s | %s s, %s MiB/s | %s: %s s, %s MiB/s | %s |\n' "$1" "$r" "$(rate "$r")" "$4" "$o" "$(rate "$o")" \
        "$(awk "BEGIN { printf \"%.2f×\", $o / $r }")"
    printf '|  | (all: %s) | (all: %s) |  |\n' "${T[$2]% }" "${T[$3]% }"
}
echo
echo "File: $BYTES bytes ($(printf '%.1f' "$MB") MiB), $ROUNDS rounds, medians."
echo "Link: $LINK; measured TCP connect time $MEASURED_RTT ms."
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), kernel $(uname -r); $(ssh -V 2>&1); $("$RCTL_TEST_AWS" --version 2>&1)."
echo
echo "| upload | reportctl | reference | reportctl ÷ reference throughput |"
echo "|---|---|---|---|"
row "SFTP, loopback" sftp_lo_r sftp_lo_o "OpenSSH sftp"
row "SFTP, ${RTT_MS} ms RTT" sftp_rtt_r sftp_rtt_o "OpenSSH sftp"
row "S3 (s3s-fs), loopback" s3_r s3_o "aws s3 cp"
