#!/usr/bin/env bash
# Start real test servers on 127.0.0.1 for reportctl's integration tests.
#
#   scripts/test-servers/start.sh DIR [sshd|smtp|s3|postgres|http ...]   (default: all five)
#
# Every server gets a free port on 127.0.0.1, lives under DIR/<name>/, and is
# checked with a real client before this script returns. Its settings are
# written to DIR/servers.env as `export NAME=value` lines (values are never
# quoted; the lines of a server are replaced when it is started again, lines of
# other servers are kept). PIDs go to DIR/pids/. Stop with stop.sh DIR.
# A server already running under DIR is stopped and started afresh.
# On failure: names the server, prints the tail of its log, stops what this run
# started, exits non-zero.
#
# Needs what scripts/install-test-deps.sh installs (run it first) and root
# (a test user is created for sshd, initdb runs as the postgres user).
#
# No credential is written in this repository: every password, passphrase and
# secret key is generated at each start and written only to DIR/servers.env
# (mode 0600). The sshd test user is one per DIR (rctl_ + 8 hex digits of a hash
# of DIR), has no shell (/usr/sbin/nologin, SFTP only), and is removed by stop.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${REPORTCTL_TOOLS:-$HOME/.cache/reportctl-tools}"
PY="$TOOLS/venv/bin/python"
AWS="$TOOLS/venv/bin/aws"
S3S="$TOOLS/bin/s3s-fs"
PG_BIN=/usr/lib/postgresql/15/bin
WAIT_SECS="${RCTL_TEST_START_TIMEOUT:-20}"

# Test identities; the secrets are generated per start (gen_secret), never committed.
SMTP_USER=reportctl
S3_REGION=us-east-1
S3_BUCKET=reportctl-test
PG_USER=reportctl
PG_DB=reportctl_test

usage() { echo "usage: $0 DIR [sshd|smtp|s3|postgres|http ...]" >&2; exit 2; }
msg() { echo "start.sh: $*" >&2; }

[ $# -ge 1 ] || usage
mkdir -p "$1"
DIR="$(cd "$1" && pwd -P)"
shift
case "$DIR" in
    *[!A-Za-z0-9_./+@,-]*)
        msg "DIR must contain only [A-Za-z0-9_./+@,-] (values in servers.env are not quoted): $DIR"
        exit 2 ;;
esac
SERVERS=("$@")
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=(sshd smtp s3 postgres http)
for s in "${SERVERS[@]}"; do
    case "$s" in sshd|smtp|s3|postgres|http) ;; *) msg "unknown server: $s"; usage ;; esac
done

[ "$(id -u)" -eq 0 ] || { msg "must run as root"; exit 2; }
umask 077

# gen_secret: 32 random hex digits, for a password, passphrase or key.
gen_secret() { openssl rand -hex 16; }

