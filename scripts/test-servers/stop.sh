#!/usr/bin/env bash
# Stop the test servers started under DIR by start.sh.
#
#   scripts/test-servers/stop.sh DIR [sshd|smtp|s3|postgres|http ...]   (default: all)
#
# Tolerant of servers that were never started or are already dead. Only
# processes whose PID is recorded under DIR (and whose command line still
# matches the server) are signalled. Stopping sshd also removes the test user
# start.sh created for DIR (only if its home is DIR/sshd/root, i.e. it is
# provably that user). Exits 0 unless a process survives SIGKILL or the user
# cannot be removed.
set -uo pipefail

PG_BIN=/usr/lib/postgresql/15/bin

[ $# -ge 1 ] || { echo "usage: $0 DIR [sshd|smtp|s3|postgres|http ...]" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR="$(cd "$1" && pwd -P)"
shift
SERVERS=("$@")
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=(sshd smtp s3 postgres http)

msg() { echo "stop.sh: $*" >&2; }
RC=0

# pid_of NAME PATTERN: the recorded PID if alive and its command line matches.
pid_of() {
    local f="$DIR/pids/$1.pid" pid
    [ -f "$f" ] || return 1
    pid="$(head -n1 "$f" | tr -dc 0-9)"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
    echo "$pid"
}

# kill_wait PID: SIGTERM, wait up to 10 s, then SIGKILL.
kill_wait() {
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        # A zombie counts as gone.
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
    if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
        msg "pid $pid survives SIGKILL"; RC=1
    fi
}

stop_simple() { # NAME PATTERN
    local pid
    if pid="$(pid_of "$1" "$2")"; then
        if [ "$1" = sshd ]; then
            # Session processes forked by this sshd (open SFTP connections).
            local child
            for child in $(cat "/proc/$pid/task/"*/children 2>/dev/null); do
                kill -TERM "$child" 2>/dev/null || true
            done
        fi
        kill_wait "$pid"
        msg "$1: stopped (pid $pid)"
    fi
    rm -f "$DIR/pids/$1.pid"
}

# The per-DIR sshd test user (same name as in start.sh).
remove_sshd_user() {
    local user home
    user="rctl_$(printf '%s' "$DIR" | sha256sum | cut -c1-8)"
    home="$(getent passwd "$user" | cut -d: -f6)" || return 0
    [ "$home" = "$DIR/sshd/root" ] || { msg "user $user is not this DIR's test user; left alone"; return 0; }
    (
        flock 8
        # Its SFTP sessions were children of the stopped sshd; give them a moment to go.
        for _ in $(seq 1 50); do
            pgrep -u "$user" >/dev/null 2>&1 || break
            sleep 0.1
        done
        pkill -KILL -u "$user" 2>/dev/null || true
        for _ in $(seq 1 20); do
            userdel "$user" 2>/dev/null && exit 0
            sleep 0.1
        done
        exit 1
    ) 8>/tmp/.reportctl-test-user.lock
    if id "$user" >/dev/null 2>&1; then
        msg "could not remove the test user $user"; RC=1
    else
        msg "sshd: removed test user $user"
    fi
}

stop_postgres() {
    local data="$DIR/pg/data" pid
    if [ -f "$data/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
    fi
    # Fallback if pg_ctl could not stop it.
    if pid="$(pid_of postgres postgres)"; then
        kill_wait "$pid"
    fi
    [ -f "$DIR/pids/postgres.pid" ] && msg "postgres: stopped"
    rm -f "$DIR/pids/postgres.pid"
    # Short socket dir made under /tmp when DIR's path was too long.
    if [ -f "$DIR/pg/sockdir-tmp" ]; then
        local s
        s="$(cat "$DIR/pg/sockdir-tmp")"
        case "$s" in /tmp/rctl-pg.*) rm -rf "$s" ;; esac
        rm -f "$DIR/pg/sockdir-tmp"
    fi
}

for s in "${SERVERS[@]}"; do
    case "$s" in
        sshd) stop_simple sshd /usr/sbin/sshd; remove_sshd_user ;;
        smtp) stop_simple smtp smtpd.py ;;
        s3) stop_simple s3 s3s-fs ;;
        http) stop_simple http httpd.py ;;
        postgres) stop_postgres ;;
        *) msg "unknown server: $s"; RC=2 ;;
    esac
done
exit $RC
