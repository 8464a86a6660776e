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
use crate::ledger::{self, Ledger};
use crate::{exit, ui};

pub fn run(cli: &Cli, args: &RunDueArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let now = crate::cli::now_or_clock(args.now, config.settings.timezone);
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        let mut ledger = ledger::open_read_or_empty(&config)?;
        return dry_run(cli, &config, &mut ledger, now, &mut out);
    }
    let mut ledger = ledger::open(&config)?;
    let wall = crate::clock::wall();
    if now > wall + chrono::Duration::minutes(1) {
        ui::warn(format!(
            "--now {} is ahead of this machine's clock ({}): the slots due up to it are recorded now, and run-due will not run them again when that time comes (use --dry-run to look ahead)",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            wall.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    let all_well = scheduled::run_due(&config, &mut ledger, now, &mut |report, run| {
        Ok(output::finished(cli.json, &mut out, run, report.timezone)?)
    })?;
    out.flush()?;
    Ok(if all_well { exit::OK } else { exit::FAILED })
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
                let line = json!({"report": name, "token": token, "run_at": t(r.run_at), "from": t(r.from), "to": t(r.to), "action": action});
                writeln!(out, "{line}")?;
            } else {
                let (run_at, from, to) = (t(r.run_at), t(r.from), t(r.to));
                writeln!(out, "{action} {name} {run_at} [{token}] {from} to {to}")?;
            }
            Ok(())
        },
    )?;
    Ok(exit::OK)
}
