#!/usr/bin/env bash
# Install everything the integration tests and benchmarks need (idempotent).
#
#   scripts/install-test-deps.sh
#
# Installs, only when missing:
#   apt:   openssh-server openssh-client sqlite3 iproute2 hyperfine wrk nginx openssl curl time
#          python3 python3-venv postgresql-15 (binaries in /usr/lib/postgresql/15/bin)
#   venv:  $REPORTCTL_TOOLS/venv with aiosmtpd, awscli, jsonschema, openpyxl, pyarrow,
#          duckdb and XlsxWriter
#   apt:   systemd (systemd-analyze, for scripts/package-test.sh)
#   cargo: s3s-fs 0.14.1 (binary) and cargo-deb 3.8.0 into $REPORTCTL_TOOLS/bin
#   deb:   promtool (the metrics tests' checker) into $REPORTCTL_TOOLS/bin, taken out of
#          Debian's prometheus package with apt-get download + dpkg-deb -x: installing
#          the package would start a Prometheus server
# REPORTCTL_TOOLS defaults to $HOME/.cache/reportctl-tools.
# The tests use only private servers on 127.0.0.1 (scripts/test-servers/), so the
# system sshd that openssh-server brings is never left running or enabled: it is
# kept from starting at install (/etc/ssh/sshd_not_to_be_run, honoured by Debian's
# init script and systemd unit), stopped and disabled. REPORTCTL_KEEP_SYSTEM_SSHD=1
# leaves a system sshd you rely on alone.
# One status line per component goes to stderr. Exits non-zero naming the
# component that could not be installed.
set -euo pipefail

TOOLS="${REPORTCTL_TOOLS:-$HOME/.cache/reportctl-tools}"
VENV="$TOOLS/venv"
S3S_VERSION=0.14.1
CARGO_DEB_VERSION=3.8.0
PG_BIN=/usr/lib/postgresql/15/bin
export DEBIAN_FRONTEND=noninteractive

