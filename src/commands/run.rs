//! `reportctl run NAME`: one report now, for an explicit period or its latest window.
//! Delivered and recorded like a scheduled run (kind `manual`), or, with `--output` or
//! `--no-deliver`, generated locally and not recorded.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::show;
use crate::cli::{Cli, RunArgs};
use crate::config::{Config, DirectoryDest, Report};
use crate::deliver::{self, Delivery};
use crate::exit::{self, UsageError};
use crate::ledger::{self, Claim, FileRecord, Ledger, NewRun, RunKind, RunRecord, RunStatus};
use crate::progress::Progress;
use crate::render::{self, RenderJob};
use crate::runner::Runner;
use crate::schedule::{Plan, Window};

pub fn run(cli: &Cli, args: &RunArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let report = one_report(&config, &args.report)?;
    let now = args.now.unwrap_or_else(Utc::now);
    let window = match (&args.from, &args.to) {
        (Some(from), Some(to)) => {
            period(from, to, report.timezone, config.settings.max_range_days)?
        }
        _ => latest_window(report, now)?,
    };
    let token = random_token();
    let job = RenderJob {
        config: &config,
        report,
        window: &window,
        run: now.with_timezone(&report.timezone).naive_local(),
        token: &token,
    };
    match &args.output {
        Some(dir) if dir.as_os_str() == "-" => {
            let stdout = std::io::stdout().lock();
            render::render_to(&job, std::io::BufWriter::with_capacity(256 * 1024, stdout))?;
            return Ok(exit::OK);
        }
        Some(dir) => {
            let (spool, files) = render_local(&job, &token)?;
            let dest = DirectoryDest {
                path: dir.to_path_buf(),
                keep_days: 7,
            };
            let delivery = Delivery {
                config: &config,
                report,
                token: &token,
                window: &window,
                run_at: now,
                spool: &spool,
                files: &files,
                delivered: &[],
            };
            let result = deliver::directory::deliver(&dest, &delivery);
            let _ = crate::spool::remove(&config, &format!("local-{token}"));
            result?;
            print_files(cli, dir, &files)?;
            return Ok(exit::OK);
        }
        None if args.no_deliver => {
            let (spool, files) = render_local(&job, &token)?;
            print_files(cli, &spool, &files)?;
            return Ok(exit::OK);
        }
        None => {}
    }
    let mut ledger = ledger::open(&config)?;
    let claim = Claim::new(config.settings.lease);
    let run = new_run(report, RunKind::Manual, token, now, &window);
    ledger.insert_claimed(&run, &claim, Utc::now())?;
    let done = execute(cli, &config, &mut ledger, &claim, now, report, &run.token)?;
    super::run_due::housekeeping(&config, &mut ledger);
    Ok(done)
}

/// Executes a run recorded as claimed by `claim`, shows it, and returns the exit code.
pub fn execute(
    cli: &Cli,
    config: &Config,
    ledger: &mut Ledger,
    claim: &Claim,
    now: DateTime<Utc>,
    report: &Report,
    token: &str,
) -> Result<u8> {
    let run = ledger
        .get(token)?
        .ok_or_else(|| anyhow!("run {token} vanished from the ledger"))?;
    let mut runner = Runner {
        config,
        ledger,
        claim,
        now,
        progress: &Progress::for_stderr(),
    };
    let done = runner.execute(report, run)?;
    show_done(cli, &done, report.timezone)
}

pub fn show_done(cli: &Cli, done: &RunRecord, tz: Tz) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    let completed = show::finished(cli.json, &mut out, done, tz)?;
    out.flush()?;
    Ok(if completed { exit::OK } else { exit::FAILED })
}

pub fn new_run(
    report: &Report,
    kind: RunKind,
    token: String,
    now: DateTime<Utc>,
    window: &Window,
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
    }
}

/// Renders a local run (not recorded) into a spool directory of its own.
fn render_local(job: &RenderJob<'_>, token: &str) -> Result<(PathBuf, Vec<FileRecord>)> {
    let local = format!("local-{token}");
    let spool = crate::spool::create(job.config, &local, &[])?;
    let files = render::render_all(job, &spool, &Progress::for_stderr());
    if files.is_err() {
        let _ = crate::spool::remove(job.config, &local);
    }
    Ok((spool, files?))
}

fn print_files(cli: &Cli, dir: &Path, files: &[FileRecord]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for f in files {
        if cli.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"path": dir.join(&f.name), "type": f.kind, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256})
            )?;
        } else {
            crate::ui::info(format!(
                "{} ({} rows, {} bytes)",
                dir.join(&f.name).display(),
                f.rows,
                f.bytes
            ));
        }
    }
    out.flush()?;
    Ok(())
}

pub fn one_report<'c>(config: &'c Config, name: &str) -> Result<&'c Report> {
    super::plan::select(config, &[name.to_string()]).map(|v| v[0])
}

pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 8]>())
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
