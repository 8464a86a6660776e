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

use std::sync::Arc;
use std::time::Duration;

use crate::config::check::check_ping_url as check_url;
use crate::config::secret::Secret;
use crate::config::Report;
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
    let result = agent(parsed.scheme() == "https")
        .and_then(|agent| {
            agent
                .post(&target)
                .header("Content-Type", "text/plain; charset=utf-8")
                .send(body)
                .map_err(|e| e.to_string())
        })
        .map_err(|e| redact::text(&format!("{shown}: {e}")))?;
    ui::debug(format!(
        "{} ping to {shown}: HTTP {}",
        event.name(),
        result.status()
    ));
    Ok(())
}

/// The URL as messages show it: `https://hc-ping.com/[redacted]`.
fn shown(url: &url::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = url.host_str().unwrap_or_default();
    format!("{}://{host}{port}/{}", url.scheme(), redact::REPLACEMENT)
}

/// Shorter text is not taken for a key (redacting it would garble every message).
const MIN_KEY: usize = 8;

/// The path and query (where ping keys are) never show in captured text: whole, and
/// each long path segment on its own (a healthchecks UUID or ping key).
fn hide_path(url: &url::Url) {
    let path = url.path().trim_start_matches('/');
    let segments = path.split('/').filter(|s| s.len() >= 2 * MIN_KEY);
    for part in [path].into_iter().chain(segments).chain(url.query()) {
        if part.len() >= MIN_KEY {
            redact::remember(part);
        }
    }
}

fn agent(tls: bool) -> Result<ureq::Agent, String> {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .user_agent(format!("reportctl/{}", env!("CARGO_PKG_VERSION")));
    if tls {
        config = config.tls_config(tls_config()?);
    }
    Ok(config.build().into())
}

/// rustls with ring (the binary's one TLS stack), verifying the server against the
/// system's trusted certificates.
fn tls_config() -> Result<ureq::tls::TlsConfig, String> {
    let found = rustls_native_certs::load_native_certs();
    let roots: Vec<_> = found
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if roots.is_empty() {
        return Err("no trusted certificates found on this system for an https ping".into());
    }
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hide_the_path() {
        let u = check_url("https://hc-ping.com/0f3a-secret/daily?x=1").unwrap();
        assert_eq!(shown(&u), "https://hc-ping.com/[redacted]");
        let u = check_url("http://127.0.0.1:8000/key").unwrap();
        assert_eq!(shown(&u), "http://127.0.0.1:8000/[redacted]");
    }

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

    #[test]
    fn short_paths_are_not_taken_for_keys() {
        hide_path(&url::Url::parse("http://h/k").unwrap());
        hide_path(&url::Url::parse("http://h/ping/0123456789abcdef01").unwrap());
        assert_eq!(redact::text("keep k"), "keep k");
        assert_eq!(redact::text("key 0123456789abcdef01"), "key [redacted]");
    }
}