log() { echo "install-test-deps: $*" >&2; }
die() { echo "install-test-deps: FAILED: $*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "apt: not root and no sudo"
    SUDO=(sudo -E)
fi

APT_UPDATED=0
apt_install() { # component pkg...
    local comp="$1"; shift
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        "${SUDO[@]}" apt-get update -qq >&2 || die "$comp: apt-get update failed"
        APT_UPDATED=1
    fi
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2 \
        || die "$comp: apt-get install $* failed"
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# component  package  check-command
ensure_pkg() {
    local comp="$1" pkg="$2" check="$3"
    if pkg_installed "$pkg" && [ -e "$check" ]; then
        log "$comp: ok (already installed)"
        return
    fi
    apt_install "$comp" "$pkg"
    [ -e "$check" ] || die "$comp: $check missing after installing $pkg"
    log "$comp: ok (installed $pkg)"
}

# Before openssh-server is installed, so that its postinst does not start it.
if [ "${REPORTCTL_KEEP_SYSTEM_SSHD:-0}" != 1 ]; then
    "${SUDO[@]}" mkdir -p /etc/ssh
    "${SUDO[@]}" touch /etc/ssh/sshd_not_to_be_run
fi
ensure_pkg openssh-server openssh-server /usr/sbin/sshd
ensure_pkg openssh-client openssh-client /usr/bin/sftp
ensure_pkg openssl        openssl        /usr/bin/openssl
ensure_pkg curl           curl           /usr/bin/curl
# sqlite3 and psql (postgresql-15) are also the clients of the command-source tests.
ensure_pkg sqlite3        sqlite3        /usr/bin/sqlite3
ensure_pkg iproute2       iproute2       /usr/sbin/tc
ensure_pkg hyperfine      hyperfine      /usr/bin/hyperfine
ensure_pkg wrk            wrk            /usr/bin/wrk
# GNU time: wall time and peak memory in the benchmarks (scripts/bench/).
ensure_pkg time           time           /usr/bin/time
# systemd-analyze verify checks the units of the Debian package (scripts/package-test.sh).
ensure_pkg systemd        systemd        /usr/bin/systemd-analyze

# The system sshd (port 22, the machine's users and passwords) must not run:
# stop it and disable it, with systemd or the init script.
system_sshd_pid() {
    local pid
    pid="$(cat /run/sshd.pid 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}
if [ "${REPORTCTL_KEEP_SYSTEM_SSHD:-0}" = 1 ]; then
    log "system sshd: left alone (REPORTCTL_KEEP_SYSTEM_SSHD=1)"
else
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        "${SUDO[@]}" systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
    else
        [ -x /etc/init.d/ssh ] && { "${SUDO[@]}" /etc/init.d/ssh stop >/dev/null 2>&1 || true; }
        command -v update-rc.d >/dev/null 2>&1 \
            && { "${SUDO[@]}" update-rc.d ssh disable >/dev/null 2>&1 || true; }
    fi
    # Whatever started it: the system instance is the one with /run/sshd.pid.
    if pid="$(system_sshd_pid)"; then
        "${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do system_sshd_pid >/dev/null || break; sleep 0.1; done
    fi
    system_sshd_pid >/dev/null && die "openssh-server: the system sshd is running and could not be stopped"
    log "system sshd: not running, disabled, kept from starting (/etc/ssh/sshd_not_to_be_run)"
fi

# nginx: installed for benchmarks, never left running as a system service.
nginx_was_installed=0
pkg_installed nginx && [ -x /usr/sbin/nginx ] && nginx_was_installed=1
if [ "$nginx_was_installed" -eq 0 ]; then
    apt_install nginx nginx
    [ -x /usr/sbin/nginx ] || die "nginx: /usr/sbin/nginx missing after install"
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl stop nginx >/dev/null 2>&1 || true
    "${SUDO[@]}" systemctl disable nginx >/dev/null 2>&1 || true
elif command -v update-rc.d >/dev/null 2>&1; then
    "${SUDO[@]}" update-rc.d nginx disable >/dev/null 2>&1 || true
fi
# Only the system instance (/run/nginx.pid) is stopped; private nginx
# instances started by benchmarks with their own config are left alone.
system_nginx_pid() {
    local pid
    pid="$(cat /run/nginx.pid 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}
if system_nginx_pid >/dev/null; then
    "${SUDO[@]}" /usr/sbin/nginx -s stop >/dev/null 2>&1 \
        || "${SUDO[@]}" /etc/init.d/nginx stop >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do system_nginx_pid >/dev/null || break; sleep 0.1; done
fi
system_nginx_pid >/dev/null && die "nginx: the system nginx service is running and could not be stopped"
if [ "$nginx_was_installed" -eq 1 ]; then
    log "nginx: ok (already installed; system service stopped)"
else
    log "nginx: ok (installed nginx; system service stopped)"
fi

# PostgreSQL 15 binaries.
if [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/postgres" ] \
    && command -v psql >/dev/null 2>&1; then
    log "postgresql-15: ok (already installed in $PG_BIN)"
else
    apt_install postgresql-15 postgresql-15 postgresql-client-15
    [ -x "$PG_BIN/initdb" ] || die "postgresql-15: $PG_BIN/initdb missing after install"
    log "postgresql-15: ok (installed)"
fi
id postgres >/dev/null 2>&1 || die "postgresql-15: system user 'postgres' does not exist"

# Python venv with aiosmtpd (SMTP test server) and awscli (S3 peer for benchmarks).
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3 || true)"
if [ -z "$PY" ] || ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv python3 python3-venv
    PY=/usr/bin/python3
fi
mkdir -p "$TOOLS"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" >&2 || die "python-venv: could not create $VENV with $PY"
    log "python-venv: ok (created $VENV)"
else
    log "python-venv: ok (already at $VENV)"
fi
if "$VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    log "aiosmtpd: ok (already in $VENV)"
else
    "$VENV/bin/pip" install -q --disable-pip-version-check aiosmtpd >&2 || die "aiosmtpd: pip install failed"
    "$VENV/bin/python" -c 'import aiosmtpd' || die "aiosmtpd: not importable after install"
    log "aiosmtpd: ok (installed into $VENV)"
fi
if [ -x "$VENV/bin/aws" ] && "$VENV/bin/aws" --version >/dev/null 2>&1; then
    log "awscli: ok (already in $VENV)"
else
    "$VENV/bin/pip" install -q --disable-pip-version-check awscli >&2 || die "awscli: pip install failed"
    "$VENV/bin/aws" --version >/dev/null 2>&1 || die "awscli: aws not runnable after install"
    log "awscli: ok (installed into $VENV)"
fi
# jsonschema: an independent check that real configurations follow reportctl.schema.json.
if "$VENV/bin/python" -c 'import jsonschema' >/dev/null 2>&1; then
    log "jsonschema: ok (already in $VENV)"
else
    "$VENV/bin/pip" install -q --disable-pip-version-check jsonschema >&2 || die "jsonschema: pip install failed"
    "$VENV/bin/python" -c 'import jsonschema' || die "jsonschema: not importable after install"
    log "jsonschema: ok (installed into $VENV)"
fi

# Independent readers and peers of the typed formats (tests/it and scripts/bench/):
# openpyxl reads xlsx back, pyarrow and DuckDB read Parquet back; XlsxWriter and pyarrow
# are the peers of the xlsx and Parquet benchmarks. Pinned, so a new release cannot
# change what the readback tests see.
for spec in openpyxl==3.1.5:openpyxl pyarrow==26.0.1:pyarrow duckdb==2.0.1:duckdb \
    XlsxWriter==3.3.1:xlsxwriter; do
    pkg="${spec%%:*}" module="${spec##*:}"
    if "$VENV/bin/python" -c "import $module" >/dev/null 2>&1; then
        log "$module: ok (already in $VENV)"
    else
        "$VENV/bin/pip" install -q --disable-pip-version-check "$pkg" >&2 || die "$module: pip install $pkg failed"
        "$VENV/bin/python" -c "import $module" || die "$module: not importable after install"
        log "$module: ok (installed $pkg into $VENV)"
    fi
done

# promtool: `promtool check metrics` checks the metrics reportctl writes (tests/it/metrics.rs).
PROMTOOL="$TOOLS/bin/promtool"
if [ -x "$PROMTOOL" ] && "$PROMTOOL" --version >/dev/null 2>&1; then
    log "promtool: ok (already at $PROMTOOL)"
else
    if [ "$APT_UPDATED" -eq 0 ]; then
        "${SUDO[@]}" apt-get update -qq >&2 || die "promtool: apt-get update failed"
        APT_UPDATED=1
    fi
    deb_dir="$(mktemp -d)"
    chmod 0755 "$deb_dir" # readable by apt's _apt user, which downloads
    (cd "$deb_dir" && apt-get download -qq prometheus >&2) || die "promtool: apt-get download prometheus failed"
    dpkg-deb -x "$deb_dir"/prometheus_*.deb "$deb_dir/x" || die "promtool: dpkg-deb -x failed"
    mkdir -p "$TOOLS/bin"
    install -m 0755 "$deb_dir/x/usr/bin/promtool" "$PROMTOOL" || die "promtool: not in the prometheus package"
    rm -rf "$deb_dir"
    "$PROMTOOL" --version >/dev/null 2>&1 || die "promtool: $PROMTOOL does not run"
    log "promtool: ok (extracted from the prometheus package into $PROMTOOL)"
fi

# s3s-fs (S3 server that checks signatures).
S3S="$TOOLS/bin/s3s-fs"
if [ -x "$S3S" ] && "$S3S" --help >/dev/null 2>&1; then
    log "s3s-fs: ok (already at $S3S)"
else
    command -v cargo >/dev/null 2>&1 || die "s3s-fs: cargo not found (needed to build s3s-fs)"
    log "s3s-fs: building with cargo install (takes a few minutes)"
    # A private target dir so a CARGO_TARGET_DIR set for the project is not touched.
    build_dir="$(mktemp -d)"
    if ! CARGO_TARGET_DIR="$build_dir" cargo install --locked s3s-fs --version "$S3S_VERSION" \
        --features binary --root "$TOOLS" >&2; then
        rm -rf "$build_dir"
        die "s3s-fs: cargo install failed"
    fi
    rm -rf "$build_dir"
    [ -x "$S3S" ] || die "s3s-fs: $S3S missing after cargo install"
    log "s3s-fs: ok (installed at $S3S)"
fi

# cargo-deb (builds the Debian package in scripts/package-test.sh), pinned.
CARGO_DEB="$TOOLS/bin/cargo-deb"
if [ -x "$CARGO_DEB" ] && "$CARGO_DEB" --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
    log "cargo-deb: ok (already at $CARGO_DEB)"
else
    command -v cargo >/dev/null 2>&1 || die "cargo-deb: cargo not found"
    log "cargo-deb: building with cargo install (takes a few minutes)"
    build_dir="$(mktemp -d)"
    if ! CARGO_TARGET_DIR="$build_dir" cargo install --locked "cargo-deb@$CARGO_DEB_VERSION" \
        --root "$TOOLS" >&2; then
        rm -rf "$build_dir"
        die "cargo-deb: cargo install failed"
    fi
    rm -rf "$build_dir"
    [ -x "$CARGO_DEB" ] || die "cargo-deb: $CARGO_DEB missing after cargo install"
    log "cargo-deb: ok (installed at $CARGO_DEB)"
fi

log "all test dependencies present (tools root: $TOOLS)"
