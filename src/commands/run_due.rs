//! `reportctl run-due`: the cron command. For each active report: plan the due slots
//! against the ledger, claim each, and run it (render → deliver → record). One report's
//! failure is recorded and reported while the others go on; the exit code sums up.

use std::io::Write;

use anyhow::Result;
use chrono::Utc;
use serde_json::json;

use super::show;
use crate::cli::{Cli, RunDueArgs};
use crate::config::{Config, DestinationKind};
use crate::ledger::{self, Claim, Ledger, RunStatus};
use crate::progress::Progress;
use crate::runner::Runner;
use crate::{deliver, due, exit, notify, spool, ui};

pub fn run(cli: &Cli, args: &RunDueArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let now = args.now.unwrap_or_else(Utc::now);
    let mut ledger = ledger::open(&config)?;
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        return dry_run(cli, &config, &mut ledger, now, &mut out);
    }
    let wall = Utc::now();
    if now > wall + chrono::Duration::minutes(1) {
        ui::warn(format!(
            "--now {} is ahead of this machine's clock ({}): the slots due up to it are recorded now, and run-due will not run them again when that time comes (use --dry-run to look ahead)",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            wall.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    let claim = Claim::new(config.settings.lease);
    let progress = Progress::for_stderr();
    let mut failed = false;
    // The ledger is read for every report up front; once runs have taken time, another
    // process may have moved on, so each later report is read afresh.
    let states = due::states(&config, &mut ledger)?;
    let mut ran = false;
    for (report, state) in config.reports.iter().zip(states) {
        let due = if ran {
            due::collect(&config, report, &mut ledger, now, Utc::now(), true)?
        } else {
            due::collect_with(&config, report, state, &mut ledger, now, Utc::now(), true)?
        };
        if let (Some(first), Some(last)) = (due.skipped.first(), due.skipped.last()) {
            failed = true;
            let t = |r: &ledger::NewRun| r.run_at.with_timezone(&report.timezone).to_rfc3339();
            let message = format!(
                "report \"{}\": {} missed slots from {} to {} skipped: more than catch_up = {} slots were due at once; `reportctl history \"{}\"` shows how to run each by hand",
                report.name,
                due.skipped.len(),
                t(first),
                t(last),
                config.settings.catch_up,
                report.name
            );
            eprintln!("reportctl: error: {message}");
            if let Some(run) = ledger.get(&last.token)? {
                notify_given_up(&config, report, &run, &message);
            }
        }
        for token in &due.given_up {
            // The process running it died during its last attempt: given up.
            failed = true;
            let Some(run) = ledger.get(token)? else {
                continue;
            };
            show::finished(cli.json, &mut out, &run, report.timezone)?;
            if let Err(e) = spool::after_run(&config, &run) {
                ui::warn(format!("tidying the spool directory of run {token}: {e}"));
            }
            notify_given_up(&config, report, &run, &run.detail);
        }
        for pending in due.pending {
            let Some(run) = ledger.claim(&pending.token, &claim, now, Utc::now())? else {
                ui::debug(format!("run {} is taken by another process", pending.token));
                continue;
            };
            let mut runner = Runner {
                config: &config,
                ledger: &mut ledger,
                claim: &claim,
                now,
                progress: &progress,
            };
            let done = runner.execute(report, run)?;
            ran = true;
            if !show::finished(cli.json, &mut out, &done, report.timezone)? {
                failed = true;
            }
        }
    }
    housekeeping(&config, &mut ledger);
    out.flush()?;
    Ok(if failed { exit::FAILED } else { exit::OK })
}

fn dry_run(
    cli: &Cli,
    config: &Config,
    ledger: &mut Ledger,
    now: chrono::DateTime<Utc>,
    out: &mut impl Write,
) -> Result<u8> {
    let states = due::states(config, ledger)?;
    for (report, state) in config.reports.iter().zip(states) {
        let due = due::collect_with(config, report, state, ledger, now, Utc::now(), false)?;
        let tz = report.timezone;
        let lines = due
            .unrecorded
            .iter()
            .map(|r| {
                (
                    r.token.as_str(),
                    r.run_at,
                    r.window_from,
                    r.window_to,
                    if r.status == RunStatus::Skipped {
                        "skip"
                    } else {
                        "run"
                    },
                )
            })
            .chain(due.pending.iter().map(|r| {
                (
                    r.token.as_str(),
                    r.run_at,
                    r.window_from,
                    r.window_to,
                    "retry",
                )
            }));
        for (token, run_at, from, to, action) in lines {
            let t = |x: chrono::DateTime<Utc>| x.with_timezone(&tz).to_rfc3339();
            if cli.json {
                let line = json!({"report": report.name, "token": token, "run_at": t(run_at), "from": t(from), "to": t(to), "action": action});
                writeln!(out, "{line}")?;
            } else {
                writeln!(
                    out,
                    "{action} {} {} [{token}] {} to {}",
                    report.name,
                    t(run_at),
                    t(from),
                    t(to)
                )?;
            }
        }
    }
    Ok(exit::OK)
}

/// The notify mail for slots given up outside a run (a dead process, catch-up); one
/// that cannot be sent is a warning.
fn notify_given_up(
    config: &Config,
    report: &crate::config::Report,
    run: &ledger::RunRecord,
    detail: &str,
) {
    if report.notify.is_empty() {
        return;
    }
    // Given up outside a run: the note goes to stderr only.
    let _ = notify::send_or_warn(config, report, run, false, detail);
}

/// Prunes old files from directory destinations and spooled files no run needs.
/// Problems here are warnings: they never fail a run.
pub fn housekeeping(config: &Config, ledger: &mut Ledger) {
    let wall = Utc::now();
    for dest in config.destinations.values() {
        if let DestinationKind::Directory(d) = &dest.kind {
            match deliver::directory::prune(&dest.name, d, ledger, wall) {
                Ok(removed) => {
                    for f in removed {
                        ui::info(format!("pruned {} from {}", f, d.path.display()));
                    }
                }
                Err(e) => ui::warn(format!("pruning destination \"{}\": {e:#}", dest.name)),
            }
        }
        if let DestinationKind::Pickup(p) = &dest.kind {
            match deliver::pickup::prune(config, &dest.name, p, wall) {
                Ok(removed) => {
                    for f in removed {
                        ui::info(format!("pruned {} from {}", f, p.path.display()));
                    }
                }
                Err(e) => ui::warn(format!("pruning destination \"{}\": {e:#}", dest.name)),
            }
        }
    }
    match spool::prune(config, ledger, wall) {
        Ok(removed) => {
            for dir in removed {
                ui::debug(format!("pruned {} from the spool", dir.display()));
            }
        }
        Err(e) => ui::warn(format!(
            "pruning the spool {}: {e:#}",
            config.settings.spool.display()
        )),
    }
}