# sshd_user_for DIR: the test user of the server set under DIR (also in stop.sh).
sshd_user_for() { echo "rctl_$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }
SSHD_USER="$(sshd_user_for "$DIR")"
SSHD_HOME="$DIR/sshd/root"
[ -x "$PY" ] || { msg "missing $PY: run scripts/install-test-deps.sh"; exit 2; }

mkdir -p "$DIR/pids"
STARTED=()   # servers started by this run, stopped again on failure

# ---------------------------------------------------------------- helpers

# fail SERVER LOG MESSAGE: report, stop what this run started, exit 1.
fail() {
    local name="$1" log="$2"; shift 2
    msg "FAILED to start $name: $*"
    if [ -n "$log" ] && [ -f "$log" ]; then
        echo "----- last lines of $log -----" >&2
        tail -n 40 "$log" >&2 || true
        echo "----- end of $log -----" >&2
    fi
    "$SCRIPT_DIR/stop.sh" "$DIR" "$name" "${STARTED[@]}" >&2 || true
    exit 1
}

free_port() {
    "$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# launch NAME LOG CMD...: run CMD detached (own session, no inherited stdio).
launch() {
    local name="$1" log="$2"; shift 2
    setsid "$@" </dev/null >>"$log" 2>&1 &
    echo $! >"$DIR/pids/$name.pid"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# wait_ports_file NAME LOG FILE PID PROGRAM: until a server that binds its own ports
# has written them to FILE (bounded wait); fails if PROGRAM exits first.
wait_ports_file() {
    local name="$1" log="$2" file="$3" pid="$4" program="$5" deadline
    deadline=$((SECONDS + WAIT_SECS))
    while [ ! -s "$file" ]; do
        pid_alive "$pid" || fail "$name" "$log" "$program exited"
        [ $SECONDS -lt $deadline ] || fail "$name" "$log" "no ports file within ${WAIT_SECS}s"
        sleep 0.1
    done
}

# set_env PREFIX_REGEX NAME=value...: replace the lines matching the prefix.
set_env() {
    local prefix="$1"; shift
    (
        flock 9
        local f="$DIR/servers.env" tmp="$DIR/.servers.env.$$"
        {
            if [ -f "$f" ]; then grep -v -E "^export (${prefix})" "$f" || true; fi
            local kv
            for kv in "$@"; do echo "export $kv"; done
        } >"$tmp"
        chmod 600 "$tmp"
        mv -f "$tmp" "$f"
    ) 9>"$DIR/.servers.env.lock"
}

# The sshd user and postgres must reach files under DIR.
open_dir_for_others() {
    chmod a+x "$DIR"
}

# ---------------------------------------------------------------- sshd

# The user of this DIR only (stop.sh removes it): home DIR/sshd/root, no shell,
# a password generated now (its hash in /etc/shadow; sshd runs without PAM).
ensure_sshd_user() {
    (
        flock 8
        if ! id "$SSHD_USER" >/dev/null 2>&1; then
            useradd --no-create-home --home-dir "$SSHD_HOME" --shell /usr/sbin/nologin \
                --user-group --comment "reportctl test user for $DIR" "$SSHD_USER"
        fi
        [ "$(getent passwd "$SSHD_USER" | cut -d: -f6)" = "$SSHD_HOME" ] || {
            msg "user $SSHD_USER exists with another home; not touching it"; exit 1; }
        usermod -p "$(printf '%s' "$SSHD_PASSWORD" | openssl passwd -6 -stdin)" "$SSHD_USER"
    ) 8>/tmp/.reportctl-test-user.lock
}

start_sshd() {
    local d="$DIR/sshd" log="$DIR/sshd/sshd.log"
    [ -x /usr/sbin/sshd ] || fail sshd "" "/usr/sbin/sshd missing: run scripts/install-test-deps.sh"
    open_dir_for_others
    SSHD_PASSWORD="$(gen_secret)"
    SSHD_KEY_PASSPHRASE="$(gen_secret)"
    ensure_sshd_user || fail sshd "" "could not create user $SSHD_USER"
    mkdir -p /run/sshd "$d"
    # Only root and the test user (traverse only) reach the sshd files.
    chown "root:$SSHD_USER" "$d"
    chmod 710 "$d"
    : >"$log"
    rm -f "$d"/host_ed25519* "$d"/wrong_host_ed25519* "$d"/id_ed25519* "$d"/authorized_keys \
        "$d"/known_hosts "$d"/wrong_known_hosts
    ssh-keygen -q -t ed25519 -N '' -C rctl-test-host -f "$d/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C rctl-test-other-host -f "$d/wrong_host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C rctl-test-key -f "$d/id_ed25519"
    ssh-keygen -q -t ed25519 -N "$SSHD_KEY_PASSPHRASE" -C rctl-test-key-enc -f "$d/id_ed25519_enc"
    ssh-keygen -q -t ed25519 -N '' -C rctl-test-wrong-key -f "$d/id_ed25519_wrong"
    cat "$d/id_ed25519.pub" "$d/id_ed25519_enc.pub" >"$d/authorized_keys"
    chmod 644 "$d/authorized_keys"
    mkdir -p "$d/root"
    chown "$SSHD_USER:" "$d/root"
    chmod 700 "$d/root"
    runuser -u "$SSHD_USER" -- test -r "$d/authorized_keys" -a -w "$d/root" \
        || fail sshd "" "user $SSHD_USER cannot reach $d (a parent of DIR lacks o+x?)"

    local port pid hostkey scanned
    hostkey="$(cut -d' ' -f1,2 "$d/host_ed25519.pub")"
    for _ in 1 2 3 4 5; do
        port="$(free_port)"
        cat >"$d/sshd_config" <<EOF
# Private sshd for reportctl integration tests (generated by start.sh).
ListenAddress 127.0.0.1
Port $port
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
AllowUsers $SSHD_USER
PermitRootLogin no
PasswordAuthentication yes
PubkeyAuthentication yes
# SFTP only: no shell, no commands, no forwarding.
ForceCommand internal-sftp -u 022
DisableForwarding yes
PermitTTY no
PermitUserRC no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM no
StrictModes no
UseDNS no
MaxAuthTries 10
MaxSessions 64
MaxStartups 100:30:200
LoginGraceTime 30
LogLevel VERBOSE
Subsystem sftp internal-sftp -u 022
EOF
        # Newer OpenSSH (9.8+) penalises sources with failed logins; tests fail on purpose.
        if /usr/sbin/sshd -t -f "$d/sshd_config" -o PerSourcePenalties=no >/dev/null 2>&1; then
            echo "PerSourcePenalties no" >>"$d/sshd_config"
        fi
        /usr/sbin/sshd -t -f "$d/sshd_config" >>"$log" 2>&1 || fail sshd "$log" "sshd -t rejected the config"
        launch sshd "$log" /usr/sbin/sshd -D -f "$d/sshd_config" -E "$log"
        pid="$(cat "$DIR/pids/sshd.pid")"
        local deadline=$((SECONDS + WAIT_SECS)) ok=0
        while [ $SECONDS -lt $deadline ]; do
            pid_alive "$pid" || break
            scanned="$(ssh-keyscan -T 2 -t ed25519 -p "$port" 127.0.0.1 2>/dev/null || true)"
            if [ -n "$scanned" ]; then ok=1; break; fi
            sleep 0.2
        done
        if [ $ok -eq 1 ]; then break; fi
        if ! pid_alive "$pid" && grep -q "Address already in use" "$log"; then
            msg "sshd: port $port taken, retrying"; continue
        fi
        STARTED+=(sshd)
        fail sshd "$log" "no answer from ssh-keyscan on 127.0.0.1:$port within ${WAIT_SECS}s"
    done
    [ "${ok:-0}" -eq 1 ] || fail sshd "$log" "could not find a free port"
    STARTED+=(sshd)
    # Keep only the ed25519 line and check it is the host key we generated.
    scanned="$(printf '%s\n' "$scanned" | grep -v '^#' | head -n1)"
    [ "$(echo "$scanned" | cut -d' ' -f2,3)" = "$hostkey" ] \
        || fail sshd "$log" "ssh-keyscan returned an unexpected host key: $scanned"
    echo "$scanned" >"$d/known_hosts"
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/wrong_host_ed25519.pub")" >"$d/wrong_known_hosts"

    set_env 'RCTL_TEST_SSHD_' \
        "RCTL_TEST_SSHD_HOST=127.0.0.1" \
        "RCTL_TEST_SSHD_PORT=$port" \
        "RCTL_TEST_SSHD_USER=$SSHD_USER" \
        "RCTL_TEST_SSHD_PASSWORD=$SSHD_PASSWORD" \
        "RCTL_TEST_SSHD_KEY=$d/id_ed25519" \
        "RCTL_TEST_SSHD_KEY_ENC=$d/id_ed25519_enc" \
        "RCTL_TEST_SSHD_KEY_PASSPHRASE=$SSHD_KEY_PASSPHRASE" \
        "RCTL_TEST_SSHD_WRONG_KEY=$d/id_ed25519_wrong" \
        "RCTL_TEST_SSHD_KNOWN_HOSTS=$d/known_hosts" \
        "RCTL_TEST_SSHD_WRONG_KNOWN_HOSTS=$d/wrong_known_hosts" \
        "RCTL_TEST_SSHD_ROOT=$d/root"
    msg "sshd: ok on 127.0.0.1:$port (pid $pid)"
}

# ---------------------------------------------------------------- smtp

make_smtp_certs() {
    local d="$1"
    local ext="$d/leaf.ext"
    # A small CA (the trust anchor, RCTL_TEST_SMTP_CA) and a leaf cert for the
    # server: rustls/webpki refuse a CA certificate used as the server cert.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/ca.key" -out "$d/ca.pem" -days 3650 -subj "/CN=reportctl test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/key.pem" -out "$d/leaf.csr" -subj "/CN=localhost" 2>/dev/null
    cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EOF
    openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$ext" \
        -out "$d/cert.pem" 2>/dev/null
    rm -f "$d/leaf.csr" "$ext"
    chmod 644 "$d/ca.pem" "$d/cert.pem"
}

start_smtp() {
    local d="$DIR/smtp" log="$DIR/smtp/smtpd.log"
    "$PY" -c 'import aiosmtpd' 2>/dev/null || fail smtp "" "aiosmtpd missing in $PY: run scripts/install-test-deps.sh"
    local SMTP_PASSWORD
    SMTP_PASSWORD="$(gen_secret)"
    mkdir -p "$d/Maildir"
    chmod 700 "$d"
    : >"$log"
    make_smtp_certs "$d" || fail smtp "" "openssl could not make the certificates"
    rm -f "$d/ports.env"
    # The password goes through the environment, not the command line (ps shows that).
    launch smtp "$log" env RCTL_SMTPD_PASSWORD="$SMTP_PASSWORD" "$PY" "$SCRIPT_DIR/smtpd.py" --host 127.0.0.1 \
        --cert "$d/cert.pem" --key "$d/key.pem" \
        --user "$SMTP_USER" --password-env RCTL_SMTPD_PASSWORD \
        --maildir "$d/Maildir" --ports-file "$d/ports.env"
    STARTED+=(smtp)
    local pid
    pid="$(cat "$DIR/pids/smtp.pid")"
    wait_ports_file smtp "$log" "$d/ports.env" "$pid" smtpd.py
    local STARTTLS_PORT SMTPS_PORT PLAIN_PORT
    eval "$(grep -E '^(STARTTLS|SMTPS|PLAIN)_PORT=[0-9]+$' "$d/ports.env")"
    # Real client check of all three listeners.
    "$PY" - "$STARTTLS_PORT" "$SMTPS_PORT" "$PLAIN_PORT" "$d/ca.pem" >>"$log" 2>&1 <<'EOF' \
        || fail smtp "$log" "SMTP client check failed (ports $STARTTLS_PORT/$SMTPS_PORT/$PLAIN_PORT)"
import smtplib, ssl, sys
starttls, smtps, plain, ca = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
with smtplib.SMTP("127.0.0.1", starttls, timeout=10) as s:
    s.ehlo()
    assert s.has_extn("starttls"), "STARTTLS not offered"
    s.starttls(context=ctx); s.ehlo()
    assert s.has_extn("auth"), "AUTH not offered after STARTTLS"
with smtplib.SMTP_SSL("127.0.0.1", smtps, timeout=10, context=ctx) as s:
    s.ehlo()
    assert s.has_extn("auth"), "AUTH not offered on SMTPS"
with smtplib.SMTP("127.0.0.1", plain, timeout=10) as s:
    s.ehlo()
    assert not s.has_extn("starttls"), "plain listener offers STARTTLS"
print("smtp client check ok")
EOF
    set_env 'RCTL_TEST_SMTP_' \
        "RCTL_TEST_SMTP_HOST=127.0.0.1" \
        "RCTL_TEST_SMTP_PORT=$STARTTLS_PORT" \
        "RCTL_TEST_SMTP_TLS_PORT=$SMTPS_PORT" \
        "RCTL_TEST_SMTP_PLAIN_PORT=$PLAIN_PORT" \
        "RCTL_TEST_SMTP_USER=$SMTP_USER" \
        "RCTL_TEST_SMTP_PASSWORD=$SMTP_PASSWORD" \
        "RCTL_TEST_SMTP_CA=$d/ca.pem" \
        "RCTL_TEST_SMTP_MAILDIR=$d/Maildir"
    msg "smtp: ok on 127.0.0.1 starttls:$STARTTLS_PORT smtps:$SMTPS_PORT plain:$PLAIN_PORT (pid $pid)"
}

# ---------------------------------------------------------------- s3

start_s3() {
    local d="$DIR/s3" log="$DIR/s3/s3s-fs.log"
    [ -x "$S3S" ] || fail s3 "" "missing $S3S: run scripts/install-test-deps.sh"
    local S3_ACCESS_KEY S3_SECRET_KEY
    S3_ACCESS_KEY="RCTL$(openssl rand -hex 8 | tr a-f A-F)"
    S3_SECRET_KEY="$(gen_secret)"
    mkdir -p "$d/data/$S3_BUCKET"
    chmod 700 "$d" "$d/data"
    : >"$log"
    # --port 0: s3s-fs binds a free port itself and logs it (no race).
    launch s3 "$log" env RUST_LOG="${RCTL_TEST_S3_LOG:-s3s_fs=info,s3s=warn}" NO_COLOR=1 \
        "$S3S" --host 127.0.0.1 --port 0 \
        --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" "$d/data"
    STARTED+=(s3)
    local pid deadline port="" code
    pid="$(cat "$DIR/pids/s3.pid")"
    deadline=$((SECONDS + WAIT_SECS))
    while [ -z "$port" ]; do
        pid_alive "$pid" || fail s3 "$log" "s3s-fs exited"
        [ $SECONDS -lt $deadline ] || fail s3 "$log" "s3s-fs did not report its port within ${WAIT_SECS}s"
        port="$(sed 's/\x1b\[[0-9;]*m//g' "$log" \
            | sed -n 's|.*server is running at http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' | head -n1)"
        [ -n "$port" ] || sleep 0.1
    done
    # A real HTTP answer (an unsigned request is refused with 403).
    code=000
    while [ $SECONDS -lt $deadline ]; do
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" || true)"
        [ "$code" != 000 ] && break
        sleep 0.1
    done
    [ "$code" != 000 ] || fail s3 "$log" "no HTTP answer on 127.0.0.1:$port"
    [ "$code" = 403 ] || fail s3 "$log" "unsigned request answered with HTTP $code, expected 403 (auth off?)"
    set_env 'RCTL_TEST_S3_' \
        "RCTL_TEST_S3_ENDPOINT=http://127.0.0.1:$port" \
        "RCTL_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY" \
        "RCTL_TEST_S3_SECRET_KEY=$S3_SECRET_KEY" \
        "RCTL_TEST_S3_REGION=$S3_REGION" \
        "RCTL_TEST_S3_BUCKET=$S3_BUCKET" \
        "RCTL_TEST_S3_DATA=$d/data"
    msg "s3: ok on http://127.0.0.1:$port (pid $pid)"
}

# ---------------------------------------------------------------- postgres

start_postgres() {
    local d="$DIR/pg" log="$DIR/pg/postgres.log" data="$DIR/pg/data" sock="$DIR/pg/sock"
    [ -x "$PG_BIN/initdb" ] || fail postgres "" "missing $PG_BIN/initdb: run scripts/install-test-deps.sh"
    open_dir_for_others
    local PG_PASSWORD
    PG_PASSWORD="$(gen_secret)"
    mkdir -p "$d"
    chown postgres: "$d"
    chmod 700 "$d"
    runuser -u postgres -- test -w "$d" \
        || fail postgres "" "user postgres cannot write $d (a parent of DIR lacks o+x?)"
    # Unix socket paths are limited to ~107 bytes: use a short dir if needed.
    rm -f "$d/sockdir-tmp"
    if [ $(( ${#sock} + 20 )) -gt 100 ]; then
        sock="$(mktemp -d /tmp/rctl-pg.XXXXXX)"
        echo "$sock" >"$d/sockdir-tmp"
    fi
    # Local connections over the socket are trusted: only postgres (and root) may reach it.
    mkdir -p "$sock"
    chown postgres: "$sock"
    chmod 700 "$sock"
    : >"$log"
    chown postgres: "$log"
    # TLS is on (a per-run CA, RCTL_TEST_PG_CA, and a leaf for localhost/127.0.0.1);
    # plain connections are still accepted, so sslmode disable/prefer/require and
    # verify-full can all be tested.
    mkdir -p "$d/tls"
    make_smtp_certs "$d/tls" || fail postgres "" "openssl could not make the certificates"
    chown -R postgres: "$d/tls"
    chmod 600 "$d/tls/key.pem"
    if [ ! -s "$data/PG_VERSION" ]; then
        rm -rf "$data"
        runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
            </dev/null >>"$log" 2>&1 || fail postgres "$log" "initdb failed"
    fi
    local port ok=0
    for _ in 1 2 3 4 5; do
        port="$(free_port)"
        if setsid runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t "$WAIT_SECS" \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file=$d/tls/cert.pem -c ssl_key_file=$d/tls/key.pem" \
            start </dev/null >>"$log" 2>&1; then
            ok=1; break
        fi
        if grep -qE "could not bind|Address already in use" "$log"; then
            msg "postgres: port $port taken, retrying"
            runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
            continue
        fi
        break
    done
    STARTED+=(postgres)
    [ $ok -eq 1 ] || fail postgres "$log" "pg_ctl start failed"
    head -n1 "$data/postmaster.pid" >"$DIR/pids/postgres.pid"
    # Role with password + CREATEDB, and a database it owns (idempotent).
    "$PG_BIN/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        >>"$log" 2>&1 <<EOF || fail postgres "$log" "could not create role/database"
SELECT 'CREATE ROLE $PG_USER' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER')\gexec
ALTER ROLE $PG_USER WITH LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB')\gexec
EOF
    # Real client check: password auth over TCP.
    local one
    one="$(PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -At \
        "host=127.0.0.1 port=$port user=$PG_USER dbname=$PG_DB" -c 'SELECT 1' 2>>"$log" || true)"
    [ "$one" = 1 ] || fail postgres "$log" "psql with password over TCP failed"
    one="$(PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -At \
        "host=127.0.0.1 port=$port user=$PG_USER dbname=$PG_DB sslmode=verify-full sslrootcert=$d/tls/ca.pem" \
        -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' 2>>"$log" || true)"
    [ "$one" = t ] || fail postgres "$log" "psql with sslmode=verify-full over TCP failed"
    set_env 'RCTL_TEST_PG_' \
        "RCTL_TEST_PG_HOST=127.0.0.1" \
        "RCTL_TEST_PG_PORT=$port" \
        "RCTL_TEST_PG_USER=$PG_USER" \
        "RCTL_TEST_PG_PASSWORD=$PG_PASSWORD" \
        "RCTL_TEST_PG_DB=$PG_DB" \
        "RCTL_TEST_PG_SOCKDIR=$sock" \
        "RCTL_TEST_PG_CA=$d/tls/ca.pem" \
        "RCTL_TEST_PG_SUPERUSER=postgres" \
        "RCTL_TEST_PG_BIN=$PG_BIN"
    msg "postgres: ok on 127.0.0.1:$port (pid $(cat "$DIR/pids/postgres.pid"))"
}

# ---------------------------------------------------------------- http

# The HTTP receiver (HTTP, and HTTPS with a certificate from a CA made now) of pings,
# webhooks, Teams cards and Slack's API contract: every request recorded as a JSON
# line in DIR/http/requests.jsonl.
start_http() {
    local d="$DIR/http" log="$DIR/http/httpd.log"
    mkdir -p "$d"
    chmod 700 "$d"
    : >"$log"
    : >"$d/requests.jsonl"
    rm -f "$d/ports.env"
    make_smtp_certs "$d" || fail http "" "openssl could not make the certificates"
    local WEBHOOK_SECRET SLACK_TOKEN
    WEBHOOK_SECRET="$(gen_secret)"
    SLACK_TOKEN="xoxb-test-$(gen_secret)"
    # The secrets go through the environment, not the command line (ps shows that).
    launch http "$log" env RCTL_HTTPD_WEBHOOK_SECRET="$WEBHOOK_SECRET" RCTL_HTTPD_SLACK_TOKEN="$SLACK_TOKEN" \
        "$PY" "$SCRIPT_DIR/httpd.py" --host 127.0.0.1 \
        --requests "$d/requests.jsonl" --ports-file "$d/ports.env" \
        --cert "$d/cert.pem" --key "$d/key.pem" \
        --webhook-secret-env RCTL_HTTPD_WEBHOOK_SECRET --slack-token-env RCTL_HTTPD_SLACK_TOKEN
    STARTED+=(http)
    local pid
    pid="$(cat "$DIR/pids/http.pid")"
    wait_ports_file http "$log" "$d/ports.env" "$pid" httpd.py
    local HTTP_PORT HTTPS_PORT
    eval "$(grep -E '^HTTPS?_PORT=[0-9]+$' "$d/ports.env")"
    # Real client check; the check's own request is then cleared from the record.
    curl -fsS --max-time 10 -d check "http://127.0.0.1:$HTTP_PORT/start-check" >>"$log" 2>&1 \
        || fail http "$log" "HTTP client check failed (port $HTTP_PORT)"
    curl -fsS --max-time 10 --cacert "$d/ca.pem" -d check "https://127.0.0.1:$HTTPS_PORT/start-check" >>"$log" 2>&1 \
        || fail http "$log" "HTTPS client check failed (port $HTTPS_PORT)"
    grep -q '"path": "/start-check"' "$d/requests.jsonl" || fail http "$log" "the check request was not recorded"
    : >"$d/requests.jsonl"
    set_env 'RCTL_TEST_(HTTPS?|WEBHOOK|SLACK)_' \
        "RCTL_TEST_WEBHOOK_SECRET=$WEBHOOK_SECRET" \
        "RCTL_TEST_SLACK_TOKEN=$SLACK_TOKEN" \
        "RCTL_TEST_HTTP_URL=http://127.0.0.1:$HTTP_PORT" \
        "RCTL_TEST_HTTPS_URL=https://127.0.0.1:$HTTPS_PORT" \
        "RCTL_TEST_HTTP_CA=$d/ca.pem" \
        "RCTL_TEST_HTTP_REQUESTS=$d/requests.jsonl"
    msg "http: ok on 127.0.0.1 http:$HTTP_PORT https:$HTTPS_PORT (pid $pid)"
}

# ---------------------------------------------------------------- main

set_env 'RCTL_TEST_TOOLS=|RCTL_TEST_PYTHON=|RCTL_TEST_AWS=|RCTL_TEST_PROMTOOL=' \
    "RCTL_TEST_TOOLS=$TOOLS" \
    "RCTL_TEST_PYTHON=$PY" \
    "RCTL_TEST_AWS=$AWS" \
    "RCTL_TEST_PROMTOOL=$TOOLS/bin/promtool"

for s in "${SERVERS[@]}"; do
    # Restart cleanly if this server is already running under DIR.
    "$SCRIPT_DIR/stop.sh" "$DIR" "$s" >/dev/null 2>&1 || true
done
for s in "${SERVERS[@]}"; do
    case "$s" in
        sshd) start_sshd ;;
        smtp) start_smtp ;;
        s3) start_s3 ;;
        postgres) start_postgres ;;
        http) start_http ;;
    esac
done
msg "all started; settings in $DIR/servers.env"
