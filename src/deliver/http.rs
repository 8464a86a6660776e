//! The one HTTP client of the binary (heartbeat pings, webhook, Slack and Teams
//! destinations): ureq 3 on rustls with ring, verifying servers against the system's
//! trusted certificates plus an optional `ca_file`. Redirects are not followed (a POST
//! that lands elsewhere is a configuration to fix) and HTTP statuses are answers, not
//! errors: [`answer`] sorts them into success, transient and permanent failures.
//!
//! URLs may carry keys (a ping key in the path, a Teams Workflows URL's signature in
//! the query): messages show them through [`shown`], and [`hide_path`] registers their
//! secret parts for redaction.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};
use ureq::http::Response;
use ureq::Body;

use super::{RetryAfter, Transient};
use crate::redact;

/// The longest `Retry-After` a delivery waits for within a run; a server asking for
/// more is tried again by a later `run-due`.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// How much of an answer's body is read (error texts, Slack's JSON answers).
const MAX_ANSWER: u64 = 1024 * 1024;

/// An agent for requests of at most `timeout` in all; TLS when `tls`, trusting the
/// system's certificates and those of `ca_file`.
pub fn agent(timeout: Duration, tls: bool, ca_file: Option<&Path>) -> Result<ureq::Agent, String> {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(format!("reportctl/{}", env!("CARGO_PKG_VERSION")));
    if tls {
        config = config.tls_config(tls_config(ca_file)?);
    }
    Ok(config.build().into())
}

/// rustls with ring (the binary's one TLS stack), verifying the server against the
/// system's trusted certificates and `ca_file`'s.
fn tls_config(ca_file: Option<&Path>) -> Result<ureq::tls::TlsConfig, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots: Vec<_> = found
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(ca) = ca_file {
        let pem =
            std::fs::read(ca).map_err(|e| format!("reading ca_file {}: {e}", ca.display()))?;
        let cert = ureq::tls::Certificate::from_pem(&pem)
            .map_err(|e| format!("ca_file {} holds no PEM certificate: {e}", ca.display()))?;
        roots.push(cert.to_owned());
    }
    if roots.is_empty() {
        return Err("no trusted certificates found on this system for https".into());
    }
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build())
}

/// The agent for `url` with a destination's options.
pub fn agent_for(url: &url::Url, http: &crate::config::HttpOptions) -> Result<ureq::Agent> {
    agent(
        http.timeout,
        url.scheme() == "https",
        http.ca_file.as_deref(),
    )
    .map_err(|e| anyhow!(e))
}

/// The URL as messages show it when its path is a key: `https://hc-ping.com/[redacted]`.
pub fn shown(url: &url::Url) -> String {
    format!("{}/{}", origin(url), redact::REPLACEMENT)
}

/// The URL as messages show it when only its query may hold a key:
/// `https://hooks.example.com/reportctl` (no query, no fragment).
pub fn shown_path(url: &url::Url) -> String {
    format!("{}{}", origin(url), url.path())
}

fn origin(url: &url::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = url.host_str().unwrap_or_default();
    format!("{}://{host}{port}", url.scheme())
}

/// Shorter text is not taken for a key (redacting it would garble every message).
const MIN_KEY: usize = 8;

/// The path and query (where keys are) never show in captured text: whole, and each
/// long path segment and query value on its own.
pub fn hide_path(url: &url::Url) {
    let path = url.path().trim_start_matches('/');
    let segments = path.split('/').filter(|s| s.len() >= 2 * MIN_KEY);
    hide_parts([path].into_iter().chain(segments));
    hide_query(url);
}

/// The query and each of its values never show in captured text.
pub fn hide_query(url: &url::Url) {
    let values: Vec<String> = url.query_pairs().map(|(_, v)| v.into_owned()).collect();
    hide_parts(
        url.query()
            .into_iter()
            .chain(values.iter().map(String::as_str)),
    );
}

fn hide_parts<'a>(parts: impl Iterator<Item = &'a str>) {
    for part in parts.filter(|p| p.len() >= MIN_KEY) {
        redact::remember(part);
    }
}

