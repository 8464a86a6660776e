//! What the webhook, Slack and Teams destinations say about a run: the summary line,
//! the facts of each file, and the download links of the run's S3 destination.

use anyhow::Result;

use super::email::Facts;
use super::Delivery;
use crate::ledger::Link;

/// What a `send-test` message starts with (as a test mail's subject).
pub use super::email::TEST_SUBJECT as TEST_PREFIX;

/// `Report "Daily sales": 1234 rows in 2 files, 2026-01-01 00:00 to 2026-01-02 00:00
/// (Europe/Berlin)`, with `[TEST] ` before it for `send-test`.
pub fn summary(d: &Delivery<'_>) -> String {
    let rows: u64 = d.files.iter().map(|f| f.rows).sum();
    format!(
        "{}Report \"{}\": {} in {}, {}",
        if d.test { TEST_PREFIX } else { "" },
        d.report.name,
        crate::ui::count(rows, "row", "rows"),
        crate::ui::count(d.files.len() as u64, "file", "files"),
        window(d)
    )
}

/// The window as messages show it: `2026-01-01 00:00 to 2026-01-02 00:00 (UTC)`.
pub fn window(d: &Delivery<'_>) -> String {
    Facts::of(d).render("{window}").unwrap_or_default()
}

/// Download links to the run's files when an S3 destination of the report has them.
pub fn links(d: &Delivery<'_>) -> Result<Vec<Link>> {
    super::download_links(d.config, d.report, d.delivered, d.files)
}
