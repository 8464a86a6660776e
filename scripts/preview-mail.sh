#!/bin/sh
# Renders the HTML part of a report mail and screenshots it with headless Chromium, so
# that a person can look at the preview (not run in CI; see docs/delivery.md).
#
#   scripts/preview-mail.sh [OUTDIR]
#
# Builds reportctl, starts the test SMTP server (scripts/test-servers/start.sh, as
# root) in a temporary directory, runs a report on the example data whose rows hold
# what a preview must survive (markup, ampersands, quotes, NULL, empty text, a long
# cell, a non-Latin script), takes the HTML part from the mail the server stored and
# writes OUTDIR/preview.html and OUTDIR/preview.png (default: a new directory under
# /tmp, outside the repository). Installs Debian's chromium with apt when it is missing.
# Characters the machine has no font for (CJK without fonts-noto-cjk) show as boxes in
# the screenshot only; the HTML carries them as UTF-8.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(mktemp -d /tmp/reportctl-preview.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
case "$out/" in "$repo"/*) echo "preview-mail: OUTDIR must be outside the repository" >&2; exit 2 ;; esac

if ! command -v chromium >/dev/null 2>&1; then
    echo "preview-mail: installing chromium (apt)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

(cd "$repo" && cargo build -q)
bin=$repo/target/debug/reportctl

work=$(mktemp -d /tmp/reportctl-preview-work.XXXXXX)
servers=$work/servers
cleanup() {
    "$repo/scripts/test-servers/stop.sh" "$servers" smtp >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
if ! "$repo/scripts/test-servers/start.sh" "$servers" smtp >"$work/start.log" 2>&1; then
    cat "$work/start.log" >&2
    exit 1
fi
. "$servers/servers.env"

cat > "$work/extra.sql" <<'SQL'
CREATE TABLE notes (event_id INTEGER, note TEXT);
INSERT INTO notes VALUES
  (1, '<script>alert("x")</script> & friends'),
  (2, NULL),
  (3, ''),
  (4, 'Tom''s "quoted" <b>bold</b>'),
  (5, 'A very long note that goes on and on, far beyond what a table cell in a mail should show, so that the preview cuts it with an ellipsis instead of stretching the table across the screen'),
  (6, 'Ünïcödé — 日本語のテキスト — ✓');
SQL
cat > "$work/reports.toml" <<TOML
[settings]
timezone = "UTC"

[settings.smtp]
host = "127.0.0.1"
port = $RCTL_TEST_SMTP_PLAIN_PORT
tls = "none"
from = "Reports <reports@example.com>"

[sources.events]
kind = "sqlite"
init = ["$repo/examples/data/events.sql", "extra.sql"]

[destinations.team]
kind = "email"
to = ["preview@example.com"]
preview_rows = 8

[[reports]]
name = "Daily Events"
source = "events"
destinations = ["team"]
file_name = "{type}_{name_}_{from}.csv"
[[reports.outputs]]
type = "EVENTS"
query = """
SELECT e.id, e.event_time, e.event_type, e.country, e.revenue, n.note
FROM events e LEFT JOIN notes n ON n.event_id = e.id
WHERE e.event_time >= :from AND e.event_time < :to ORDER BY e.id
"""
[[reports.outputs]]
type = "BY_TYPE"
query = """
SELECT event_type, count(*) AS events, round(sum(revenue), 2) AS revenue
FROM events WHERE event_time >= :from AND event_time < :to
GROUP BY event_type ORDER BY event_type
"""
[reports.schedule]
frequency = "daily"
TOML

(cd "$work" && "$bin" run "Daily Events" --from 2026-06-01 --to 2026-06-01 >/dev/null)

"$RCTL_TEST_PYTHON" - "$RCTL_TEST_SMTP_MAILDIR" "$out/preview.html" <<'PY'
import email, email.policy, mailbox, sys
box = mailbox.Maildir(sys.argv[1], factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default), create=False)
html = [p.get_content() for m in box for p in m.walk() if p.get_content_type() == "text/html"]
if not html:
    sys.exit("preview-mail: the mail has no HTML part")
open(sys.argv[2], "w", encoding="utf-8").write(html[-1])
PY

chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1400 \
    --screenshot="$out/preview.png" "file://$out/preview.html" >/dev/null 2>&1
echo "$out/preview.png"
