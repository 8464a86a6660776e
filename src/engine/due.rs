//! What `run-due` has to do for a report at `now`: the planner's slots since the report
//! was first seen (or since `start` with `backfill = true`) that the ledger has not
//! recorded yet, plus recorded runs that are still owed (queued, abandoned by a dead
//! process, or failed with attempts left).
//!
//! New slots are recorded before any is run, oldest first. When more than `catch_up`
//! new slots are due at once (after downtime), only the latest `catch_up` are queued;
//! the older ones are recorded as `skipped`, with a message saying how to run them by
//! hand: never dropped silently.
//!
//! A paused report (`status = "draft"`) runs nothing, but once `run-due` has seen it, the
//! slots that fall while it is paused are recorded as `skipped` with a detail saying
//! so, settled at once (`check` shows the report as paused, never as critical): on
//! resume, only slots that fall after the pause are sent. The pause starts when the
//! `pause` command or the first `run-due` sees the report as draft, and ends when the
//! `resume` command or the first `run-due` sees it active again (`record_due`).

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

use super::gate::Gates;
use super::token::{recipient_token, slot_token};
use crate::config::{Config, Report, Status};
use crate::ledger::{Ledger, NewRun, PendingRun, ReportState, RunKind, RunStatus};
use crate::schedule::{local::resolve, Plan, Schedule, Slot, Window};

pub struct Due {
    /// Runs to try now, oldest first.
    pub pending: Vec<PendingRun>,
    /// Slots recorded as skipped in this call.
    pub skipped: Vec<NewRun>,
    /// Slots that are due but not recorded yet (`--dry-run` only).
    pub unrecorded: Vec<NewRun>,
    /// Runs given up in this call: their process died during their last attempt.
    pub given_up: Vec<String>,
    /// Why the recipients of a new slot could not be had (its runs and later slots'
    /// are recorded once they can).
    pub recipients_error: Option<String>,
}

/// When `report` was first seen by `run-due`: never later than the machine's clock, so
/// a `--now` in the future cannot leave it unscheduled until then. With `record`, a
/// report never seen is recorded as seen now (or at `--now` when that is earlier), and a
/// first sight recorded in the future (by an older reportctl) is corrected, with a
/// warning naming the report.
pub fn first_sight(
    ledger: &mut Ledger,
    report: &Report,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
    record: bool,
) -> Result<DateTime<Utc>> {
    let seen = ledger.first_seen(&report.name, record.then_some(now.min(wall)))?;
    if record && seen.is_some_and(|t| t > wall) {
        if let Some(was) = ledger.correct_first_seen(&report.name, wall)? {
            crate::ui::warn(format!(
                "report \"{}\": first seen recorded at {}, in the future of this machine's clock (a run-due with a later --now); corrected to {} so that its slots are run again",
                report.name,
                was.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                wall.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ));
        }
    }
    Ok(seen.map_or(now.min(wall), |t| t.min(wall)))
}

/// Where `run-due` looks for new slots from: after the last recorded slot, and not
/// before first sight (or `start` with `backfill = true`; a one-time report: ever).
fn search_from(
    report: &Report,
    first_seen: DateTime<Utc>,
    last_slot: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let since = match &report.schedule {
        // A one-time report runs once, whenever run-due first finds it due.
        Schedule::Once { .. } => DateTime::<Utc>::MIN_UTC,
        Schedule::Recurring(r) if report.backfill => r
            .start
            .map(|s| resolve(report.timezone, s).with_timezone(&Utc))
            .unwrap_or(first_seen),
        _ => first_seen,
    };
    match last_slot {
        Some(last) => (last + Duration::seconds(1)).max(since),
        None => since,
    }
}

/// The slot `run-due` will run next for `report`, given what the ledger recorded: the
/// planner's next slot from `now` on, but none before the slot after the last recorded
/// one (a `run-due --now` in the future may have recorded slots ahead). Reads only.
pub fn next_slot(
    report: &Report,
    ledger: Option<&mut Ledger>,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
) -> Result<Option<Slot>> {
    if report.status == Status::Draft {
        return Ok(None);
    }
    let (first_seen, last_slot) = match ledger {
        Some(l) => (
            first_sight(l, report, now, wall, false)?,
            l.last_slot(&report.name)?,
        ),
        None => (now.min(wall), None),
    };
    let plan = Plan::new(&report.schedule, report.timezone, first_seen);
    let from = search_from(report, first_seen, last_slot).max(now);
    Ok(plan.slots_from(from).next())
}

