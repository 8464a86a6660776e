//! Manual runs: one report now, for an explicit period or its latest window. `run` and
//! `send-test` record the run (kind `manual` or `test`), claim it and execute it through
//! the runner like a scheduled one; `run --output`/`--no-deliver` generate it locally,
//! in a spool directory of its own, and record nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::gate::Gates;
use super::runner::{generate, Runner};
use super::{spool, token};
use crate::config::recipients::Recipient;
use crate::config::{Config, DirectoryDest, Report};
use crate::deliver::{self, Delivery};
use crate::exit::{RateLimited, UsageError};
use crate::ledger::{Claim, FileRecord, Ledger, NewRun, RunKind, RunRecord, RunStatus};
use crate::progress::Progress;
use crate::render::{self, RenderJob};
use crate::schedule::{Plan, Window};
use crate::source;

/// How often `send-test` may deliver a report: once per this many seconds.
pub const TEST_INTERVAL_SECONDS: i64 = 60;

/// Records a manual run of `report` for `window`, claims it and executes it. Returns
/// the run as recorded.
pub fn run(
    config: &Config,
    ledger: &mut Ledger,
    report: &Report,
    window: (&Window, Option<&Recipient>),
    now: DateTime<Utc>,
) -> Result<RunRecord> {
    let claim = Claim::new(config.settings.lease);
    let run = new_run(report, RunKind::Manual, token::random_token(), now, window);
    ledger.insert_claimed(&run, &claim, crate::clock::wall())?;
    execute_only(config, ledger, &claim, now, (report, None), &run.token)
}

/// Records a test run of `report` for `window` (its latest) and executes it, at most
/// once per report per minute (a call inside that minute is `RateLimited`).
pub fn send_test(
    config: &Config,
    ledger: &mut Ledger,
    report: &Report,
    window: (&Window, Option<&Recipient>),
    now: DateTime<Utc>,
) -> Result<RunRecord> {
    let claim = Claim::new(config.settings.lease);
    let run = new_run(report, RunKind::Test, token::random_token(), now, window);
    let wall = crate::clock::wall();
    let interval = chrono::Duration::seconds(TEST_INTERVAL_SECONDS);
    if let Err(last) = ledger.insert_test(&run, &claim, wall, interval)? {
        let wait = (last + interval - wall).num_seconds().max(1);
        return Err(anyhow!(RateLimited {
            message: format!(
                "send-test for \"{}\" was called {} s ago; at most one test per report per minute: retry after {wait} s",
                report.name,
                (wall - last).num_seconds()
            ),
        }));
    }
    execute_only(config, ledger, &claim, now, (report, None), &run.token)
}

/// Executes a run recorded as claimed by `claim`, delivering to `only` that destination
/// when given.
pub(super) fn execute_only(
    config: &Config,
    ledger: &mut Ledger,
    claim: &Claim,
    now: DateTime<Utc>,
    (report, only): (&Report, Option<&str>),
    token: &str,
) -> Result<RunRecord> {
    let run = ledger
        .get(token)?
        .ok_or_else(|| anyhow!("run {token} vanished from the ledger"))?;
    let mut runner = Runner {
        config,
        ledger,
        claim,
        now,
        progress: &Progress::for_stderr(),
        only,
        gates: &Gates::none(),
    };
    runner.execute(report, run)
}

fn new_run(
    report: &Report,
    kind: RunKind,
    token: String,
    now: DateTime<Utc>,
    (window, recipient): (&Window, Option<&Recipient>),
) -> NewRun {
    NewRun {
        token,
        report: report.name.clone(),
        kind,
        slot_at: None,
        run_at: now,
        window_from: window.from.with_timezone(&Utc),
        window_to: window.to.with_timezone(&Utc),
        max_attempts: 1,
        status: RunStatus::Queued,
        detail: String::new(),
        recipient: recipient.cloned(),
    }
}

/// A local run (not recorded): what it covers and when it is for.
pub struct Local<'a> {
    pub config: &'a Config,
    pub report: &'a Report,
    pub window: Window,
    pub now: DateTime<Utc>,
    pub token: String,
    /// The recipient it is for (`run --recipient`).
    pub recipient: Option<Recipient>,
}

