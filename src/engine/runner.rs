//! One run, end to end — the pipeline in one place (`Runner::execute`):
//!
//! 1. **plan**: the run's window and time, as `due` (or a manual run) recorded them;
//!    a report's `condition` is asked then: when false the run ends here, completed
//!    and not sent (`send_if`);
//! 2. **source**: each output's query opened for the window …
//! 3. **render**: … and streamed into a CSV file in the run's spool directory (both
//!    skipped when a retry finds the files already spooled and intact); files with no
//!    rows end the run there, completed and not sent, when `send_empty = false`;
//! 4. **deliver**: to each destination that has no `delivered` receipt yet, recording a
//!    receipt for each, success or failure;
//! 5. **ledger**: after a scheduled run, a short mail to the report's `notify`
//!    addresses (a failure to send it is noted, not fatal); then the run is finished
//!    `completed`, or `failed` with the per-destination detail and, while attempts are
//!    left, the time `run-due` may try again. The spooled files go as soon as no later
//!    attempt can need them.
//!
//! Failures of the report (a bad query, a destination down) are recorded and returned as
//! a failed run; only a failing ledger is an error of this function.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::gate::Gates;
use super::lease::LeaseKeeper;
use super::{notify, ping, send_if, spool};
use crate::config::{Config, Destination, NotifyOn, Report};
use crate::deliver::{self, Delivery};
use crate::ledger::{
    Claim, FileRecord, Finish, Ledger, LostClaim, NotSent, ReceiptStatus, RunKind, RunRecord,
};
use crate::progress::Progress;
use crate::render::{self, RenderJob};
use crate::schedule::Window;
use crate::{redact, ui};

pub struct Runner<'a> {
    pub config: &'a Config,
    pub ledger: &'a mut Ledger,
    pub claim: &'a Claim,
    /// The logical time (`--now`): retry times are counted from it.
    pub now: DateTime<Utc>,
    pub progress: &'a Progress,
    /// Deliver to this destination only (`resend --destination`); else to all of the
    /// report's.
    pub only: Option<&'a str>,
    /// Limits on concurrent queries and deliveries shared with runs executed alongside.
    pub gates: &'a Gates,
}

/// A failure of the report itself: recorded as the run's detail, not an error.
type Detail = String;

/// How a run that did not fail ends.
enum Ended {
    /// Delivered; the detail notes the condition's verdict, if any.
    Sent(String),
    /// Completed without delivering, on purpose (`send_if`).
    NotSent(NotSent, String),
}

