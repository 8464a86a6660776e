//! `reportctl retry`, `resend` and `ack`: what an operator does about a run that went
//! wrong (or must go again). The engine delivers (`engine::redo`); the ledger records
//! (`ack`). Each shows the run as `run` does and exits 0 when it is delivered, 1 when a
//! delivery failed, 2 for a token that names no run or a run in the wrong state.

use std::io::Write;

use anyhow::{anyhow, Result};
use serde_json::json;

use super::output;
use crate::cli::{Cli, ResendArgs};
use crate::config::{Config, Report};
use crate::engine::redo;
use crate::exit::{self, UsageError};
use crate::ledger::{self, AckOutcome, Ledger, RunKind, RunRecord, RunStatus};

/// The run `given` names (a whole token or a unique prefix).
fn found(ledger: &mut Ledger, given: &str) -> Result<RunRecord> {
    let token = super::resolve_token(ledger, given)?;
    token
        .map(|t| ledger.get(&t))
        .transpose()?
        .flatten()
        .ok_or_else(|| {
            anyhow!(UsageError(format!(
                "no run with token {given} in the ledger"
            )))
        })
}

/// The configured report of `run`, which must not be a test (`send-test` again is the
/// way to repeat one, under its rate limit).
fn report_of<'c>(config: &'c Config, run: &RunRecord) -> Result<&'c Report> {
    if run.kind == RunKind::Test {
        return Err(anyhow!(UsageError(format!(
            "run {} is a send-test run; call `reportctl send-test \"{}\"` again instead",
            run.token, run.report
        ))));
    }
    config.report(&run.report).ok_or_else(|| {
        anyhow!(UsageError(format!(
            "run {} is of report \"{}\", which is not in {} any more",
            run.token,
            run.report,
            config.path.display()
        )))
    })
}

pub fn retry(cli: &Cli, given: &str) -> Result<u8> {
    let config = super::load(cli)?;
    let mut ledger = ledger::open(&config)?;
    let run = found(&mut ledger, given)?;
    let report = report_of(&config, &run)?;
    let now = crate::clock::wall();
    match redo::retry(&config, &mut ledger, report, &run.token, now)? {
        Ok(done) => output::done(cli.json, &done, report.timezone),
        Err(status) => {
            let status = status.unwrap_or(run.status);
            let hint = if status == RunStatus::Completed {
                format!("; `reportctl resend {}` delivers it again", run.token)
            } else {
                String::new()
            };
            Err(anyhow!(UsageError(format!(
                "run {} is {status}: only a failed or skipped run can be retried{hint}",
                run.token
            ))))
        }
    }
}

pub fn resend(cli: &Cli, args: &ResendArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let mut ledger = ledger::open(&config)?;
    let run = found(&mut ledger, &args.token)?;
    let report = report_of(&config, &run)?;
    if run.status != RunStatus::Completed {
        return Err(anyhow!(UsageError(format!(
            "run {} is {}: only a completed run can be resent (`reportctl retry {}` delivers a failed one)",
            run.token, run.status, run.token
        ))));
    }
    if let Some(d) = &args.destination {
        if !report.destinations.contains(d) {
            return Err(anyhow!(UsageError(format!(
                "report \"{}\" has no destination \"{d}\"; its destinations: {}",
                report.name,
                report.destinations.join(", ")
            ))));
        }
    }
    let now = crate::clock::wall();
    let only = args.destination.as_deref();
    let done = redo::resend(&config, &mut ledger, report, &run, only, now)?;
    output::done(cli.json, &done, report.timezone)
}

pub fn ack(cli: &Cli, given: &str) -> Result<u8> {
    let config = super::load(cli)?;
    let mut ledger = ledger::open(&config)?;
    let run = found(&mut ledger, given)?;
    let token = &run.token;
    let user = std::env::var("USER").unwrap_or_default();
    let by = if user.is_empty() {
        "acknowledged".to_string()
    } else {
        format!("acknowledged by {user}")
    };
    let (settled, by) = match ledger.ack(token, &by, crate::clock::wall())? {
        AckOutcome::Acked(n) => (n, by),
        AckOutcome::AlreadySettled(by) => (0, by),
        AckOutcome::NotFound => {
            return Err(anyhow!(UsageError(format!(
                "no run with token {token} in the ledger"
            ))))
        }
        AckOutcome::NotCritical(status) => {
            return Err(anyhow!(UsageError(format!(
                "run {token} is a {} run, {status}: only a given-up or skipped slot can be acknowledged",
                run.kind
            ))))
        }
    };
    let mut out = std::io::stdout().lock();
    if cli.json {
        writeln!(
            out,
            "{}",
            json!({"token": token, "settled": settled, "by": by})
        )?;
    } else if crate::ui::level() >= 1 {
        let line = match settled {
            0 => format!("run {token} was settled already: {by}"),
            1 => format!("run {token} {by}: check no longer reports it"),
            n => format!(
                "run {token} and the {} other slots skipped with it {by}: check no longer reports them",
                n - 1
            ),
        };
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(exit::OK)
}
