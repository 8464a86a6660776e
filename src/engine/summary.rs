//! A run in one line, as `run-due` shows it and heartbeat pings carry it.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

use crate::ledger::{ReceiptStatus, RunRecord};

/// A time in the report's zone, to the second: `2026-11-30T07:00:00+01:00`.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Which run: `Daily Views 2026-11-25T06:00:00-05:00 [5760b598a08f93b5]`, and for a
/// recipient's run `Daily Views (recipient p1) …`.
pub fn head(run: &RunRecord, tz: Tz) -> String {
    let who = match &run.recipient {
        Some(r) => format!(" (recipient {})", r.key.escape_default()),
        None => String::new(),
    };
    format!(
        "{}{who} {} [{}]",
        run.report,
        local(run.run_at, tz),
        run.token
    )
}

/// `Daily Views 2026-11-25T06:00:00-05:00: completed, 3 rows in 1 file, delivered to local`.
pub fn summary(run: &RunRecord, tz: Tz) -> String {
    let rows: u64 = run.files.iter().map(|f| f.rows).sum();
    let mut s = format!("{}: {}", head(run, tz), run.status);
    if !run.files.is_empty() {
        s.push_str(&format!(
            ", {} in {}",
            crate::ui::count(rows, "row", "rows"),
            crate::ui::count(run.files.len() as u64, "file", "files")
        ));
    }
    let delivered: Vec<_> = run
        .receipts
        .iter()
        .filter(|r| r.status == ReceiptStatus::Delivered)
        .map(|r| r.destination.as_str())
        .collect();
    if !delivered.is_empty() {
        s.push_str(&format!(", delivered to {}", delivered.join(", ")));
    }
    if !run.detail.is_empty() {
        s.push_str(&format!(": {}", run.detail));
    }
    s
}
