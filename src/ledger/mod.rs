//! The ledger: every run, its files and its per-destination receipts, and the claims
//! that make `run-due` safe to run from several cron jobs (or hosts) at once.
//!
//! A scheduled slot becomes one run, keyed by a token derived from the report and the
//! slot's time, so every process agrees on it. Its status moves
//! `queued → running → completed | failed`; `cancelled` (queued runs only) and `skipped`
//! (missed slots beyond `catch_up`) end it too. A process *claims* a run by moving it to
//! `running` with itself as owner and a lease; it keeps the lease alive while it works,
//! and a run whose lease expired (its process died) can be claimed again. The claim is
//! one conditional UPDATE inside a write transaction, so two processes can never both
//! win it.
//!
//! Two clocks: `now` is the logical time of the schedule (`--now`), used for slots and
//! retry times; `wall` is the machine's clock, used for leases and bookkeeping.
//!
//! Two back-ends, SQLite (`sqlite.rs`) and PostgreSQL (`postgres.rs`), keep only how they
//! open, migrate, lock and retry; every statement is written once, for both
//! (`statements.rs`, `records.rs`), over the seam in `sql.rs`; `schema.rs` holds the
//! tables.

mod attention;
pub mod metrics;
mod ops;
mod outcome;
pub mod postgres;
mod records;
mod retention;
pub mod schema;
mod sql;
pub mod sqlite;
mod statements;
mod writes;

use std::fmt;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::config::recipients::Recipient;
use crate::config::{Config, StateLocation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// A slot of the report's schedule, run by `run-due`.
    Scheduled,
    /// `reportctl run`.
    Manual,
    /// `reportctl send-test`.
    Test,
    /// `reportctl resend`: a completed run delivered again on purpose (`origin` names
    /// it). Never a slot: it has no `slot_at`, so it can never stand for one.
    Resend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    Skipped,
}

