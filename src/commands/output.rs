//! What commands print, shared by several of them (not a command itself): one JSON
//! shape for runs (`run`, `run-due --json`, `history --json`, `status --json`), a
//! one-line human summary, and times as RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::Config;
use crate::engine::summary::local;
pub use crate::engine::summary::summary;
use crate::ledger::{FileRecord, NotSent, ReceiptRecord, RunRecord, RunStatus};

#[derive(Serialize)]
pub struct RunView<'a> {
    pub token: &'a str,
    pub report: &'a str,
    pub kind: &'static str,
    pub status: &'static str,
    pub detail: &'a str,
    /// Progress in percent: 0 queued, 50 running, 100 ended.
    pub progress: u8,
    pub run_at: String,
    pub from: String,
    pub to: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub files: &'a [FileRecord],
    pub receipts: &'a [ReceiptRecord],
    /// A `resend` run: the run it delivered again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<&'a str>,
    /// A given-up or skipped slot that needs no attention any more: how it was settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled: Option<&'a str>,
    /// A completed run that delivered nothing on purpose: `empty` (`send_empty =
    /// false`) or `condition-false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_sent: Option<NotSent>,
    /// The recipient's key, for a run of a report with recipients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<&'a str>,
}

/// The zone a run is shown in: its report's, or UTC for a report no longer configured.
pub fn zone_of(config: &Config, report: &str) -> Tz {
    config.report(report).map_or(Tz::UTC, |r| r.timezone)
}

/// A time in its own zone, to the second: `2026-11-30T07:00:00+01:00`.
pub fn rfc3339(t: &DateTime<Tz>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn view<'a>(run: &'a RunRecord, tz: Tz) -> RunView<'a> {
    RunView {
        token: &run.token,
        report: &run.report,
        kind: run.kind.name(),
        status: run.status.name(),
        detail: &run.detail,
        progress: match run.status {
            RunStatus::Queued => 0,
            RunStatus::Running => 50,
            _ => 100,
        },
        run_at: local(run.run_at, tz),
        from: local(run.window_from, tz),
        to: local(run.window_to, tz),
        attempts: run.attempts,
        max_attempts: run.max_attempts,
        next_attempt_at: run.next_attempt_at.map(utc),
        created_at: utc(run.created_at),
        updated_at: utc(run.updated_at),
        files: &run.files,
        receipts: &run.receipts,
        origin: run.origin.as_deref(),
        settled: run.settled_by.as_deref(),
        not_sent: run.not_sent,
        recipient: run.recipient.as_ref().map(|r| r.key.as_str()),
    }
}

pub fn json(run: &RunRecord, tz: Tz) -> String {
    serde_json::to_string(&view(run, tz)).expect("a run serializes")
}

/// Shows a run that has ended: its JSON line on `out` with `--json`, and its summary on
/// stderr (`-v`) or, unless it completed, as an error. Returns whether it completed.
pub fn finished(
    json: bool,
    out: &mut impl std::io::Write,
    run: &RunRecord,
    tz: Tz,
) -> std::io::Result<bool> {
    if json {
        writeln!(out, "{}", self::json(run, tz))?;
    }
    let completed = run.status == RunStatus::Completed;
    if completed {
        crate::ui::info(summary(run, tz));
    } else {
        eprintln!("reportctl: error: {}", summary(run, tz));
    }
    Ok(completed)
}

/// What a run a person asked for made, one line per file and per destination it was
/// delivered to: `wrote NAME: 2 rows, 85 bytes`, `delivered to out: 1 file in out`.
pub fn result_lines(run: &RunRecord) -> Vec<String> {
    let files = run.files.iter().map(|f| file_line(&f.name, f));
    let deliveries = run
        .receipts
        .iter()
        .filter(|r| r.status == crate::ledger::ReceiptStatus::Delivered)
        .map(|r| format!("delivered to {}: {}", r.destination, r.detail));
    files.chain(deliveries).collect()
}

/// `wrote PATH: 2 rows, 85 bytes`.
pub fn file_line(path: &str, f: &FileRecord) -> String {
    format!(
        "wrote {path}: {}, {}",
        crate::ui::count(f.rows, "row", "rows"),
        crate::deliver::human_bytes(f.bytes)
    )
}

/// Shows a run that has ended (see `finished`) on stdout and returns the exit code:
/// `OK` when it completed, `FAILED` otherwise; a run not sent (`condition`,
/// `send_empty`) is said on stderr even without `-v`. A completed run's files and deliveries
/// are listed on stdout, one line each, unless `--json` or `-q`.
pub fn done(json: bool, run: &RunRecord, tz: Tz) -> anyhow::Result<u8> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let completed = finished(json, &mut out, run, tz)?;
    if run.not_sent.is_some() && crate::ui::level() == 1 {
        // Said even without -v: the person who asked for the run gets no files.
        crate::ui::warn(format!(
            "{}; nothing was delivered (--force delivers anyway)",
            summary(run, tz)
        ));
    }
    if completed && !json && crate::ui::level() >= 1 {
        for line in result_lines(run) {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(if completed {
        crate::exit::OK
    } else {
        crate::exit::FAILED
    })
}
