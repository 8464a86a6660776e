//! Heartbeat pings (`ping_url`, in `[settings]` or per report, the report's winning), in
//! the healthchecks.io convention, for scheduled runs (`run-due`, and `retry` of a
//! scheduled run):
//!
//! - `URL/start` when an attempt starts;
//! - `URL` when the run completed;
//! - `URL/fail` when an attempt failed, whether attempts are left or not (the summary
//!   says which), and when a run is given up because its process died.
//!
//! Each is a POST whose body is one line: `REPORT TIME [TOKEN]: started, attempt 1 of 5`
//! for a start, else the run's summary as `run-due` shows it. A ping has 10 seconds in all
//! and never changes what the run does or how `run-due` exits: a ping that fails is a
//! warning on stderr. Ping URLs carry their key in the path: messages show the scheme,
//! host and port only, and the path is redacted from all captured text.

use std::time::Duration;

use crate::config::check::check_ping_url as check_url;
use crate::config::secret::Secret;
use crate::config::Report;
use crate::deliver::http::{agent, hide_path, shown};
use crate::ledger::{RunKind, RunRecord, RunStatus};
use crate::{redact, ui};

/// How long a ping may take in all (connection, TLS, request and answer).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Which ping: the suffix of the URL (healthchecks.io's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Start,
    Success,
    Failure,
}

impl Event {
    fn suffix(self) -> &'static str {
        match self {
            Event::Start => "/start",
            Event::Success => "",
            Event::Failure => "/fail",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::Success => "success",
            Event::Failure => "failure",
        }
    }
}

/// The start ping of `run`, an attempt just claimed (scheduled runs only).
pub fn started(report: &Report, run: &RunRecord) {
    if run.kind == RunKind::Scheduled {
        send_for(report, run, Event::Start);
    }
}

/// The success or failure ping of `run`, as recorded at its end (scheduled runs only).
pub fn finished(report: &Report, run: &RunRecord) {
    if run.kind != RunKind::Scheduled {
        return;
    }
    let event = if run.status == RunStatus::Completed {
        Event::Success
    } else {
        Event::Failure
    };
    send_for(report, run, event);
}

fn send_for(report: &Report, run: &RunRecord, event: Event) {
    let Some(url) = &report.ping_url else {
        return;
    };
    let body = match event {
        Event::Start => format!(
            "{}: started, attempt {} of {}",
            super::summary::head(run, report.timezone),
            run.attempts,
            run.max_attempts
        ),
        _ => super::summary::summary(run, report.timezone),
    };
    if let Err(e) = send(url, event, &body) {
        ui::warn(format!(
            "report \"{}\" [{}]: {} ping failed: {e}",
            report.name,
            run.token,
            event.name()
        ));
    }
}

/// POSTs `body` to the URL of `event`. The error says where (without the path) and why.
pub fn send(url: &Secret, event: Event, body: &str) -> Result<(), String> {
    let url = url.resolve()?;
    let base = url.expose().trim_end_matches('/');
    let parsed = check_url(base)?;
    hide_path(&parsed);
    let shown = shown(&parsed);
    let target = format!("{base}{}", event.suffix());
    let result = agent(TIMEOUT, parsed.scheme() == "https", None)
        .and_then(|agent| {
            agent
                .post(&target)
                .header("Content-Type", "text/plain; charset=utf-8")
                .send(body)
                .map_err(|e| e.to_string())
        })
        .map_err(|e| redact::text(&format!("{shown}: {e}")))?;
    if !result.status().is_success() {
        return Err(format!(
            "{shown}: http status: {}",
            result.status().as_u16()
        ));
    }
    ui::debug(format!(
        "{} ping to {shown}: HTTP {}",
        event.name(),
        result.status()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_port_is_an_error_naming_no_key() {
        let e = send(
            &Secret::Plain("http://127.0.0.1:9/pingkey-unit-test".into()),
            Event::Start,
            "x",
        )
        .unwrap_err();
        assert!(e.starts_with("http://127.0.0.1:9/[redacted]: "), "{e}");
        assert!(!e.contains("pingkey-unit-test"), "{e}");
    }
}