impl Runner<'_> {
    /// Executes `run`, which this process has claimed. Returns the run as recorded.
    pub fn execute(&mut self, report: &Report, run: RunRecord) -> Result<RunRecord> {
        let keeper = LeaseKeeper::start(self.config, &run.token, self.claim);
        ping::started(report, &run);
        // 1. plan: what the run covers, as recorded.
        let window = Window::in_zone(run.window_from, run.window_to, report.timezone);
        ui::debug(format!(
            "run {} of \"{}\": attempt {} of {}, window {} to {}",
            run.token,
            report.name,
            run.attempts,
            run.max_attempts,
            window.from.to_rfc3339(),
            window.to.to_rfc3339()
        ));
        // A report's condition decides first, before anything is rendered.
        let note = match self.condition(report, &run, &window) {
            Ok(Some(v)) if !v.holds => {
                let ended = Ok(Ended::NotSent(NotSent::ConditionFalse, v.detail()));
                return self.end(report, &run, &keeper, ended);
            }
            Ok(v) => v.map(|v| v.detail()).unwrap_or_default(),
            Err(detail) => return self.end(report, &run, &keeper, Err(detail)),
        };
        // 2. source → 3. render, unless an earlier attempt spooled the files intact.
        let (spool, files) = match self.files(report, &run, &window)? {
            Ok(spooled) => spooled,
            Err(detail) => return self.end(report, &run, &keeper, Err(detail)),
        };
        if let Some(reason) = send_if::empty_not_sent(report, &files) {
            if run.kind != RunKind::Resend {
                let ended = Ok(Ended::NotSent(reason, send_if::EMPTY_DETAIL.into()));
                return self.end(report, &run, &keeper, ended);
            }
        }
        // 4. deliver
        let outcome = self.deliver(report, &run, &window, (&spool, &files), &keeper)?;
        // 5. ledger (after the notify mail)
        self.end(report, &run, &keeper, outcome.map(|()| Ended::Sent(note)))
    }

    /// The report's condition, when it has one and this attempt decides: not for a
    /// `resend` (delivered again on purpose), nor after an earlier attempt of the run
    /// recorded files (the condition held then; a retry delivers them).
    fn condition(
        &self,
        report: &Report,
        run: &RunRecord,
        window: &Window,
    ) -> std::result::Result<Option<send_if::Verdict>, Detail> {
        if run.kind == RunKind::Resend || !run.files.is_empty() {
            return Ok(None);
        }
        // A query of the report's source: it waits at the source's gate like the outputs'.
        let permit = self.gates.source(&report.source);
        let verdict = send_if::condition(self.config, report, (window, run.recipient.as_ref()));
        drop(permit);
        let verdict = verdict.map_err(|e| redact::text(&format!("{e:#}")))?;
        if let Some(v) = &verdict {
            ui::debug(format!("run {}: {}", run.token, v.detail()));
        }
        Ok(verdict)
    }

    /// The run's spool directory and its files: those an earlier attempt left intact,
    /// or generated now (and recorded).
    fn files(
        &mut self,
        report: &Report,
        run: &RunRecord,
        window: &Window,
    ) -> Result<std::result::Result<(PathBuf, Vec<FileRecord>), Detail>> {
        let spool = match spool::create(self.config, &run.token, &run.files) {
            Ok(dir) => dir,
            Err(e) => return Ok(Err(format!("{e:#}"))),
        };
        if let Some(files) = spool::intact(self.config, run) {
            ui::debug(format!(
                "run {}: the spooled files of an earlier attempt are intact; delivering them",
                run.token
            ));
            return Ok(Ok((spool, files)));
        }
        let job = RenderJob {
            config: self.config,
            report,
            window,
            run: run.run_at.with_timezone(&report.timezone).naive_local(),
            token: &run.token,
            test: run.kind == RunKind::Test,
            recipient: run.recipient.as_ref(),
        };
        let permit = self.gates.source(&report.source);
        let generated = generate(&job, &spool, self.progress);
        drop(permit);
        match generated {
            Ok(files) => {
                for f in &files {
                    ui::debug(format!(
                        "run {}: wrote {} ({}, {})",
                        run.token,
                        f.name,
                        ui::count(f.rows, "row", "rows"),
                        crate::deliver::human_bytes(f.bytes)
                    ));
                }
                self.ledger
                    .set_files(&run.token, &self.claim.owner, &files)?;
                Ok(Ok((spool, files)))
            }
            Err(e) => Ok(Err(redact::text(&format!("{e:#}")))),
        }
    }

    /// Delivers the files to each destination without a `delivered` receipt, recording
    /// a receipt for each; returns the failures as the run's detail.
    fn deliver(
        &mut self,
        report: &Report,
        run: &RunRecord,
        window: &Window,
        (spool, files): (&Path, &[FileRecord]),
        keeper: &LeaseKeeper,
    ) -> Result<std::result::Result<(), Detail>> {
        let token = &run.token;
        let mut delivered: Vec<String> = run
            .receipts
            .iter()
            .filter(|r| r.status == ReceiptStatus::Delivered)
            .map(|r| r.destination.clone())
            .collect();
        let mut failures = Vec::new();
        for dest in deliver::order(self.config, report) {
            if delivered.contains(&dest.name) || self.only.is_some_and(|o| o != dest.name) {
                continue;
            }
            if keeper.lost() {
                return Err(LostClaim {
                    token: token.clone(),
                }
                .into());
            }
            let delivery = Delivery {
                config: self.config,
                report,
                token,
                window,
                run_at: run.run_at,
                spool,
                files,
                delivered: &delivered,
                test: run.kind == RunKind::Test,
            };
            // Server messages may repeat a secret: redacted before anything records them.
            let permit = self.gates.destination(&dest.name);
            let result = for_recipient(dest, run).and_then(|d| deliver::deliver(&d, &delivery));
            drop(permit);
            let (status, detail, new_links) = match result {
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
                token,
                &self.claim.owner,
                &dest.name,
                status,
                &detail,
                &new_links,
                crate::clock::wall(),
            )?;
            if status == ReceiptStatus::Delivered {
                delivered.push(dest.name.clone());
            }
        }
        Ok(if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        })
    }

    /// Finishes the run: completed, or failed with a retry time while attempts are left;
    /// notifies first (scheduled runs), so that a failed notification is in the detail.
    fn end(
        &mut self,
        report: &Report,
        run: &RunRecord,
        keeper: &LeaseKeeper,
        outcome: std::result::Result<Ended, Detail>,
    ) -> Result<RunRecord> {
        if keeper.lost() {
            let token = run.token.clone();
            return Err(LostClaim { token }.into());
        }
        let mut not_sent = None;
        let mut finish = match outcome {
            Ok(Ended::Sent(detail)) => Finish::Completed { detail },
            Ok(Ended::NotSent(reason, detail)) => {
                not_sent = Some(reason);
                Finish::Completed { detail }
            }
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
        let wanted =
            report.notify_on == NotifyOn::Always || matches!(finish, Finish::Failed { .. });
        if run.kind == RunKind::Scheduled && !report.notify.is_empty() && wanted {
            self.notify(report, run, &mut finish)?;
        }
        let (token, owner, wall) = (&run.token, &self.claim.owner, crate::clock::wall());
        match (not_sent, &finish) {
            (Some(reason), Finish::Completed { detail }) => self
                .ledger
                .finish_not_sent(token, owner, reason, detail, wall)?,
            _ => self.ledger.finish(token, owner, &finish, wall)?,
        }
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
        ping::finished(report, &done);
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

/// `dest` as it is for the run's recipient: its fields filled and checked (a hostile
/// value fails this recipient's delivery only, naming the recipient and the field).
fn for_recipient<'d>(dest: &'d Destination, run: &RunRecord) -> Result<Cow<'d, Destination>> {
    match &run.recipient {
        None => Ok(Cow::Borrowed(dest)),
        Some(r) => super::recipients::resolve(dest, r)
            .map(Cow::Owned)
            .map_err(|e| anyhow::anyhow!("recipient \"{}\": {e}", r.key.escape_default())),
    }
}

/// Source → render for every output of the job, into `dir` (a run directory of the
/// spool). On failure no temporary file is left behind.
pub fn generate(job: &RenderJob<'_>, dir: &Path, progress: &Progress) -> Result<Vec<FileRecord>> {
    let result = render::render_all(job, dir, progress);
    if result.is_err() {
        progress.finish();
        if let Err(e) = spool::remove_partial(dir) {
            ui::warn(format!(
                "removing temporary files from {}: {e}",
                dir.display()
            ));
        }
    }
    result
}
