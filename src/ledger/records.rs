//! Runs read back from the ledger: a `runs` row (of `RUN_COLUMNS`) with its files,
//! receipts and links, as a `RunRecord`.

use anyhow::anyhow;

use super::sql::{Row, Sql, Value};
use super::*;
use crate::config::recipients::Recipient;

/// The columns of `runs` that `runs` reads, in its order.
pub(super) const RUN_COLUMNS: &str =
    "token, report, kind, slot_at, run_at, window_from, window_to, status, detail,
     attempts, max_attempts, next_attempt_at, owner, created_at, updated_at, finished_at,
     origin, settled_by, outcome, recipient, recipient_values";

/// The run with `token`, if any.
pub(super) fn load(db: &mut dyn Sql, token: &str) -> Result<Option<RunRecord>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE token = $1");
    let rows = db.query(&sql, &[token.into()])?;
    Ok(runs(db, &rows)?.pop())
}

/// The runs of `rows` (of `RUN_COLUMNS`), with their files and receipts.
pub(super) fn runs(db: &mut dyn Sql, rows: &[Row]) -> Result<Vec<RunRecord>> {
    rows.iter()
        .map(|row| {
            let mut run = run_row(row)?;
            details(db, &mut run)?;
            Ok(run)
        })
        .collect()
}

/// A `runs` row (files and receipts are filled in by `details`).
pub(super) fn run_row(r: &Row) -> Result<RunRecord> {
    let kind = r.text(2)?;
    let status = r.text(7)?;
    Ok(RunRecord {
        token: r.text(0)?,
        report: r.text(1)?,
        kind: RunKind::parse(&kind).ok_or_else(|| anyhow!("unknown run kind {kind:?}"))?,
        slot_at: r.opt_ts(3)?,
        run_at: r.ts(4)?,
        window_from: r.ts(5)?,
        window_to: r.ts(6)?,
        status: RunStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
        detail: r.text(8)?,
        attempts: r.int(9)? as u32,
        max_attempts: r.int(10)? as u32,
        next_attempt_at: r.opt_ts(11)?,
        owner: r.opt_text(12)?,
        created_at: r.ts(13)?,
        updated_at: r.ts(14)?,
        finished_at: r.opt_ts(15)?,
        origin: r.opt_text(16)?,
        settled_by: r.opt_text(17)?,
        not_sent: r.opt_text(18)?.as_deref().and_then(NotSent::parse),
        recipient: recipient(r.text(19)?, r.opt_text(20)?)?,
        files: Vec::new(),
        receipts: Vec::new(),
    })
}

/// The recipient of a run: its key and columns (`None`: a run of no recipient).
fn recipient(key: String, values: Option<String>) -> Result<Option<Recipient>> {
    if key.is_empty() {
        return Ok(None);
    }
    let values = values.unwrap_or_else(|| "[]".into());
    Ok(Some(
        Recipient::from_json(&key, &values).map_err(|e| anyhow!(e))?,
    ))
}

fn details(db: &mut dyn Sql, run: &mut RunRecord) -> Result<()> {
    let token = Value::from(&run.token);
    let files = db.query(
        "SELECT kind, name, rows, bytes, sha256 FROM files WHERE token = $1 ORDER BY seq",
        std::slice::from_ref(&token),
    )?;
    for r in files {
        run.files.push(FileRecord {
            kind: r.text(0)?,
            name: r.text(1)?,
            rows: r.int(2)? as u64,
            bytes: r.int(3)? as u64,
            sha256: r.text(4)?,
        });
    }
    let receipts = db.query(
        "SELECT destination, status, attempts, detail, updated_at FROM receipts
         WHERE token = $1 ORDER BY destination COLLATE \"C\"",
        std::slice::from_ref(&token),
    )?;
    for r in receipts {
        let destination = r.text(0)?;
        let status = r.text(1)?;
        let links = db.query(
            "SELECT file, url, expires_at FROM links WHERE token = $1 AND destination = $2
             ORDER BY file COLLATE \"C\"",
            &[token.clone(), (&destination).into()],
        )?;
        run.receipts.push(ReceiptRecord {
            destination,
            status: ReceiptStatus::parse(&status)
                .ok_or_else(|| anyhow!("unknown receipt status {status:?} in the ledger"))?,
            attempts: r.int(2)? as u32,
            detail: r.text(3)?,
            updated_at: r.ts(4)?,
            links: links
                .iter()
                .map(|l| {
                    Ok(Link {
                        file: l.text(0)?,
                        url: l.text(1)?,
                        expires: l.ts(2)?,
                    })
                })
                .collect::<Result<_>>()?,
        });
    }
    Ok(())
}