/// The first slot of `report` due at or before `until` that the ledger has not
/// recorded (`run-due` has not taken it), given what it recorded. Reads nothing.
pub fn first_unrecorded(
    report: &Report,
    first_seen: DateTime<Utc>,
    last_slot: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
) -> Option<Slot> {
    let plan = Plan::new(&report.schedule, report.timezone, first_seen);
    let from = search_from(report, first_seen, last_slot);
    plan.slots_between(from, until).next()
}

/// What the ledger holds about each report of `config`, in configuration order: one
/// read per report, done up front (see `collect`).
pub fn states(config: &Config, ledger: &mut Ledger) -> Result<Vec<ReportState>> {
    let names: Vec<&str> = config.reports.iter().map(|r| r.name.as_str()).collect();
    ledger.report_states(&names)
}

/// What the ledger holds about `report` (see `states`).
fn state(ledger: &mut Ledger, report: &Report) -> Result<ReportState> {
    Ok(ledger
        .report_states(&[report.name.as_str()])?
        .pop()
        .expect("one state per report"))
}

/// The new slots of `report` due at `now`, and the recorded runs still owed. With
/// `record`, new slots are recorded (queued or skipped), a recipients query waiting at
/// its source's gate among these `Gates` (the runs `run-due` executes meanwhile query
/// sources too); without, nothing is written.
pub fn collect(
    config: &Config,
    report: &Report,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
    record: Option<&Gates>,
) -> Result<Due> {
    let state = state(ledger, report)?;
    collect_with(config, report, state, ledger, now, wall, record)
}

/// `collect`, given what `states` read about the report. The ledger is written only
/// when something changes (a report seen for the first time, new slots, open runs),
/// so that run-due with nothing due costs one read per report whatever the history.
pub fn collect_with(
    config: &Config,
    report: &Report,
    state: ReportState,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
    record: Option<&Gates>,
) -> Result<Due> {
    let mut due = Due {
        pending: Vec::new(),
        skipped: Vec::new(),
        unrecorded: Vec::new(),
        given_up: Vec::new(),
        recipients_error: None,
    };
    if report.status == Status::Draft {
        if record.is_some() {
            record_paused(report, &state, ledger, now, wall)?;
        }
        return Ok(due);
    }
    let (new, recipients_error) = new_slots(config, report, &state, ledger, now, wall, record)?;
    due.recipients_error = recipients_error;
    let open = state.open || (record.is_some() && !new.is_empty());
    if record.is_some() {
        if !new.is_empty() {
            ledger.enqueue(&new, wall)?;
        }
        if open {
            due.given_up = ledger.abandon_expired(&report.name, wall)?;
        }
        due.skipped = new
            .into_iter()
            .filter(|r| r.status == RunStatus::Skipped)
            .collect();
        // The filter reuses the fan-out's allocation (one run per recipient): not kept.
        due.skipped.shrink_to_fit();
    } else {
        due.unrecorded = new;
    }
    if open {
        due.pending = ledger.pending(&report.name, now, wall)?;
    }
    Ok(due)
}

/// The runs of the slots of `report` due at `now` that the ledger has not recorded, as
/// they would be recorded: queued (one per recipient of the slot), or skipped by
/// catch-up. With `record`, a report seen for the first time is recorded as seen.
fn new_slots(
    config: &Config,
    report: &Report,
    state: &ReportState,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
    record: Option<&Gates>,
) -> Result<(Vec<NewRun>, Option<String>)> {
    // First sight as read up front, unless there is none yet or it lies in the future
    // of the machine's clock (then it is recorded or corrected).
    let first_seen = match state.first_seen {
        Some(t) if t <= wall => t,
        _ => first_sight(ledger, report, now, wall, record.is_some())?,
    };
    let runs = new_runs(
        report,
        &unrecorded_slots(report, first_seen, state.last_slot, now),
        config.settings.catch_up as usize,
    );
    let none = Gates::none();
    Ok(fan_out(config, report, runs, record.unwrap_or(&none)))
}

/// A report with recipients: each queued slot becomes one run per recipient of the
/// slot, its list fixed now; a slot skipped by catch-up stays one run (for all), and a
/// slot without recipients one completed run that says so. When a slot's recipients
/// cannot be had (the query fails, a key is repeated), that slot and the later ones are
/// left unrecorded, so that the next `run-due` tries again, and the error is returned.
fn fan_out(
    config: &Config,
    report: &Report,
    runs: Vec<NewRun>,
    gates: &Gates,
) -> (Vec<NewRun>, Option<String>) {
    if report.recipients.is_none() {
        return (runs, None);
    }
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        if run.status != RunStatus::Queued {
            out.push(run);
            continue;
        }
        let window = Window::in_zone(run.window_from, run.window_to, report.timezone);
        match super::recipients::of_slot(config, report, &window, gates) {
            Ok(Some(list)) if list.is_empty() => out.push(NewRun {
                status: RunStatus::Completed,
                detail: "no recipients in this slot".into(),
                ..run
            }),
            Ok(Some(list)) => out.extend(list.into_iter().map(|r| NewRun {
                token: recipient_token(&report.name, run.run_at, &r.key),
                recipient: Some(r),
                ..run.clone()
            })),
            Ok(None) => out.push(run),
            Err(e) => {
                let at = run.run_at.with_timezone(&report.timezone).to_rfc3339();
                let message = format!(
                    "{e:#}; the slot at {at} is recorded (one run per recipient) once its recipients can be read"
                );
                return (out, Some(message));
            }
        }
    }
    (out, None)
}

