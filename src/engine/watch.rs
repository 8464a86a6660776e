//! `check`'s view of the reports: the state of each report's latest slots at the wall
//! clock, from what the ledger holds about it (`ledger::Watch`: its row and the runs of
//! two small indexes, never its history) and its schedule. One line per slot that needs
//! a look, or one line saying the report is fine.
//!
//! States and their weight (the Nagios/Icinga plugin convention, see `Severity`):
//! - ok: the latest slot completed, or is not late yet, or none is due yet;
//! - paused: the report's status is draft (its slots are not run);
//! - late: a slot due more than the grace ago that has not completed, whether
//!   `run-due` took it (queued, running) or never did (is cron calling it?);
//! - failing: a slot that failed and will be tried again (attempts left);
//! - given up: a slot that failed with no attempt left, until it is settled;
//! - skipped: a slot skipped by catch-up, until it is settled.
//!
//! A slot that completed without delivering on purpose (`send_empty = false` and no
//! rows, or a false `condition`) is ok, and its line says so: `latest slot completed
//! (empty, not sent)`.

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

use super::due;
use super::token::slot_token;
use crate::config::{Report, Status};
use crate::ledger::{Ledger, RunKind, RunRecord, RunStatus, Watch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Ok = 0,
    Warning = 1,
    Critical = 2,
}

impl Severity {
    /// The plugin's word: `OK`, `WARNING`, `CRITICAL`.
    pub fn word(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    GivenUp,
    Skipped,
    Late,
    Failing,
    Ok,
    Paused,
}

impl State {
    /// All states, in the order summaries count them (worst first).
    pub const ALL: [State; 6] = [
        State::GivenUp,
        State::Skipped,
        State::Late,
        State::Failing,
        State::Ok,
        State::Paused,
    ];

    /// As people read it: `given up`.
    pub fn name(self) -> &'static str {
        match self {
            State::GivenUp => "given up",
            State::Skipped => "skipped",
            State::Late => "late",
            State::Failing => "failing",
            State::Ok => "ok",
            State::Paused => "paused",
        }
    }

    /// As `--json` and performance data say it: `given_up`.
    pub fn key(self) -> &'static str {
        match self {
            State::GivenUp => "given_up",
            other => other.name(),
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            State::GivenUp | State::Skipped => Severity::Critical,
            State::Late | State::Failing => Severity::Warning,
            State::Ok | State::Paused => Severity::Ok,
        }
    }
}

/// One line of `check`.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub report: &'a Report,
    pub state: State,
    /// The slot's time, when the line is about one.
    pub slot: Option<DateTime<Utc>>,
    pub token: Option<String>,
    /// The recipient's key, when the line is about a recipient's run: each recipient's
    /// failing or given-up run is a line of its own.
    pub recipient: Option<String>,
    pub detail: String,
}

/// The lines of `reports` at `now` (the wall clock): a slot is late once it is
/// unfinished `grace` after its time. Without a ledger, nothing has run yet.
pub fn check<'a>(
    reports: &[&'a Report],
    ledger: Option<&mut Ledger>,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<Vec<Line<'a>>> {
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    let watches = match ledger {
        Some(l) => l.watch(&names)?,
        None => vec![Watch::default(); reports.len()],
    };
    Ok(reports
        .iter()
        .zip(watches)
        .flat_map(|(r, w)| lines_of(r, &w, now, grace))
        .collect())
}

fn run_line<'a>(report: &'a Report, state: State, run: &RunRecord, detail: String) -> Line<'a> {
    Line {
        report,
        state,
        slot: run.slot_at,
        token: Some(run.token.clone()),
        recipient: run.recipient.as_ref().map(|r| r.key.clone()),
        detail,
    }
}

fn lines_of<'a>(
    report: &'a Report,
    w: &Watch,
    now: DateTime<Utc>,
    grace: Duration,
) -> Vec<Line<'a>> {
    let mut lines = attention_lines(report, &w.attention);
    if report.status == Status::Draft {
        if lines.is_empty() {
            lines.push(Line {
                report,
                state: State::Paused,
                slot: None,
                token: None,
                recipient: None,
                detail: "status = \"draft\": its slots are not run".into(),
            });
        }
        return lines;
    }
    let cutoff = now - grace;
    let late = |at: DateTime<Utc>| {
        format!(
            "{} minutes after its time (grace {})",
            (now - at).num_minutes(),
            grace.num_minutes()
        )
    };
    for run in w.open.iter().filter(|r| r.kind == RunKind::Scheduled) {
        match run.status {
            RunStatus::Failed => {
                lines.push(run_line(report, State::Failing, run, run.detail.clone()))
            }
            status if run.run_at < cutoff => {
                let detail = format!("{status}, not completed {}", late(run.run_at));
                lines.push(run_line(report, State::Late, run, detail));
            }
            _ => {}
        }
    }
    if let Some(first_seen) = w.first_seen {
        let before = cutoff - Duration::seconds(1);
        if let Some(slot) = due::first_unrecorded(report, first_seen, w.last_slot, before) {
            let at = slot.run_at.with_timezone(&Utc);
            lines.push(Line {
                report,
                state: State::Late,
                slot: Some(at),
                token: Some(slot_token(&report.name, at)),
                recipient: None,
                detail: format!(
                    "not taken by run-due {}: is `reportctl run-due` called (cron)?",
                    late(at)
                ),
            });
        }
    }
    if lines.is_empty() {
        lines.push(ok_line(report, w));
    }
    lines
}