/// A server's answer that was a success (2xx).
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sorts the outcome of a request to `shown`: 2xx is an [`Answer`]; network failures,
/// timeouts, 408, 5xx and 429 are transient ([`RetryAfter`] when the server said how
/// long to wait, within [`RETRY_AFTER_CAP`]); anything else is permanent, with the
/// first line of the answer (secrets redacted).
pub fn answer(shown: &str, sent: Result<Response<Body>, ureq::Error>) -> Result<Answer> {
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => return Err(failed(shown, e)),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()
        .unwrap_or_default();
    if (200..300).contains(&status) {
        return Ok(Answer { status, body });
    }
    let first = redact::text(body.lines().find(|l| !l.trim().is_empty()).unwrap_or(""));
    let said = if first.is_empty() {
        format!("{shown} answered {status}")
    } else {
        format!("{shown} answered {status}: {}", first.trim())
    };
    Err(match (status, retry_after) {
        (429 | 503, Some(wait)) if wait > RETRY_AFTER_CAP => anyhow!(
            "{said}; it asks to wait {} s (Retry-After), longer than the {} s a run waits: a later run-due tries again",
            wait.as_secs(),
            RETRY_AFTER_CAP.as_secs()
        ),
        (429 | 503, Some(wait)) => anyhow::Error::new(RetryAfter {
            message: said,
            wait,
        }),
        (408 | 429 | 500..=599, _) => anyhow::Error::new(Transient(said)),
        (300..=399, _) => anyhow!(
            "{said}, a redirect{}; set the URL to where it leads (redirects are not followed)",
            location.map_or_else(String::new, |l| format!(
                " to {}",
                url::Url::parse(&l).map_or_else(|_| "elsewhere".into(), |u| shown_path(&u))
            ))
        ),
        _ => anyhow!("{said}"),
    })
}

const TLS_HINT: &str =
    "check that the server's certificate is trusted (set `ca_file` to the CA that signed it)";

/// A request that got no answer: the network (transient) or TLS (permanent, with what
/// to check).
fn failed(shown: &str, e: ureq::Error) -> anyhow::Error {
    use ureq::Error::*;
    let text = redact::text(&e.to_string());
    // rustls reports a refused certificate as an I/O error wrapping its own.
    let tls_io = matches!(&e, Io(io) if io.kind() == std::io::ErrorKind::InvalidData
        || io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()));
    match e {
        _ if tls_io => anyhow!("{shown}: {text}; {TLS_HINT}"),
        Timeout(_) | Io(_) | ConnectionFailed | HostNotFound => {
            anyhow::Error::new(Transient(format!("{shown}: {text}")))
        }
        Tls(_) | Rustls(_) => anyhow!("{shown}: {text}; {TLS_HINT}"),
        _ => anyhow!("{shown}: {text}"),
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - crate::clock::wall()).num_seconds();
    Some(Duration::from_secs(secs.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hide_the_path() {
        let u = url::Url::parse("https://hc-ping.com/0f3a-secret/daily?x=1").unwrap();
        assert_eq!(shown(&u), "https://hc-ping.com/[redacted]");
        assert_eq!(shown_path(&u), "https://hc-ping.com/0f3a-secret/daily");
        let u = url::Url::parse("http://127.0.0.1:8000/key").unwrap();
        assert_eq!(shown(&u), "http://127.0.0.1:8000/[redacted]");
    }

    #[test]
    fn short_paths_are_not_taken_for_keys() {
        hide_path(&url::Url::parse("http://h/k").unwrap());
        hide_path(&url::Url::parse("http://h/ping/0123456789abcdef01").unwrap());
        assert_eq!(redact::text("keep k"), "keep k");
        assert_eq!(redact::text("key 0123456789abcdef01"), "key [redacted]");
        hide_query(&url::Url::parse("https://h/p?sig=unit-http-query-sig&x=1").unwrap());
        assert_eq!(redact::text("s unit-http-query-sig"), "s [redacted]");
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
