//! `reportctl run-due`: the cron command. The engine runs every due slot of every
//! active report (`engine::scheduled`); this shows each run that ended and sums up the
//! exit code.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::output;
use crate::cli::{Cli, RunDueArgs};
use crate::config::{Config, Report};
use crate::engine::scheduled::{self, WouldRun};
use crate::ledger::metrics::{Figures, RunDueFigures};
use crate::ledger::{self, Ledger};
use crate::{exit, metrics, ui};

pub fn run(cli: &Cli, args: &RunDueArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let now = crate::cli::now_or_clock(args.now, config.settings.timezone);
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        let mut ledger = ledger::open_read_or_empty(&config)?;
        return dry_run(cli, &config, &mut ledger, now, &mut out);
    }
    let started = std::time::Instant::now();
    let mut claimed = 0;
    let mut ledger = None;
    let outcome = run_all(
        (cli, args),
        &config,
        now,
        &mut ledger,
        &mut claimed,
        &mut out,
    );
    if let Some(path) = &config.settings.metrics_file {
        let figures = RunDueFigures {
            finished_at: crate::clock::wall(),
            duration_seconds: started.elapsed().as_secs_f64(),
            claimed,
            ok: matches!(outcome, Ok(true)),
        };
        write_metrics(&config, ledger.as_mut(), path, &figures);
    }
    out.flush()?;
    Ok(if outcome? { exit::OK } else { exit::FAILED })
}

/// Runs what is due; `ledger` keeps the ledger once opened, `claimed` counts the runs
/// that ended, for the metrics.
fn run_all(
    (cli, args): (&Cli, &RunDueArgs),
    config: &Config,
    now: DateTime<Utc>,
    ledger: &mut Option<Ledger>,
    claimed: &mut u64,
    out: &mut impl Write,
) -> Result<bool> {
    let ledger = ledger.insert(ledger::open(config)?);
    let wall = crate::clock::wall();
    if now > wall + chrono::Duration::minutes(1) {
        ui::warn(format!(
            "--now {} is ahead of this machine's clock ({}): the slots due up to it are recorded now, and run-due will not run them again when that time comes (use --dry-run to look ahead)",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            wall.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    let max_parallel = args
        .max_parallel
        .map_or(config.settings.max_parallel, usize::from);
    scheduled::run_due(config, ledger, now, max_parallel, &mut |report, run| {
        *claimed += 1;
        Ok(output::finished(cli.json, out, run, report.timezone)?)
    })
}

/// Writes the metrics file after a call, whatever became of it: the ledger's figures
/// when it could be read (else this call's alone), and keeps this call's figures in the
/// ledger for `serve`. A metrics failure is a warning; it changes no exit code.
fn write_metrics(
    config: &Config,
    ledger: Option<&mut Ledger>,
    path: &std::path::Path,
    figures: &RunDueFigures,
) {
    let text = match ledger {
        Some(l) => {
            if let Err(e) = l.record_run_due(figures) {
                ui::warn(format!(
                    "could not keep the run-due figures in the ledger: {e:#}"
                ));
            }
            metrics::from_ledger(config, l, Some(figures)).unwrap_or_else(|e| {
                ui::warn(format!("metrics without the ledger's figures: {e:#}"));
                metrics::render(config, &only(figures))
            })
        }
        None => metrics::render(config, &only(figures)),
    };
    if let Err(e) = metrics::write_file(path, &text) {
        ui::warn(format!("{e:#}"));
    }
}

/// Figures with this call's alone (the ledger could not be read).
fn only(figures: &RunDueFigures) -> Figures {
    Figures {
        run_due: Some(figures.clone()),
        ..Figures::default()
    }
}

fn dry_run(
    cli: &Cli,
    config: &Config,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<u8> {
    scheduled::dry_run(
        config,
        ledger,
        now,
        &mut |report: &Report, r: WouldRun<'_>| {
            let t = |x: DateTime<Utc>| x.with_timezone(&report.timezone).to_rfc3339();
            let (name, token, action) = (&report.name, r.token, r.action);
            if cli.json {
                let mut line = json!({"report": name, "token": token, "run_at": t(r.run_at), "from": t(r.from), "to": t(r.to), "action": action});
                if let Some(key) = r.recipient {
                    line["recipient"] = json!(key);
                }
                writeln!(out, "{line}")?;
            } else {
                let (run_at, from, to) = (t(r.run_at), t(r.from), t(r.to));
                let who = r
                    .recipient
                    .map_or_else(String::new, |k| format!(" (recipient {k})"));
                writeln!(
                    out,
                    "{action} {name}{who} {run_at} [{token}] {from} to {to}"
                )?;
            }
            Ok(())
        },
    )?;
    Ok(exit::OK)
}