impl Local<'_> {
    fn job(&self) -> RenderJob<'_> {
        RenderJob {
            config: self.config,
            report: self.report,
            window: &self.window,
            run: self.now.with_timezone(&self.report.timezone).naive_local(),
            token: &self.token,
            test: false,
            recipient: self.recipient.as_ref(),
        }
    }

    /// Source → render of the report's single output, as CSV on `out` (`--output -`).
    pub fn to_writer(&self, out: impl Write) -> Result<u64> {
        let report = self.report;
        let output = match report.outputs.as_slice() {
            [one] => one,
            _ => anyhow::bail!(
                "report \"{}\" has {} outputs; --output - writes one: use --output DIR",
                report.name,
                report.outputs.len()
            ),
        };
        let rows = source::open(
            self.config,
            report,
            output,
            (&self.window, self.recipient.as_ref()),
        );
        render::render_to(&self.job(), output, rows, out)
    }

    /// Generates the files into a spool directory of the run's own, kept for
    /// `spool_keep_days` (`--no-deliver`). Returns the directory and the files.
    pub fn to_spool(&self) -> Result<(PathBuf, Vec<FileRecord>)> {
        let local = format!("local-{}", self.token);
        let spool = spool::create(self.config, &local, &[])?;
        let files = generate(&self.job(), &spool, &Progress::for_stderr());
        if files.is_err() {
            let _ = spool::remove(self.config, &local);
        }
        Ok((spool, files?))
    }

    /// Generates the files and delivers them into `dir` like a directory destination
    /// (`--output DIR`); the spooled copies go.
    pub fn to_directory(&self, dir: &Path) -> Result<Vec<FileRecord>> {
        let (spool, files) = self.to_spool()?;
        let dest = DirectoryDest {
            path: dir.to_path_buf(),
            keep_days: 7,
        };
        let delivery = Delivery {
            config: self.config,
            report: self.report,
            token: &self.token,
            window: &self.window,
            run_at: self.now,
            spool: &spool,
            files: &files,
            delivered: &[],
            test: false,
        };
        let result = deliver::directory::deliver(&dest, &delivery);
        let _ = spool::remove(self.config, &format!("local-{}", self.token));
        result?;
        Ok(files)
    }
}

/// The window of the report's latest slot at or before `now` (whatever its status).
pub fn latest_window(report: &Report, now: DateTime<Utc>) -> Result<Window> {
    Plan::new(&report.schedule, report.timezone, now)
        .latest_at_or_before(now)
        .map(|s| s.window)
        .ok_or_else(|| {
            anyhow!(UsageError(format!(
                "report \"{}\" has no slot at or before {}; give --from and --to",
                report.name,
                now.to_rfc3339()
            )))
        })
}

/// `--from`/`--to`: report-zone dates (both included) or RFC 3339 instants.
pub fn period(from: &str, to: &str, tz: Tz, max_days: u32) -> Result<Window> {
    let start = bound(from, tz, false).context("--from")?;
    let end = bound(to, tz, true).context("--to")?;
    if end <= start {
        return Err(anyhow!(UsageError(format!(
            "--to ({to}) must be after --from ({from})"
        ))));
    }
    let seconds = (end - start).num_seconds();
    let days = (seconds + 86_399) / 86_400;
    if days > i64::from(max_days) {
        return Err(anyhow!(UsageError(format!(
            "--from {from} --to {to} covers {days} days; at most max_range_days = {max_days} days are allowed"
        ))));
    }
    Ok(Window {
        from: start,
        to: end,
    })
}

fn bound(s: &str, tz: Tz, end: bool) -> Result<DateTime<Tz>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = if end { d.succ_opt().unwrap_or(d) } else { d };
        return Ok(Window::from_dates(tz, day, day).from);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&tz))
        .map_err(|_| {
            anyhow!(UsageError(format!(
                "\"{s}\" is neither a date (2026-11-01) nor an RFC 3339 instant (2026-11-01T00:00:00Z)"
            )))
        })
}