/// The planner's slots of `report` from the one after `last_slot` (or first sight) up
/// to `now`.
fn unrecorded_slots(
    report: &Report,
    first_seen: DateTime<Utc>,
    last_slot: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Slot> {
    let plan = Plan::new(&report.schedule, report.timezone, first_seen);
    let after = search_from(report, first_seen, last_slot);
    if after <= now {
        plan.slots_between(after, now).collect()
    } else {
        Vec::new()
    }
}

/// Records the slots of the paused `report` due at `now` as skipped (paused), settled.
/// A report `run-due` has never seen is not paused but not started: nothing is
/// recorded, and its slots start when it is first seen active.
fn record_paused(
    report: &Report,
    state: &ReportState,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
) -> Result<()> {
    let Some(first_seen) = state.first_seen.map(|t| t.min(wall)) else {
        return Ok(());
    };
    let slots = unrecorded_slots(report, first_seen, state.last_slot, now);
    if slots.is_empty() {
        return Ok(());
    }
    let runs: Vec<NewRun> = new_runs(report, &slots, 0)
        .into_iter()
        .zip(&slots)
        .map(|(run, slot)| NewRun {
            detail: format!(
                "paused: the report's status was \"draft\" when this slot fell, so it is not sent; run it by hand with: {}",
                by_hand(report, slot)
            ),
            ..run
        })
        .collect();
    ledger.enqueue_settled(&runs, PAUSED, wall)
}

/// How `check` and `status` say a slot skipped while its report was paused was
/// settled (`settled_by`).
pub const PAUSED: &str = "paused";

/// Before `pause` or `resume` changes `report`'s status: its slots due at `now` are
/// recorded as `run-due` would record them now (queued while it is active, skipped
/// while paused), so that the pause starts or ends at the command. Returns the slots
/// skipped by catch-up, for the caller to report.
pub fn record_due(
    config: &Config,
    report: &Report,
    ledger: &mut Ledger,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
) -> Result<Vec<NewRun>> {
    let state = state(ledger, report)?;
    if report.status == Status::Draft {
        record_paused(report, &state, ledger, now, wall)?;
        return Ok(Vec::new());
    }
    let none = Gates::none();
    let (new, recipients_error) =
        new_slots(config, report, &state, ledger, now, wall, Some(&none))?;
    if let Some(e) = recipients_error {
        crate::ui::warn(e);
    }
    if !new.is_empty() {
        ledger.enqueue(&new, wall)?;
    }
    Ok(new
        .into_iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .collect())
}

/// `reportctl run "REPORT" --from … --to …` for `slot`'s window.
fn by_hand(report: &Report, slot: &Slot) -> String {
    format!(
        "reportctl run \"{}\" --from {} --to {}",
        report.name,
        slot.window.from.format("%Y-%m-%dT%H:%M:%S%:z"),
        slot.window.to.format("%Y-%m-%dT%H:%M:%S%:z"),
    )
}

/// The runs of new `slots` (oldest first): all queued, or, when more than `cap` are due
/// at once, the older ones skipped with a message saying how to run each by hand.
fn new_runs(report: &Report, slots: &[Slot], cap: usize) -> Vec<NewRun> {
    let skip = slots.len().saturating_sub(cap);
    slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let run_at = slot.run_at.with_timezone(&Utc);
            let skipped = i < skip;
            NewRun {
                token: slot_token(&report.name, run_at),
                report: report.name.clone(),
                kind: RunKind::Scheduled,
                slot_at: Some(run_at),
                run_at,
                window_from: slot.window.from.with_timezone(&Utc),
                window_to: slot.window.to.with_timezone(&Utc),
                max_attempts: report.max_attempts,
                status: if skipped { RunStatus::Skipped } else { RunStatus::Queued },
                detail: if skipped {
                    format!(
                        "missed: {} slots were due at once and catch_up = {cap}; run it by hand with: {}",
                        slots.len(),
                        by_hand(report, slot),
                    )
                } else {
                    String::new()
                },
                recipient: None,
            }
        })
        .collect()
}
