//! `reportctl send-test NAME`: deliver the report's latest window now, as a
//! test run, at most once per report per minute; a call inside that minute exits 75.
//! A report with recipients is tested for one of them (`--recipient`, else the first).

use anyhow::Result;

use super::output;
use crate::cli::{Cli, SendTestArgs};
use crate::engine::gate::Gates;
use crate::engine::{manual, recipients, send_if};
use crate::ledger;

pub fn run(cli: &Cli, args: &SendTestArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let report = super::one_report(&config, &args.report)?;
    let forced = args.force.then(|| send_if::forced(report));
    let report = forced.as_ref().unwrap_or(report);
    let now = crate::cli::now_or_clock(args.now, config.settings.timezone);
    let window = manual::latest_window(report, now)?;
    // A report with recipients is tested for one: --recipient, else the first.
    let recipient = match &args.recipient {
        Some(key) => Some(recipients::one(&config, report, key, &window)?),
        None => recipients::of_slot(&config, report, &window, &Gates::none())?
            .map(|list| {
                list.into_iter().next().ok_or_else(|| {
                    anyhow::anyhow!(
                        "report \"{}\" has no recipients for this window",
                        report.name
                    )
                })
            })
            .transpose()?,
    };
    let mut ledger = ledger::open(&config)?;
    let window = (&window, recipient.as_ref());
    let done = manual::send_test(&config, &mut ledger, report, window, now)?;
    output::done(cli.json, &done, report.timezone)
}
