//! `reportctl send-test NAME`: deliver the report's latest window now, as a
//! test run, at most once per report per minute; a call inside that minute exits 75.

use anyhow::{anyhow, Result};
use chrono::Utc;

use super::run::{execute, latest_window, new_run, one_report, random_token};
use crate::cli::{Cli, SendTestArgs};
use crate::exit::RateLimited;
use crate::ledger::{self, Claim, RunKind};

pub const INTERVAL_SECONDS: i64 = 60;

pub fn run(cli: &Cli, args: &SendTestArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let report = one_report(&config, &args.report)?;
    let now = args.now.unwrap_or_else(Utc::now);
    let window = latest_window(report, now)?;
    let mut ledger = ledger::open(&config)?;
    let claim = Claim::new(config.settings.lease);
    let run = new_run(report, RunKind::Test, random_token(), now, &window);
    let wall = Utc::now();
    if let Err(last) = ledger.insert_test(
        &run,
        &claim,
        wall,
        chrono::Duration::seconds(INTERVAL_SECONDS),
    )? {
        let wait = (last + chrono::Duration::seconds(INTERVAL_SECONDS) - wall)
            .num_seconds()
            .max(1);
        return Err(anyhow!(RateLimited {
            message: format!(
                "send-test for \"{}\" was called {} s ago; at most one test per report per minute: retry after {wait} s",
                report.name,
                (wall - last).num_seconds()
            ),
        }));
    }
    execute(cli, &config, &mut ledger, &claim, now, report, &run.token)
}
