//! Versioned schema migrations of the ledger. Each entry brings the schema from version
//! `i` to `i + 1`; the version is kept in `meta`. A ledger written by a newer reportctl
//! is refused rather than misread.
//!
//! The SQL is portable between SQLite and PostgreSQL (TEXT timestamps in fixed-width
//! UTC RFC 3339, BIGINT counters), so both back-ends share it; each runs `upgrade` under
//! its own lock.

use anyhow::{bail, Context, Result};

use super::sql::Sql;

pub const MIGRATIONS: &[&str] = &[
    // 1: runs, files, receipts, links, first-seen.
    "
    CREATE TABLE reports (
        name TEXT PRIMARY KEY,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE runs (
        token TEXT PRIMARY KEY,
        report TEXT NOT NULL,
        kind TEXT NOT NULL,
        slot_at TEXT,
        run_at TEXT NOT NULL,
        window_from TEXT NOT NULL,
        window_to TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        attempts BIGINT NOT NULL DEFAULT 0,
        max_attempts BIGINT NOT NULL,
        next_attempt_at TEXT,
        owner TEXT,
        lease_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    );
    CREATE UNIQUE INDEX runs_slot ON runs (report, slot_at) WHERE slot_at IS NOT NULL;
    CREATE INDEX runs_report_status ON runs (report, status);
    CREATE INDEX runs_created ON runs (created_at);
    CREATE TABLE files (
        token TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        rows BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (token, seq)
    );
    CREATE TABLE receipts (
        token TEXT NOT NULL,
        destination TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        delivered_at TEXT,
        PRIMARY KEY (token, destination)
    );
    CREATE INDEX receipts_destination ON receipts (destination, delivered_at);
    CREATE TABLE links (
        token TEXT NOT NULL,
        destination TEXT NOT NULL,
        file TEXT NOT NULL,
        url TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (token, destination, file)
    );
    ",
    // 2: what `run-due` reads about every report, kept apart from the history so that
    // the read does not grow with it: each report's latest recorded slot (written with
    // every scheduled run), and an index of the runs still owed (queued, running, or
    // failed with a retry planned). The status words are those of `RunStatus` (a
    // migration is fixed once released).
    "
    CREATE INDEX runs_open ON runs (report)
        WHERE status IN ('queued', 'running') OR (status = 'failed' AND next_attempt_at IS NOT NULL);
    ALTER TABLE reports ADD COLUMN last_slot TEXT;
    UPDATE reports SET last_slot = (
        SELECT max(slot_at COLLATE \"C\") FROM runs
         WHERE runs.report = reports.name AND slot_at IS NOT NULL
    );
    ",
    // 3: what `check`, `ack`, `retry` and `resend` need. A scheduled run given up
    // (failed, no retry planned) or skipped needs attention until it is *settled*: by
    // `ack`, by `retry`, or by a later slot (recorded in a later run-due call) that
    // completes; `settled_at`/`settled_by` say when and how. The partial index
    // `runs_attention` holds the unsettled ones only, so `check` reads what is wrong,
    // not the history. `origin` links a `resend` run to the run it sent again;
    // `runs_latest` finds a report's latest run for `list` (partial, like `runs_slot`,
    // so that no other statement mistakes it for an index of the report's runs). Runs
    // given up or skipped before this version count as settled when a later slot
    // completed.
    "
    ALTER TABLE runs ADD COLUMN origin TEXT;
    ALTER TABLE runs ADD COLUMN settled_at TEXT;
    ALTER TABLE runs ADD COLUMN settled_by TEXT;
    CREATE INDEX runs_attention ON runs (report)
        WHERE kind = 'scheduled' AND settled_at IS NULL
          AND (status = 'skipped' OR (status = 'failed' AND next_attempt_at IS NULL));
    CREATE INDEX runs_latest ON runs (report, run_at COLLATE \"C\") WHERE run_at IS NOT NULL;
    UPDATE runs SET settled_at = updated_at, settled_by = 'a later slot completed'
     WHERE kind = 'scheduled' AND settled_at IS NULL
          AND (status = 'skipped' OR (status = 'failed' AND next_attempt_at IS NULL))
       AND EXISTS (
           SELECT 1 FROM runs later
            WHERE later.report = runs.report AND later.kind = 'scheduled'
              AND later.status = 'completed'
              AND later.slot_at COLLATE \"C\" > runs.slot_at
              AND later.created_at COLLATE \"C\" > runs.created_at);
    ",
    // 4: delivery counters for the metrics (`metrics.rs`): per destination and outcome
    // (`delivered`, `failed`), one per delivery attempt, incremented in the transaction
    // that records the receipt, so that they never go down; pruning old runs and
    // receipts leaves them alone. Started from the receipts already recorded: each
    // delivered receipt is one delivery, its other attempts failed ones.
    "
    CREATE TABLE delivery_counts (
        destination TEXT NOT NULL,
        outcome TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (destination, outcome)
    );
    INSERT INTO delivery_counts (destination, outcome, count)
        SELECT destination, 'delivered', count(*) FROM receipts
         WHERE status = 'delivered' GROUP BY destination;
    INSERT INTO delivery_counts (destination, outcome, count)
        SELECT destination, 'failed',
               CAST(sum(attempts - CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS BIGINT)
          FROM receipts GROUP BY destination
        HAVING sum(attempts - CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) > 0;
    ",
    // 5: run outcome. A completed run that delivered nothing on purpose says why in
    // `runs.outcome` (`NotSent`: 'empty', 'condition-false'; NULL for every other run),
    // and `not_sent_counts` counts such runs per report and reason for the metrics,
    // incremented in the transaction that finishes the run (like `delivery_counts`,
    // it never goes down and survives pruning).
    "
    ALTER TABLE runs ADD COLUMN outcome TEXT;
    CREATE TABLE not_sent_counts (
        report TEXT NOT NULL,
        reason TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (report, reason)
    );
    ",
    // 6: recipients (below).
    RECIPIENTS,
];

/// v6: recipients. A report with recipients records one run per (slot, recipient):
/// `recipient` is the recipient's key ('' for a run of no recipient, as every run before
/// this version), `recipient_values` its columns as JSON, fixed when the slot's runs are
/// recorded. A slot is unique per recipient. Self-contained, so that it can move to
/// another version number.
const RECIPIENTS: &str = "
    ALTER TABLE runs ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN recipient_values TEXT;
    DROP INDEX runs_slot;
    CREATE UNIQUE INDEX runs_slot ON runs (report, slot_at, recipient) WHERE slot_at IS NOT NULL;
";

pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema version in `meta` (0: none; a version this reportctl cannot read is
/// `i64::MAX`). Fails where there is no `meta` table.
pub fn version(db: &mut dyn Sql) -> Result<i64> {
    let row = db.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?;
    Ok(match row {
        Some(row) => row.text(0)?.parse().unwrap_or(i64::MAX),
        None => 0,
    })
}

/// Brings the tables to `VERSION` within the caller's write transaction; refuses a
/// ledger of a newer reportctl.
pub fn upgrade(db: &mut dyn Sql) -> Result<()> {
    db.batch("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")?;
    let version = version(db)?;
    if version > VERSION {
        bail!(newer(version));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        db.batch(sql)
            .with_context(|| format!("migrating the ledger to schema version {}", i + 1))?;
    }
    set_meta(db, "schema_version", &VERSION.to_string())
}

/// Sets `key` in `meta` to `value`.
pub(super) fn set_meta(db: &mut dyn Sql, key: &str, value: &str) -> Result<()> {
    db.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[key.into(), value.into()],
    )?;
    Ok(())
}

/// Why a ledger of schema `version` is refused.
pub fn newer(version: i64) -> String {
    format!("it was written by a newer reportctl (schema version {version}; this one knows up to {VERSION}); upgrade reportctl")
}
