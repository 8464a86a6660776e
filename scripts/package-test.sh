#!/usr/bin/env bash
# CI test of the Debian package (not how users build it: they run `cargo deb`, see
# docs/install.md). Builds the package quickly from the dev-profile binary the test suite
# already built (`cargo deb --profile dev --no-build --strip --fast`: seconds, where a
# release build takes many minutes), installs it with dpkg -i, and checks:
#   - reportctl --version and --help run, the man page is found (when man-db is there);
#   - systemd-analyze verify on the installed units exits 0 and prints nothing;
#   - the system user reportctl exists, /var/lib/reportctl is its own and 0700;
#   - no unit is enabled or started;
#   - the example configuration validates;
# then purges the package and checks the binary and units are gone and the state
# directory was kept.
#
#   scripts/package-test.sh
#
# Root on Debian 12. Installs systemd (for systemd-analyze) when missing; needs cargo-deb
# (scripts/install-test-deps.sh puts it in $REPORTCTL_TOOLS/bin). Refuses to run where a
# reportctl package is already installed: it would replace it and purge it.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${REPORTCTL_TOOLS:-$HOME/.cache/reportctl-tools}"
export PATH="$TOOLS/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

step() { echo "package-test: $*" >&2; }
die() { echo "package-test: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (dpkg -i, adduser)"
command -v cargo-deb >/dev/null || die "cargo-deb missing: run scripts/install-test-deps.sh"
if dpkg-query -W -f='${Status}' reportctl 2>/dev/null | grep -q "installed"; then
    die "a reportctl package is installed on this machine; this test would replace and purge it"
fi
if ! command -v systemd-analyze >/dev/null; then
    step "installing systemd (for systemd-analyze)"
    apt-get update -qq && apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi

# What purge keeps by design (the user, its state directory) is removed at the end only
# when this test created it.
had_user=0 had_state=0
getent passwd reportctl >/dev/null && had_user=1
[ -e /var/lib/reportctl ] && had_state=1
work=$(mktemp -d /tmp/reportctl-package-test.XXXXXX)
chmod 0755 "$work" # the example configuration is validated as the user reportctl
cleanup() {
    if dpkg-query -W -f='${Status}' reportctl 2>/dev/null | grep -q "installed"; then
        dpkg --purge reportctl >/dev/null 2>&1 || true
    fi
    [ "$had_state" -eq 1 ] || rm -rf /var/lib/reportctl
    [ "$had_user" -eq 1 ] || ! getent passwd reportctl >/dev/null \
        || deluser --quiet --system reportctl >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
step "building the dev binary (reused from the test build when fresh) and the package"
cargo build --quiet --locked --bin reportctl
cargo deb --quiet --profile dev --no-build --strip --fast --output "$work/" 2> >(grep -v "dev profile\|To enable debug symbols\|^\s*$" >&2)
deb=$(ls "$work"/reportctl_*.deb)
step "built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(($(date +%s) - start)) s"

step "dpkg -i"
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; die "dpkg -i"; }

step "reportctl --version: $(reportctl --version)"
[ "$(command -v reportctl)" = /usr/bin/reportctl ] || die "reportctl is not /usr/bin/reportctl"
reportctl --version | grep -Eq '^reportctl [0-9.]+ \(commit ([0-9a-f]{12}|unknown), built [0-9]{4}-[0-9]{2}-[0-9]{2}\)$' \
    || die "unexpected --version output"
reportctl --help >/dev/null || die "reportctl --help"
if command -v man >/dev/null && [ -x /usr/bin/mandb ]; then
    man -w reportctl >/dev/null || die "man -w reportctl: no man page found"
    man -w reportctl-run-due >/dev/null || die "man -w reportctl-run-due"
fi
for f in /usr/share/man/man1/reportctl.1.gz /usr/share/bash-completion/completions/reportctl \
    /usr/share/zsh/vendor-completions/_reportctl /usr/share/fish/vendor_completions.d/reportctl.fish \
    /etc/reportctl/reportctl.toml.example; do
    [ -f "$f" ] || die "$f missing"
done
grep -qx /etc/reportctl/reportctl.toml.example /var/lib/dpkg/info/reportctl.conffiles \
    || die "the example configuration is not a conffile"

units=(reportctl-run-due.service reportctl-run-due.timer reportctl-serve.service)
step "systemd-analyze verify ${units[*]}"
paths=()
for u in "${units[@]}"; do paths+=("/lib/systemd/system/$u"); done
set +e
verify=$(systemd-analyze verify "${paths[@]}" 2>&1)
rc=$?
set -e
[ "$rc" -eq 0 ] && [ -z "$verify" ] || die "systemd-analyze verify: exit $rc, output: $verify"

step "user, state directory, units not enabled"
getent passwd reportctl >/dev/null || die "no system user reportctl"
uid=$(id -u reportctl)
[ "$uid" -lt 1000 ] || die "reportctl is not a system user (uid $uid)"
[ "$(stat -c '%U %a' /var/lib/reportctl)" = "reportctl 700" ] \
    || die "/var/lib/reportctl: $(stat -c '%U %a' /var/lib/reportctl), expected reportctl 700"
for u in "${units[@]}"; do
    # is-enabled reads the unit files and /etc/systemd/system even without a running
    # systemd (a container): "disabled" for the services, "static" has no [Install].
    state=$(systemctl is-enabled "$u" 2>/dev/null || true)
    case "$state" in
    disabled | static) ;;
    *) die "$u is '$state' after install, expected disabled/static" ;;
    esac
    if [ -d /run/systemd/system ] && systemctl is-active --quiet "$u"; then
        die "$u was started by the install"
    fi
done

step "the example configuration validates"
install -m 0644 /etc/reportctl/reportctl.toml.example "$work/reportctl.toml"
runuser -u reportctl -- reportctl --config "$work/reportctl.toml" validate \
    || die "validate on the example configuration"

step "dpkg --purge"
dpkg --purge reportctl >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; die "dpkg --purge"; }
[ ! -e /usr/bin/reportctl ] || die "/usr/bin/reportctl still there after purge"
[ ! -e /lib/systemd/system/reportctl-run-due.timer ] || die "units still there after purge"
[ ! -e /etc/reportctl/reportctl.toml.example ] || die "the example conffile survived purge"
[ -d /var/lib/reportctl ] || die "purge removed /var/lib/reportctl (the ledger must be kept)"
step "ok in $(($(date +%s) - start)) s (kept by purge, by design: /var/lib/reportctl and the user reportctl)"
