//! What the metrics (`crate::metrics`) read from the ledger, written once for both
//! back-ends like `statements.rs`: each report's latest ended run and latest success
//! (from the index `runs_latest`, never the whole history), the delivery counters of
//! schema version 4, and what the last `run-due` call recorded about itself.
//!
//! The delivery counters count attempts, per destination and outcome; `set_receipt`
//! increments them in its own transaction (`count_delivery`), so that they only go up
//! (Prometheus counters) and survive the pruning of old runs and receipts.

use serde::Deserialize;

use super::sql::{Backend, Sql};
use super::*;

/// The outcomes a delivery counter has, in the order the metrics show them.
pub const OUTCOMES: [ReceiptStatus; 2] = [ReceiptStatus::Delivered, ReceiptStatus::Failed];

/// The statuses a run ends with, in the order the metrics show them.
pub const ENDED: [RunStatus; 4] = [
    RunStatus::Completed,
    RunStatus::Failed,
    RunStatus::Skipped,
    RunStatus::Cancelled,
];

/// Where `record_run_due` keeps its figures (in `meta`, as JSON).
const RUN_DUE_KEY: &str = "last_run_due";

/// A report's latest run that ended (test runs aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub status: RunStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A report's latest completed run (test runs aside): when, and what its files held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Success {
    pub finished_at: DateTime<Utc>,
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportFigures {
    pub last: Option<Ended>,
    pub last_success: Option<Success>,
    /// The recipients' runs of the latest recorded slot: how many, and how many of
    /// them failed (retrying or given up). Zero for a report without recipients.
    pub recipients: (u64, u64),
}

/// The recipients' runs of report `$1`'s latest recorded slot, and the failed ones
/// (from the index `runs_slot`).
const LAST_SLOT_RECIPIENTS: &str =
    "SELECT count(*), coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
      FROM runs WHERE report = $1 AND recipient <> ''
       AND slot_at = (SELECT last_slot FROM reports WHERE name = $1)";

/// What a `run-due` call says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDueFigures {
    pub finished_at: DateTime<Utc>,
    pub duration_seconds: f64,
    /// Runs it claimed and ran, with those it found given up (their process died).
    pub claimed: u64,
    /// Whether it ended without an error and every run went well.
    pub ok: bool,
}

/// One delivery counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCount {
    pub destination: String,
    pub outcome: ReceiptStatus,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// In the order of the reports asked for.
    pub reports: Vec<ReportFigures>,
    /// By destination, then outcome.
    pub deliveries: Vec<DeliveryCount>,
    /// Runs completed without delivering, by report, then reason (schema version 5).
    pub not_sent: Vec<super::outcome::NotSentCount>,
    pub run_due: Option<RunDueFigures>,
}

/// The metrics' statements; every `Backend` has them (see `Store`).
pub trait Metrics {
    /// Everything the metrics show about `reports`, in one read.
    fn figures(&mut self, reports: &[&str]) -> Result<Figures>;

    /// Keeps what a `run-due` call says about itself, for `serve`'s `/metrics`.
    fn record_run_due(&mut self, figures: &RunDueFigures) -> Result<()>;
}

/// Counts a delivery attempt (within `set_receipt`'s transaction).
pub(super) fn count_delivery(
    db: &mut dyn Sql,
    destination: &str,
    status: ReceiptStatus,
) -> Result<()> {
    if status == ReceiptStatus::Pending {
        return Ok(());
    }
    db.execute(
        "INSERT INTO delivery_counts (destination, outcome, count) VALUES ($1, $2, 1)
         ON CONFLICT (destination, outcome) DO UPDATE SET count = delivery_counts.count + 1",
        &[destination.into(), status.name().into()],
    )?;
    Ok(())
}

/// The latest run of report `$1` (test runs aside) whose status is in `statuses`;
/// the index `runs_latest` answers it walking back from the latest. (The range on
/// `run_at` is what makes SQLite take that index rather than `runs_report_status`,
/// which would read every run of the report and sort them; the query-plan test in
/// `sqlite.rs` holds it.)
pub(super) fn latest_sql(columns: &str, statuses: &[RunStatus]) -> String {
    let words: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
    format!(
        "SELECT {columns} FROM runs
          WHERE report = $1 AND run_at IS NOT NULL AND run_at COLLATE \"C\" > ''
            AND kind <> '{test}' AND status IN ({words})
          ORDER BY run_at COLLATE \"C\" DESC, created_at COLLATE \"C\" DESC LIMIT 1",
        test = RunKind::Test,
        words = words.join(", ")
    )
}

fn report_figures(db: &mut dyn Sql, report: &str) -> Result<ReportFigures> {
    let key = [report.into()];
    let mut f = ReportFigures::default();
    if let Some(row) = db.query_opt(&latest_sql("status, started_at, finished_at", &ENDED), &key)? {
        let status = row.text(0)?;
        f.last = Some(Ended {
            status: RunStatus::parse(&status)
                .ok_or_else(|| anyhow::anyhow!("unknown run status {status:?} in the ledger"))?,
            started_at: row.opt_ts(1)?,
            finished_at: row.opt_ts(2)?,
        });
    }
    let sql = latest_sql("token, finished_at", &[RunStatus::Completed]);
    if let Some(row) = db.query_opt(&sql, &key)? {
        let files = db.query(
            "SELECT rows, bytes FROM files WHERE token = $1",
            &[row.text(0)?.into()],
        )?;
        let (mut rows, mut bytes) = (0, 0);
        for file in files {
            rows += file.int(0)?.max(0) as u64;
            bytes += file.int(1)?.max(0) as u64;
        }
        f.last_success = row.opt_ts(1)?.map(|finished_at| Success {
            finished_at,
            rows,
            bytes,
        });
    }
    let row = db.query_one(LAST_SLOT_RECIPIENTS, &key)?;
    f.recipients = (row.int(0)?.max(0) as u64, row.int(1)?.max(0) as u64);
    Ok(f)
}

fn deliveries(db: &mut dyn Sql) -> Result<Vec<DeliveryCount>> {
    let rows = db.query(
        "SELECT destination, outcome, count FROM delivery_counts
          ORDER BY destination COLLATE \"C\", outcome COLLATE \"C\"",
        &[],
    )?;
    let mut out = Vec::new();
    for row in rows {
        let Some(outcome) = ReceiptStatus::parse(&row.text(1)?) else {
            continue;
        };
        out.push(DeliveryCount {
            destination: row.text(0)?,
            outcome,
            count: row.int(2)?.max(0) as u64,
        });
    }
    Ok(out)
}

fn run_due(db: &mut dyn Sql) -> Result<Option<RunDueFigures>> {
    let row = db.query_opt(
        "SELECT value FROM meta WHERE key = $1",
        &[RUN_DUE_KEY.into()],
    )?;
    // Figures that do not read (written by another version) are shown as none.
    Ok(row.and_then(|r| serde_json::from_str(&r.text(0).ok()?).ok()))
}

impl<B: Backend> Metrics for B {
    fn figures(&mut self, reports: &[&str]) -> Result<Figures> {
        self.read(|db| {
            Ok(Figures {
                reports: reports
                    .iter()
                    .map(|r| report_figures(db, r))
                    .collect::<Result<_>>()?,
                deliveries: deliveries(db)?,
                not_sent: super::outcome::not_sent_counts(db)?,
                run_due: run_due(db)?,
            })
        })
    }

    fn record_run_due(&mut self, figures: &RunDueFigures) -> Result<()> {
        let value = serde_json::to_string(figures)?;
        self.write(|db| super::schema::set_meta(db, RUN_DUE_KEY, &value))
    }
}