fn ok_line<'a>(report: &'a Report, w: &Watch) -> Line<'a> {
    match &w.latest {
        Some(run) => {
            let detail = match (&run.settled_by, run.not_sent) {
                (Some(by), _) => format!("latest slot {} ({by})", run.status),
                (None, Some(why)) => format!("latest slot {} ({})", run.status, why.words()),
                (None, None) => format!("latest slot {}", run.status),
            };
            run_line(report, State::Ok, run, detail)
        }
        None => Line {
            report,
            state: State::Ok,
            slot: None,
            token: None,
            recipient: None,
            detail: if w.first_seen.is_some() {
                "no slot run yet".into()
            } else {
                "not seen by `reportctl run-due` yet".into()
            },
        },
    }
}

/// A line per slot given up, and one per catch-up for the slots it skipped (they were
/// skipped together, and `ack` settles them together): the latest one's token.
fn attention_lines<'a>(report: &'a Report, runs: &[RunRecord]) -> Vec<Line<'a>> {
    let mut lines: Vec<Line<'a>> = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let run = &runs[i];
        if run.status != RunStatus::Skipped {
            lines.push(run_line(report, State::GivenUp, run, run.detail.clone()));
            i += 1;
            continue;
        }
        let n = runs[i..]
            .iter()
            .take_while(|r| r.status == RunStatus::Skipped && r.created_at == run.created_at)
            .count();
        let last = &runs[i + n - 1];
        let detail = if n == 1 {
            run.detail.clone()
        } else {
            let t = |r: &RunRecord| r.run_at.with_timezone(&report.timezone).to_rfc3339();
            format!(
                "{n} slots skipped by one catch-up, {} to {}: {}",
                t(run),
                t(last),
                last.detail
            )
        };
        lines.push(run_line(report, State::Skipped, last, detail));
        i += n;
    }
    lines
}

/// The worst severity of `lines` (`Ok` for none).
pub fn worst(lines: &[Line<'_>]) -> Severity {
    lines
        .iter()
        .map(|l| l.state.severity())
        .max()
        .unwrap_or(Severity::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::RunRecord;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn report(status: &str) -> Report {
        let text = format!(
            "[settings]\ntimezone = \"UTC\"\n[sources.db]\nkind = \"sqlite\"\npath = \"x.db\"\n[destinations.out]\nkind = \"directory\"\npath = \"out\"\n[[reports]]\nname = \"R\"\ntype = \"R\"\nsource = \"db\"\ndestinations = [\"out\"]\nstatus = \"{status}\"\nquery = \"SELECT 1\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"06:00\"\n"
        );
        let config = crate::config::load_str(std::path::Path::new("r.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}"));
        config.reports[0].clone()
    }

    fn run(token: &str, at: &str, status: RunStatus, created: &str) -> RunRecord {
        RunRecord {
            token: token.into(),
            report: "R".into(),
            kind: RunKind::Scheduled,
            slot_at: Some(t(at)),
            run_at: t(at),
            window_from: t(at),
            window_to: t(at),
            status,
            detail: format!("{token} detail"),
            attempts: 1,
            max_attempts: 2,
            next_attempt_at: None,
            owner: None,
            created_at: t(created),
            updated_at: t(created),
            finished_at: None,
            origin: None,
            settled_by: None,
            not_sent: None,
            recipient: None,
            files: Vec::new(),
            receipts: Vec::new(),
        }
    }

    fn states(lines: &[Line<'_>]) -> Vec<(State, Option<String>)> {
        lines.iter().map(|l| (l.state, l.token.clone())).collect()
    }

    #[test]
    fn each_run_in_trouble_is_a_line_and_the_worst_decides() {
        let r = report("active");
        let created = "2026-11-05T00:00:00Z";
        let w = Watch {
            first_seen: Some(t("2026-11-01T00:00:00Z")),
            last_slot: Some(t("2026-11-05T06:00:00Z")),
            latest: None,
            open: vec![
                run("f", "2026-11-04T06:00:00Z", RunStatus::Failed, created),
                run("q", "2026-11-05T06:00:00Z", RunStatus::Queued, created),
            ],
            attention: vec![
                run("s1", "2026-11-01T06:00:00Z", RunStatus::Skipped, created),
                run("s2", "2026-11-02T06:00:00Z", RunStatus::Skipped, created),
                run("g", "2026-11-03T06:00:00Z", RunStatus::Failed, created),
            ],
        };
        let grace = Duration::minutes(30);
        let lines = lines_of(&r, &w, t("2026-11-05T06:30:00Z"), grace);
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            states(&lines),
            vec![
                (State::Skipped, some("s2")),
                (State::GivenUp, some("g")),
                (State::Failing, some("f")),
            ],
            "the queued slot is not late yet"
        );
        assert!(lines[0]
            .detail
            .starts_with("2 slots skipped by one catch-up"));
        assert_eq!(worst(&lines), Severity::Critical);
        let lines = lines_of(&r, &w, t("2026-11-05T06:31:00Z"), grace);
        assert_eq!(lines[3].state, State::Late);
        assert_eq!(
            lines[3].detail,
            "queued, not completed 31 minutes after its time (grace 30)"
        );
    }

    #[test]
    fn a_draft_is_paused_unless_a_slot_needs_attention() {
        let r = report("draft");
        let w = Watch::default();
        let lines = lines_of(&r, &w, t("2026-11-05T06:30:00Z"), Duration::zero());
        assert_eq!(states(&lines), vec![(State::Paused, None)]);
        assert_eq!(worst(&lines), Severity::Ok);
        let w = Watch {
            attention: vec![run(
                "g",
                "2026-11-03T06:00:00Z",
                RunStatus::Failed,
                "2026-11-03T06:00:00Z",
            )],
            ..Watch::default()
        };
        let lines = lines_of(&r, &w, t("2026-11-05T06:30:00Z"), Duration::zero());
        assert_eq!(states(&lines), vec![(State::GivenUp, Some("g".into()))]);
    }
}
