//! What the operator's commands read and write, written once for both back-ends like
//! `statements.rs`: `check` (`watch`: each report's standing from its row and two small
//! partial indexes, never the history), `ack`, `retry` (`claim_again`), `resend`
//! (`insert_resend`) and `list`'s last run.
//!
//! A scheduled slot given up (failed, no retry planned) or skipped *needs attention*
//! until it is settled: by `ack`, or by a later slot that completes (`settle_earlier`,
//! called when a run completes). A later slot is one recorded by a later `run-due`
//! call, so the slots a catch-up queues together with the ones it skips do not settle
//! them. `retry` takes the run up again: it needs attention again only if it fails.

use super::attention::ATTENTION;
use super::records::{load, run_row, RUN_COLUMNS};
use super::sql::{Backend, Sql, Value};
use super::statements::{insert_claimed, OPEN};
use super::*;

/// What `check` reads about a report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Watch {
    pub first_seen: Option<DateTime<Utc>>,
    pub last_slot: Option<DateTime<Utc>>,
    /// The run of the latest recorded slot (without files and receipts).
    pub latest: Option<RunRecord>,
    /// Runs still owed: queued, running, or failed with a retry planned; oldest first.
    pub open: Vec<RunRecord>,
    /// Slots given up or skipped and not settled; oldest first.
    pub attention: Vec<RunRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// This many slots settled (a catch-up's skipped slots go together).
    Acked(u64),
    NotFound,
    /// Settled before, as the text says.
    AlreadySettled(String),
    /// Not a given-up or skipped slot.
    NotCritical(RunStatus),
}

/// The operator's statements; every `Backend` has them (see `Store`).
pub trait Operations {
    /// What `check` needs about each of `reports`, in one read: each report's row and
    /// the runs of the indexes `runs_open` and `runs_attention`.
    fn watch(&mut self, reports: &[&str]) -> Result<Vec<Watch>>;

    /// Settles a given-up slot, or the slots skipped with a skipped one, by `by`.
    fn ack(&mut self, token: &str, by: &str, wall: DateTime<Utc>) -> Result<AckOutcome>;

    /// Claims a failed or skipped run again whatever its attempts (`retry`); `None`
    /// when it is not failed or skipped (any more).
    fn claim_again(
        &mut self,
        token: &str,
        claim: &Claim,
        wall: DateTime<Utc>,
    ) -> Result<Option<RunRecord>>;

    /// Records a `resend` run of `origin`, claimed.
    fn insert_resend(
        &mut self,
        run: &NewRun,
        origin: &str,
        claim: &Claim,
        wall: DateTime<Utc>,
    ) -> Result<()>;

    /// The latest run of each of `reports` (by run time; without files and receipts).
    fn last_runs(&mut self, reports: &[&str]) -> Result<Vec<Option<RunRecord>>>;
}

fn run_rows(db: &mut dyn Sql, sql: &str, args: &[Value]) -> Result<Vec<RunRecord>> {
    db.query(sql, args)?.iter().map(run_row).collect()
}

/// The runs of report `$1` that meet `cond`, in run order.
fn runs_where(cond: &str) -> String {
    format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE report = $1 AND ({cond})
         ORDER BY run_at COLLATE \"C\", token COLLATE \"C\""
    )
}

/// What `watch` reads of report `$1` besides its row: its open runs, its runs needing
/// attention, and the run of its latest slot (`$2`). Each from an index of its own
/// (the query-plan test in `sqlite.rs` holds them to it).
pub(super) fn watch_sql() -> [String; 3] {
    [
        runs_where(OPEN),
        runs_where(ATTENTION),
        format!("SELECT {RUN_COLUMNS} FROM runs WHERE report = $1 AND slot_at = $2"),
    ]
}

fn watch_one(db: &mut dyn Sql, report: &str) -> Result<Watch> {
    let mut w = Watch::default();
    let key = [report.into()];
    if let Some(row) = db.query_opt(
        "SELECT first_seen, last_slot FROM reports WHERE name = $1",
        &key,
    )? {
        w.first_seen = row.opt_ts(0)?;
        w.last_slot = row.opt_ts(1)?;
    }
    let [open, attention, latest] = watch_sql();
    w.open = run_rows(db, &open, &key)?;
    w.attention = run_rows(db, &attention, &key)?;
    if let Some(slot) = w.last_slot {
        w.latest = run_rows(db, &latest, &[report.into(), ts(slot).into()])?.pop();
    }
    Ok(w)
}

impl<B: Backend> Operations for B {
    fn watch(&mut self, reports: &[&str]) -> Result<Vec<Watch>> {
        self.read(|db| reports.iter().map(|r| watch_one(db, r)).collect())
    }

    fn ack(&mut self, token: &str, by: &str, wall: DateTime<Utc>) -> Result<AckOutcome> {
        // A skipped slot is settled with the others its catch-up skipped.
        let sql = format!(
            "UPDATE runs SET settled_at = $2, settled_by = $3
              WHERE {ATTENTION}
                AND (token = $1 OR (status = '{skipped}' AND (report, created_at) =
                     (SELECT report, created_at FROM runs WHERE token = $1 AND status = '{skipped}')))",
            skipped = RunStatus::Skipped
        );
        self.write(|db| {
            let n = db.execute(&sql, &[token.into(), ts(wall).into(), by.into()])?;
            if n > 0 {
                return Ok(AckOutcome::Acked(n));
            }
            Ok(match load(db, token)? {
                None => AckOutcome::NotFound,
                Some(RunRecord {
                    settled_by: Some(by),
                    ..
                }) => AckOutcome::AlreadySettled(by),
                Some(run) => AckOutcome::NotCritical(run.status),
            })
        })
    }

    fn claim_again(
        &mut self,
        token: &str,
        claim: &Claim,
        wall: DateTime<Utc>,
    ) -> Result<Option<RunRecord>> {
        let sql = format!(
            "UPDATE runs SET status = '{}', owner = $2, lease_until = $3,
                attempts = attempts + 1, started_at = $4, updated_at = $4,
                next_attempt_at = NULL, settled_at = NULL, settled_by = NULL
             WHERE token = $1 AND status IN ('{}', '{}')",
            RunStatus::Running,
            RunStatus::Failed,
            RunStatus::Skipped
        );
        self.write(|db| {
            let args = [
                token.into(),
                (&claim.owner).into(),
                ts(claim.until(wall)).into(),
                ts(wall).into(),
            ];
            if db.execute(&sql, &args)? == 0 {
                return Ok(None);
            }
            load(db, token)
        })
    }

    fn insert_resend(
        &mut self,
        run: &NewRun,
        origin: &str,
        claim: &Claim,
        wall: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|db| {
            insert_claimed(db, run, claim, wall)?;
            db.execute(
                "UPDATE runs SET origin = $2 WHERE token = $1",
                &[(&run.token).into(), origin.into()],
            )?;
            Ok(())
        })
    }

    fn last_runs(&mut self, reports: &[&str]) -> Result<Vec<Option<RunRecord>>> {
        // The index `runs_latest` answers each with one probe.
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE report = $1 AND run_at IS NOT NULL
             ORDER BY run_at COLLATE \"C\" DESC, created_at COLLATE \"C\" DESC LIMIT 1"
        );
        self.read(|db| {
            reports
                .iter()
                .map(|r| Ok(run_rows(db, &sql, &[(*r).into()])?.pop()))
                .collect()
        })
    }
}
