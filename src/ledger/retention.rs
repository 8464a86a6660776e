//! Ledger retention: which finished runs `run-due`'s housekeeping may delete, with their
//! files, receipts and links, so that the ledger stays small over years. A run is kept
//! while it is young (recorded or last changed after the cutoff), still owed (`OPEN`:
//! attempts left), needing attention (`ATTENTION`: what `check` reports as critical),
//! its report's latest run (what `list` and `check` show), or its report's latest
//! recorded slot (what `run-due`'s planning starts after). Delivery counters live
//! elsewhere and are not touched.

use super::attention::ATTENTION;
use super::sql::Sql;
use super::*;

/// The tokens of up to `$2` runs recorded and last changed before `$1` that may go, in
/// no particular order (an order would make each batch weigh every old run, not `$2`); `open` is the condition of a run still owed (`statements::OPEN`).
/// Unqualified columns are those of `r`.
fn prunable(open: &str) -> String {
    format!(
        "SELECT r.token FROM runs r
          WHERE r.created_at COLLATE \"C\" < $1 AND r.updated_at COLLATE \"C\" < $1
            AND NOT ({open}) AND NOT ({ATTENTION})
            AND (r.slot_at IS NULL
                 OR r.slot_at COLLATE \"C\" < (SELECT last_slot FROM reports WHERE name = r.report))
            AND EXISTS (SELECT 1 FROM runs later WHERE later.report = r.report
                          AND later.run_at COLLATE \"C\" > r.run_at COLLATE \"C\")
          LIMIT $2"
    )
}

/// Deletes one batch of at most `limit` prunable runs older than `before` and their
/// rows in `files`, `receipts` and `links`, in the caller's write transaction; returns
/// how many runs went.
pub(super) fn prune_batch(
    db: &mut dyn Sql,
    open: &str,
    before: DateTime<Utc>,
    limit: usize,
) -> Result<u64> {
    let tokens: Vec<String> = db
        .query(&prunable(open), &[ts(before).into(), (limit as i64).into()])?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    if tokens.is_empty() {
        return Ok(0);
    }
    // One statement per table for the whole batch: `token IN ($1, …, $n)`.
    let list: Vec<String> = (1..=tokens.len()).map(|i| format!("${i}")).collect();
    let args: Vec<_> = tokens.iter().map(|t| t.into()).collect();
    for table in ["files", "receipts", "links"] {
        let sql = format!("DELETE FROM {table} WHERE token IN ({})", list.join(", "));
        db.execute(&sql, &args)?;
    }
    let sql = format!("DELETE FROM runs WHERE token IN ({})", list.join(", "));
    let removed = db.execute(&sql, &args)?;
    Ok(removed)
}
