//! `reportctl send-test NAME`: deliver the report's latest window now, as a
//! test run, at most once per report per minute; a call inside that minute exits 75.

use anyhow::Result;

use super::output;
use crate::cli::{Cli, SendTestArgs};
use crate::engine::{manual, send_if};
use crate::ledger;

pub fn run(cli: &Cli, args: &SendTestArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let report = super::one_report(&config, &args.report)?;
    let forced = args.force.then(|| send_if::forced(report));
    let report = forced.as_ref().unwrap_or(report);
    let now = crate::cli::now_or_clock(args.now, config.settings.timezone);
    let window = manual::latest_window(report, now)?;
    let mut ledger = ledger::open(&config)?;
    let done = manual::send_test(&config, &mut ledger, report, &window, now)?;
    output::done(cli.json, &done, report.timezone)
}
