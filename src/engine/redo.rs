//! A recorded run delivered again by hand, through the runner like any other run:
//!
//! - `retry`: a failed run (given up, or waiting for its next attempt) or a slot skipped
//!   by catch-up is claimed again as one more attempt of the same run. It goes to the
//!   destinations that have no `delivered` receipt yet, from the spooled files when they
//!   are intact (given-up runs keep theirs `spool_keep_days`), else generated again for
//!   the run's recorded window. Recorded as the run's attempt and receipts; a scheduled
//!   run that fails again gets its next try (while attempts are left) or stays given up.
//! - `resend`: a completed run delivered again on purpose, to all its report's
//!   destinations or one. Recorded as a new run of kind `resend` whose `origin` is the
//!   original, with its own receipts: the original keeps its exactly-once record (its
//!   slot, its receipts) untouched, and a resend, having no slot, can never be taken for
//!   a scheduled delivery. The files are generated again for the original's window
//!   (a completed run's spooled files are gone).

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::manual::execute_only;
use super::token;
use crate::config::{Config, Report};
use crate::ledger::{Claim, Ledger, NewRun, RunKind, RunRecord, RunStatus};

/// Retries run `token` of `report` now; `Err` with its status when it is not failed
/// or skipped (or not there: `None`).
pub fn retry(
    config: &Config,
    ledger: &mut Ledger,
    report: &Report,
    token: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<RunRecord, Option<RunStatus>>> {
    let claim = Claim::new(config.settings.lease);
    if ledger
        .claim_again(token, &claim, crate::clock::wall())?
        .is_none()
    {
        return Ok(Err(ledger.get(token)?.map(|r| r.status)));
    }
    Ok(Ok(execute_only(
        config,
        ledger,
        &claim,
        now,
        (report, None),
        token,
    )?))
}

/// Delivers the completed run `origin` again, as a new `resend` run, to `only` that
/// destination or all of the report's.
pub fn resend(
    config: &Config,
    ledger: &mut Ledger,
    report: &Report,
    origin: &RunRecord,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RunRecord> {
    let claim = Claim::new(config.settings.lease);
    let run = NewRun {
        token: token::random_token(),
        report: origin.report.clone(),
        kind: RunKind::Resend,
        slot_at: None,
        run_at: origin.run_at,
        window_from: origin.window_from,
        window_to: origin.window_to,
        max_attempts: 1,
        status: RunStatus::Queued,
        detail: String::new(),
        recipient: origin.recipient.clone(),
    };
    ledger.insert_resend(&run, &origin.token, &claim, crate::clock::wall())?;
    execute_only(config, ledger, &claim, now, (report, only), &run.token)
}
