//! One run, end to end — the pipeline in one place:
//!
//! 1. **render**: source → CSV files in the run's spool directory (skipped when a
//!    retry finds the files already spooled and intact);
//! 2. **deliver**: to each destination that has no `delivered` receipt yet, recording a
//!    receipt for each, success or failure;
//! 3. **notify**: after a scheduled run, a short mail to the report's `notify`
//!    addresses, success or failure (a failure to send it is noted, not fatal);
//! 4. **ledger**: finish the run `completed`, or `failed` with the per-destination
//!    detail and, while attempts are left, the time `run-due` may try again. The spooled
//!    files go as soon as no later attempt can need them.
//!
//! Failures of the report (a bad query, a destination down) are recorded and returned as
//! a failed run; only a failing ledger is an error of this function.

use anyhow::Result;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::config::{Config, Report};
use crate::deliver::{self, Delivery};
use crate::lease::LeaseKeeper;
use crate::ledger::{Claim, Finish, Ledger, LostClaim, ReceiptStatus, RunKind, RunRecord};
use crate::progress::Progress;
use crate::render::{self, RenderJob};
use crate::schedule::Window;
use crate::{notify, redact, spool, ui};

pub struct Runner<'a> {
    pub config: &'a Config,
    pub ledger: &'a mut Ledger,
    pub claim: &'a Claim,
    /// The logical time (`--now`): retry times are counted from it.
    pub now: DateTime<Utc>,
    pub progress: &'a Progress,
}

/// The window of a recorded run, in the report's zone.
pub fn window_of(run: &RunRecord, tz: Tz) -> Window {
    Window {
        from: run.window_from.with_timezone(&tz),
        to: run.window_to.with_timezone(&tz),
    }
}

impl Runner<'_> {
    /// Executes `run`, which this process has claimed. Returns the run as recorded.
    pub fn execute(&mut self, report: &Report, run: RunRecord) -> Result<RunRecord> {
        let keeper = LeaseKeeper::start(self.config, &run.token, self.claim);
        let token = run.token.clone();
        let owner = self.claim.owner.clone();
        let window = window_of(&run, report.timezone);
        let spool = match spool::create(self.config, &token, &run.files) {
            Ok(dir) => dir,
            Err(e) => return self.end(report, &run, &keeper, Err(format!("{e:#}"))),
        };

        // 1. render
        let files = match spool::intact(self.config, &run) {
            Some(files) => files,
            None => {
                let job = RenderJob {
                    config: self.config,
                    report,
                    window: &window,
                    run: run.run_at.with_timezone(&report.timezone).naive_local(),
                    token: &token,
                };
                match render::render_all(&job, &spool, self.progress) {
                    Ok(files) => {
                        self.ledger.set_files(&token, &owner, &files)?;
                        files
                    }
                    Err(e) => {
                        let detail = redact::text(&format!("{e:#}"));
                        return self.end(report, &run, &keeper, Err(detail));
                    }
                }
            }
        };

        // 2. deliver
        let mut delivered: Vec<String> = run
            .receipts
            .iter()
            .filter(|r| r.status == ReceiptStatus::Delivered)
            .map(|r| r.destination.clone())
            .collect();
        let mut failures = Vec::new();
        for dest in deliver::order(self.config, report) {
            if delivered.contains(&dest.name) {
                continue;
            }
            if keeper.lost() {
                return Err(LostClaim { token }.into());
            }
            let delivery = Delivery {
                config: self.config,
                report,
                token: &token,
                window: &window,
                run_at: run.run_at,
                spool: &spool,
                files: &files,
                delivered: &delivered,
            };
            // Server messages may repeat a secret: redacted before anything records them.
            let (status, detail, new_links) = match deliver::deliver(dest, &delivery) {
                Ok(d) => (ReceiptStatus::Delivered, redact::text(&d.detail), d.links),
                Err(e) => {
                    let detail = redact::text(&format!("{e:#}"));
                    failures.push(format!(
                        "{} \"{}\": {detail}",
                        dest.kind.kind_name(),
                        dest.name
                    ));
                    (ReceiptStatus::Failed, detail, Vec::new())
                }
            };
            self.ledger.set_receipt(
                &token,
                &owner,
                &dest.name,
                status,
                &detail,
                &new_links,
                Utc::now(),
            )?;
            if status == ReceiptStatus::Delivered {
                delivered.push(dest.name.clone());
            }
        }

        // 3. notify and 4. ledger
        let outcome = if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        };
        self.end(report, &run, &keeper, outcome)
    }

    /// Finishes the run: completed, or failed with a retry time while attempts are left;
    /// notifies first (scheduled runs), so that a failed notification is in the detail.
    fn end(
        &mut self,
        report: &Report,
        run: &RunRecord,
        keeper: &LeaseKeeper,
        outcome: std::result::Result<(), String>,
    ) -> Result<RunRecord> {
        if keeper.lost() {
            let token = run.token.clone();
            return Err(LostClaim { token }.into());
        }
        let mut finish = match outcome {
            Ok(()) => Finish::Completed {
                detail: String::new(),
            },
            Err(detail) => {
                let retry_at = self.retry_at(run);
                let detail = match retry_at {
                    Some(t) => format!(
                        "{detail} (attempt {} of {}; next try at or after {})",
                        run.attempts,
                        run.max_attempts,
                        t.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                    None if run.kind == RunKind::Scheduled => {
                        format!("{detail} (gave up after {} attempts)", run.attempts)
                    }
                    None => detail,
                };
                Finish::Failed { detail, retry_at }
            }
        };
        if run.kind == RunKind::Scheduled && !report.notify.is_empty() {
            self.notify(report, run, &mut finish)?;
        }
        self.ledger
            .finish(&run.token, &self.claim.owner, &finish, Utc::now())?;
        let done = self
            .ledger
            .get(&run.token)?
            .ok_or_else(|| anyhow::anyhow!("run {} vanished from the ledger", run.token))?;
        if let Err(e) = spool::after_run(self.config, &done) {
            ui::warn(format!(
                "tidying the spool directory of run {}: {e}",
                run.token
            ));
        }
        Ok(done)
    }

    /// Sends the notify mail; a failure is a warning and goes into the run's detail.
    fn notify(&mut self, report: &Report, run: &RunRecord, finish: &mut Finish) -> Result<()> {
        let recorded = self.ledger.get(&run.token)?.unwrap_or_else(|| run.clone());
        let (ok, detail) = match &mut *finish {
            Finish::Completed { detail } => (true, detail),
            Finish::Failed { detail, .. } => (false, detail),
        };
        if let Some(note) = notify::send_or_warn(self.config, report, &recorded, ok, detail) {
            if detail.is_empty() {
                *detail = note;
            } else {
                detail.push_str(&format!("; {note}"));
            }
        }
        Ok(())
    }

    /// When `run-due` may try a failed scheduled run again: after `retry_delay_seconds`,
    /// doubling with each attempt (at most a day), while attempts are left.
    fn retry_at(&self, run: &RunRecord) -> Option<DateTime<Utc>> {
        if run.kind != RunKind::Scheduled || run.attempts >= run.max_attempts {
            return None;
        }
        let base = self.config.settings.retry_delay.as_secs() as i64;
        let factor = 1i64 << run.attempts.saturating_sub(1).min(16);
        let delay = (base * factor).min(86_400);
        Some(self.now + chrono::Duration::seconds(delay))
    }
}