macro_rules! names {
    ($t:ty { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            pub fn name(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

names!(RunKind {
    Scheduled = "scheduled",
    Manual = "manual",
    Test = "test",
    Resend = "resend",
});
names!(RunStatus {
    Queued = "queued",
    Running = "running",
    Completed = "completed",
    Failed = "failed",
    Cancelled = "cancelled",
    Skipped = "skipped",
});
names!(NotSent {
    Empty = "empty",
    ConditionFalse = "condition-false",
});
names!(ReceiptStatus { Pending = "pending", Delivered = "delivered", Failed = "failed" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStatus {
    Pending,
    Delivered,
    Failed,
}

/// Why a completed run delivered nothing on purpose (schema version 5: run outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotSent {
    /// `send_empty = false` and the files held no rows.
    Empty,
    /// The report's `condition` was false.
    ConditionFalse,
}

impl NotSent {
    /// As people read it: `empty, not sent`.
    pub fn words(self) -> &'static str {
        match self {
            NotSent::Empty => "empty, not sent",
            NotSent::ConditionFalse => "condition false, not sent",
        }
    }
}

/// A run to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub token: String,
    pub report: String,
    pub kind: RunKind,
    /// The scheduled slot's time (scheduled runs only).
    pub slot_at: Option<DateTime<Utc>>,
    /// The logical time the run is for: the slot, or the moment of a manual run.
    pub run_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub max_attempts: u32,
    /// `queued`, or `skipped` with `detail` for slots beyond the catch-up cap.
    pub status: RunStatus,
    pub detail: String,
    /// The recipient this run is for (reports with `[reports.recipients]`).
    pub recipient: Option<Recipient>,
}

/// Who holds a run, until when.
#[derive(Debug, Clone)]
pub struct Claim {
    pub owner: String,
    pub lease: std::time::Duration,
}

impl Claim {
    /// A claim owner unique to this process: host, pid and a random part.
    pub fn new(lease: std::time::Duration) -> Self {
        let host = crate::fsutil::hostname();
        let owner = format!(
            "{host}:{}:{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        Claim { owner, lease }
    }

    pub fn until(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        wall + chrono::Duration::from_std(self.lease).expect("lease fits")
    }
}

/// Another process took over a run this one had claimed (the lease expired): this
/// process must record nothing more about the run. Said by the ledger when a write
/// finds another owner, and by the runner when its lease keeper saw the lease go.
#[derive(Debug, thiserror::Error)]
#[error("lost the claim on run {token}: another process took it over after the lease expired")]
pub struct LostClaim {
    pub token: String,
}

/// A finished file of a run: what `render` made, the ledger records, a retry checks the
/// spool against, and destinations deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRecord {
    /// The output's type (`VIEWS`).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub file: String,
    pub url: String,
    pub expires: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptRecord {
    pub destination: String,
    pub status: ReceiptStatus,
    pub attempts: u32,
    pub detail: String,
    pub updated_at: DateTime<Utc>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub token: String,
    pub report: String,
    pub kind: RunKind,
    pub slot_at: Option<DateTime<Utc>>,
    pub run_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub status: RunStatus,
    pub detail: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// A `resend` run: the token of the run it delivered again.
    pub origin: Option<String>,
    /// A given-up or skipped slot that no longer needs attention: how (`ack`, `retry`,
    /// a later slot completed).
    pub settled_by: Option<String>,
    /// A completed run that delivered nothing on purpose: why.
    pub not_sent: Option<NotSent>,
    /// The recipient the run is for, with its columns as recorded.
    pub recipient: Option<Recipient>,
    pub files: Vec<FileRecord>,
    pub receipts: Vec<ReceiptRecord>,
}

/// A run `run-due` should take, as `Store::pending` lists it: what is needed to hand it
/// over and show it. The whole record is read when the run is claimed: a slot of
/// thousands of recipients is listed in a few hundred bytes per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRun {
    pub token: String,
    pub run_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    /// The key of the recipient the run is for.
    pub recipient: Option<String>,
}

/// A report's standing in the ledger, as `run-due` reads it (see `Store::report_states`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportState {
    pub first_seen: Option<DateTime<Utc>>,
    pub last_slot: Option<DateTime<Utc>>,
    /// False only when the report has no run that is queued, running, or failed with a
    /// retry time: then `abandon_expired` and `pending` have nothing to find.
    pub open: bool,
}

/// How a claimed run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Completed; `detail` is empty unless something on the side went wrong (the notify
    /// mail could not be sent).
    Completed { detail: String },
    /// Failed; `retry_at` is when `run-due` may try again (`None`: never).
    Failed {
        detail: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    NotFound,
    NotQueued(RunStatus),
}

/// A ledger back-end. Every method is one transaction.
pub trait Store: Operations + Metrics + Outcomes + Send {
    /// When `report` was first seen. With `record`, a report never seen is recorded as
    /// first seen then.
    fn first_seen(
        &mut self,
        report: &str,
        record: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>>;

    /// Moves a first sight recorded later than `wall` (by an older reportctl, from a
    /// `run-due --now` in the future) back to `wall`; returns the time it had.
    fn correct_first_seen(
        &mut self,
        report: &str,
        wall: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;

    /// The latest scheduled slot recorded for `report`, whatever its status.
    fn last_slot(&mut self, report: &str) -> Result<Option<DateTime<Utc>>>;

    /// What `run-due` reads about each of `reports` before planning them, without
    /// writing: when it was first seen, its latest slot, and whether it has open runs.
    fn report_states(&mut self, reports: &[&str]) -> Result<Vec<ReportState>>;

    /// Records scheduled runs; a token already recorded is left as it is.
    fn enqueue(&mut self, runs: &[NewRun], wall: DateTime<Utc>) -> Result<()>;

    /// Records scheduled runs already settled `by` (slots skipped while their report
    /// was paused: they need no attention); a token already recorded is left as it is.
    fn enqueue_settled(&mut self, runs: &[NewRun], by: &str, wall: DateTime<Utc>) -> Result<()>;

    /// Records a manual or test run, already claimed by `claim`.
    fn insert_claimed(&mut self, run: &NewRun, claim: &Claim, wall: DateTime<Utc>) -> Result<()>;

    /// Marks failed (given up) the runs of `report` whose process died (lease expired)
    /// after their last attempt; returns their tokens. Of processes doing this at once,
    /// each run is returned to one only.
    fn abandon_expired(&mut self, report: &str, wall: DateTime<Utc>) -> Result<Vec<String>>;

    /// Runs of `report` that `run-due` should take: queued; running with an expired
    /// lease and attempts left; failed with attempts left whose retry time has come.
    fn pending(
        &mut self,
        report: &str,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Vec<PendingRun>>;

    /// Records a test run, claimed, unless another test run of the same report was
    /// recorded less than `interval` ago: then returns when that one was.
    fn insert_test(
        &mut self,
        run: &NewRun,
        claim: &Claim,
        wall: DateTime<Utc>,
        interval: chrono::Duration,
    ) -> Result<std::result::Result<(), DateTime<Utc>>>;

    /// Claims the run if it is still claimable (same conditions as `pending`);
    /// returns it, attempts counted, or `None` when another process has it.
    fn claim(
        &mut self,
        token: &str,
        claim: &Claim,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Option<RunRecord>>;

    /// Extends the lease; `false` when the run is no longer ours.
    fn renew(&mut self, token: &str, claim: &Claim, wall: DateTime<Utc>) -> Result<bool>;

    /// Records the files of a claimed run (replacing earlier ones).
    fn set_files(&mut self, token: &str, owner: &str, files: &[FileRecord]) -> Result<()>;

    /// Records how delivery to one destination went.
    #[allow(clippy::too_many_arguments)]
    fn set_receipt(
        &mut self,
        token: &str,
        owner: &str,
        destination: &str,
        status: ReceiptStatus,
        detail: &str,
        links: &[Link],
        wall: DateTime<Utc>,
    ) -> Result<()>;

    /// Ends a claimed run. Fails if the claim was lost.
    fn finish(
        &mut self,
        token: &str,
        owner: &str,
        finish: &Finish,
        wall: DateTime<Utc>,
    ) -> Result<()>;

    fn cancel(&mut self, token: &str, wall: DateTime<Utc>) -> Result<CancelOutcome>;

    fn get(&mut self, token: &str) -> Result<Option<RunRecord>>;

    /// Up to `limit` tokens that start with `prefix` (lower-case hex), in order.
    fn tokens_starting(&mut self, prefix: &str, limit: usize) -> Result<Vec<String>>;

    /// The most recent runs, newest first.
    fn history(&mut self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>>;

    /// Deletes at most `limit` finished runs recorded and last changed before `before`
    /// (with their files, receipts and links) that nothing needs any more (see
    /// `retention.rs`), in one transaction; returns how many went.
    fn prune_runs(&mut self, before: DateTime<Utc>, limit: usize) -> Result<u64>;

    /// Files delivered to `destination` before `before` (wall clock), with when.
    fn delivered_files(
        &mut self,
        destination: &str,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>>;
}

pub type Ledger = Box<dyn Store>;

pub use metrics::Metrics;
pub use ops::{AckOutcome, Operations, Watch};
pub use outcome::{NotSentCount, Outcomes};

/// Opens the ledger the configuration names for writing, creating or migrating it;
/// waits at most `lock_timeout_seconds` for another process (then exit code 75).
pub fn open(config: &Config) -> Result<Ledger> {
    let timeout = config.settings.lock_timeout;
    match &config.settings.state {
        StateLocation::Sqlite(path) => {
            Ok(Box::new(sqlite::SqliteStore::open_within(path, timeout)?))
        }
        StateLocation::Postgres { url, password } => Ok(Box::new(
            self::postgres::PostgresStore::open_within(url, password.as_ref(), timeout)?,
        )),
    }
}

/// Opens the ledger for reading (`history`, `list`, `status`): never waits behind a
/// writer and creates nothing; `None` when there is no SQLite ledger yet.
pub fn open_read(config: &Config) -> Result<Option<Ledger>> {
    let timeout = config.settings.lock_timeout;
    match &config.settings.state {
        StateLocation::Sqlite(path) => {
            Ok(sqlite::SqliteStore::open_read(path, timeout)?.map(|s| Box::new(s) as Ledger))
        }
        StateLocation::Postgres { .. } => open(config).map(Some),
    }
}

/// The ledger for reading, or an empty one in memory when there is none yet: what a
/// command that only looks (`run-due --dry-run`) sees before the first run.
pub fn open_read_or_empty(config: &Config) -> Result<Ledger> {
    match open_read(config)? {
        Some(l) => Ok(l),
        None => Ok(Box::new(sqlite::SqliteStore::memory()?)),
    }
}

/// Where the ledger is, for messages.
pub fn describe(config: &Config) -> String {
    match &config.settings.state {
        StateLocation::Sqlite(path) => path.display().to_string(),
        StateLocation::Postgres { .. } => "the PostgreSQL ledger".into(),
    }
}

/// Timestamps are stored as fixed-width UTC text, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)
        .map_err(|e| anyhow::anyhow!("bad timestamp {s:?} in the ledger: {e}"))?
        .with_timezone(&Utc))
}
