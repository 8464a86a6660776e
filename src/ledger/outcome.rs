//! Runs that completed without delivering, on purpose (schema version 5: run outcome):
//! `send_empty = false` and no rows, or a `condition` that was false. The run is
//! finished `completed` (nothing is owed, `check` sees a success) with its reason in
//! `runs.outcome`, and the reason counted per report in `not_sent_counts` in the same
//! transaction, for the metrics.

use super::sql::{Backend, Sql};
use super::writes::finish_run;
use super::*;

/// One counter of runs not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSentCount {
    pub report: String,
    pub reason: NotSent,
    pub count: u64,
}

/// The statements of run outcomes; every `Backend` has them (see `Store`).
pub trait Outcomes {
    /// Finishes a claimed run `completed` with `detail`, recording that it delivered
    /// nothing because of `reason`, and counts it.
    fn finish_not_sent(
        &mut self,
        token: &str,
        owner: &str,
        reason: NotSent,
        detail: &str,
        wall: DateTime<Utc>,
    ) -> Result<()>;
}

impl<B: Backend> Outcomes for B {
    fn finish_not_sent(
        &mut self,
        token: &str,
        owner: &str,
        reason: NotSent,
        detail: &str,
        wall: DateTime<Utc>,
    ) -> Result<()> {
        let finish = Finish::Completed {
            detail: detail.to_string(),
        };
        self.write(|db| {
            finish_run(db, token, owner, &finish, wall)?;
            db.execute(
                "UPDATE runs SET outcome = $2 WHERE token = $1",
                &[token.into(), reason.name().into()],
            )?;
            db.execute(
                "INSERT INTO not_sent_counts (report, reason, count)
                 SELECT report, $2, 1 FROM runs WHERE token = $1
                 ON CONFLICT (report, reason) DO UPDATE SET count = not_sent_counts.count + 1",
                &[token.into(), reason.name().into()],
            )?;
            Ok(())
        })
    }
}

/// Every counter of runs not sent, by report then reason (for `ledger::metrics`).
pub(super) fn not_sent_counts(db: &mut dyn Sql) -> Result<Vec<NotSentCount>> {
    let rows = db.query(
        "SELECT report, reason, count FROM not_sent_counts
          ORDER BY report COLLATE \"C\", reason COLLATE \"C\"",
        &[],
    )?;
    let mut out = Vec::new();
    for row in rows {
        let Some(reason) = NotSent::parse(&row.text(1)?) else {
            continue;
        };
        out.push(NotSentCount {
            report: row.text(0)?,
            reason,
            count: row.int(2)?.max(0) as u64,
        });
    }
    Ok(out)
}
