//! `run-due`'s pass over the reports: for each active report, plan the due slots
//! against the ledger (`due`), and hand each run to the pool that claims and executes
//! it (`pool`, up to `max_parallel` at once, each through `runner`). One report's
//! failure is recorded and reported while the others go on. The caller shows each run
//! that ended (`on_done`) and sums up the exit code.

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::due::{self, Due};
use super::gate::Gates;
use super::pool::{self, Context, Pool};
use super::{housekeeping, notify, ping, spool};
use crate::config::{Config, Report};
use crate::ledger::{Claim, Ledger, NewRun, RunRecord, RunStatus};
use crate::ui;

pub use super::pool::OnDone;

/// Runs every due slot (and owed retry) of every report at `now`, up to `max_parallel`
/// at once (`pool`), then prunes. Returns whether all went well: no slot skipped, no run
/// given up or failed.
pub fn run_due(
    config: &Config,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    max_parallel: usize,
    on_done: &mut OnDone<'_>,
) -> Result<bool> {
    let claim = Claim::new(config.settings.lease);
    let gates = Gates::new(config);
    let ctx = Context {
        config,
        claim: &claim,
        now,
        gates: &gates,
    };
    let all_well = std::thread::scope(|scope| {
        let mut pool = Pool::start(scope, &ctx, max_parallel);
        let collected = collect_and_hand_over(config, ledger, now, &mut pool, on_done);
        // The runs in flight end and are shown whatever became of the rest.
        let ended = pool.finish(on_done);
        Ok::<_, anyhow::Error>(collected? & ended?)
    })?;
    housekeeping(config, ledger);
    Ok(all_well)
}

/// The pass over the reports: each report's due runs collected and handed to `pool`.
/// Returns false when a slot was skipped or a run given up.
fn collect_and_hand_over<'a>(
    config: &'a Config,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    pool: &mut Pool<'a>,
    on_done: &mut OnDone<'_>,
) -> Result<bool> {
    let mut all_well = true;
    // The ledger is read for every report up front; once runs have taken time, another
    // process may have moved on, so each later report is read afresh.
    let states = due::states(config, ledger)?;
    let record = Some(pool.gates());
    let mut ran = false;
    for (report, state) in config.reports.iter().zip(states) {
        let due = if ran {
            due::collect(config, report, ledger, now, crate::clock::wall(), record)?
        } else {
            due::collect_with(
                config,
                report,
                state,
                ledger,
                now,
                crate::clock::wall(),
                record,
            )?
        };
        let Due {
            pending,
            skipped,
            given_up,
            recipients_error,
            ..
        } = due;
        if let Some(e) = recipients_error {
            all_well = false;
            eprintln!("reportctl: error: {e}");
        }
        if !skipped.is_empty() {
            all_well = false;
            report_skipped(config, report, ledger, &skipped)?;
        }
        for token in &given_up {
            // The process running it died during its last attempt: given up.
            all_well = false;
            if let Some(run) = ledger.get(token)? {
                on_done(report, &run)?;
                tidy_given_up(config, report, &run);
            }
        }
        for tokens in pool::in_order(pending) {
            ran |= pool.submit(ledger, report, tokens, on_done)?;
        }
    }
    Ok(all_well)
}

/// Slots skipped because more than `catch_up` were due at once: an error on stderr,
/// and the notify mail.
fn report_skipped(
    config: &Config,
    report: &Report,
    ledger: &mut Ledger,
    skipped: &[NewRun],
) -> Result<()> {
    let (Some(first), Some(last)) = (skipped.first(), skipped.last()) else {
        return Ok(());
    };
    let t = |r: &NewRun| r.run_at.with_timezone(&report.timezone).to_rfc3339();
    let message = format!(
        "report \"{}\": {} missed slots from {} to {} skipped: more than catch_up = {} slots were due at once; `reportctl history \"{}\"` shows how to run each by hand",
        report.name,
        skipped.len(),
        t(first),
        t(last),
        config.settings.catch_up,
        report.name
    );
    eprintln!("reportctl: error: {message}");
    if let Some(run) = ledger.get(&last.token)? {
        notify_given_up(config, report, &run, &message);
        ping::finished(report, &run);
    }
    Ok(())
}

/// A run given up because its process died: its spool directory tidied, the notify
/// mail sent.
fn tidy_given_up(config: &Config, report: &Report, run: &RunRecord) {
    if let Err(e) = spool::after_run(config, run) {
        ui::warn(format!(
            "tidying the spool directory of run {}: {e}",
            run.token
        ));
    }
    notify_given_up(config, report, run, &run.detail);
    ping::finished(report, run);
}

/// The notify mail for slots given up outside a run (a dead process, catch-up); one
/// that cannot be sent is a warning.
fn notify_given_up(config: &Config, report: &Report, run: &RunRecord, detail: &str) {
    if report.notify.is_empty() {
        return;
    }
    // Given up outside a run: the note goes to stderr only.
    let _ = notify::send_or_warn(config, report, run, false, detail);
}

/// One line of `run-due --dry-run`: a slot or retry that would run (or be skipped).
pub struct WouldRun<'a> {
    pub token: &'a str,
    pub run_at: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// `run`, `skip` or `retry`.
    pub action: &'static str,
    /// The recipient's key, for a run of a report with recipients.
    pub recipient: Option<&'a str>,
}

/// What `run_due` would do at `now`, report by report, recording nothing.
pub fn dry_run(
    config: &Config,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    show: &mut dyn FnMut(&Report, WouldRun<'_>) -> Result<()>,
) -> Result<()> {
    let states = due::states(config, ledger)?;
    for (report, state) in config.reports.iter().zip(states) {
        let due = due::collect_with(
            config,
            report,
            state,
            ledger,
            now,
            crate::clock::wall(),
            None,
        )?;
        for r in &due.unrecorded {
            let action = if r.status == RunStatus::Skipped {
                "skip"
            } else {
                "run"
            };
            let key = r.recipient.as_ref().map(|x| x.key.as_str());
            let run = would_run(&r.token, r.run_at, r.window_from, r.window_to, action);
            show(
                report,
                WouldRun {
                    recipient: key,
                    ..run
                },
            )?;
        }
        for r in &due.pending {
            let key = r.recipient.as_deref();
            let run = would_run(&r.token, r.run_at, r.window_from, r.window_to, "retry");
            show(
                report,
                WouldRun {
                    recipient: key,
                    ..run
                },
            )?;
        }
        if let Some(e) = due.recipients_error {
            crate::ui::warn(e);
        }
    }
    Ok(())
}

fn would_run<'a>(
    token: &'a str,
    run_at: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    action: &'static str,
) -> WouldRun<'a> {
    WouldRun {
        token,
        run_at,
        from,
        to,
        action,
        recipient: None,
    }
}
