//! Delivery: putting a run's finished files where a destination says, one destination
//! at a time, each with its own receipt in the ledger. A destination receives all the
//! files of a run together (an email carries them all).
//!
//! A delivery that fails for a transient reason (connection refused or reset, a
//! timeout, an SMTP 4xx, an S3 5xx or throttling, an HTTP 5xx or 429) is tried again
//! within the run, after `delivery_backoff_seconds`, doubling (or as long as an HTTP
//! `Retry-After` says, up to 120 s), up to `delivery_retries` times. A permanent
//! failure (refused credentials, an unknown host key, a missing bucket) is not: it is
//! recorded at once, and `run-due` tries again later from the spooled files.

pub mod chat;
pub mod directory;
pub mod email;
mod email_html;
pub mod http;
pub mod known_hosts;
pub mod pickup;
pub mod s3;
pub mod sftp;
pub mod slack;
pub mod smtp;
pub mod teams;
pub mod webhook;

use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::config::{Config, Destination, DestinationKind, Report};
use crate::ledger::{FileRecord, Link};
use crate::schedule::Window;

/// Ends the connections kept for reuse (SMTP, SFTP): at the end of a command.
pub fn close_connections() {
    smtp::close();
    sftp::close();
}

/// What a destination needs to know about the run it delivers.
pub struct Delivery<'a> {
    pub config: &'a Config,
    pub report: &'a Report,
    pub token: &'a str,
    pub window: &'a Window,
    pub run_at: DateTime<Utc>,
    /// The run's spool directory, holding `files`.
    pub spool: &'a Path,
    pub files: &'a [FileRecord],
    /// The destinations of this run that have the files already (in this attempt or an
    /// earlier one): a mail too large for its attachments links to an S3 one of them.
    pub delivered: &'a [String],
    /// A `send-test` run: mail subjects start with `[TEST] `.
    pub test: bool,
}

/// A successful delivery: a short description, and links when the destination gives
/// download links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub detail: String,
    pub links: Vec<Link>,
}

/// A failure worth trying again soon: the network, or a server that said "later".
/// Destination modules put it at the root of an error's chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Transient(pub String);

/// A transient failure whose server said how long to wait (HTTP `Retry-After`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RetryAfter {
    pub message: String,
    pub wait: std::time::Duration,
}

/// Whether `err` is worth trying again within the run.
pub fn is_transient(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::*;
    err.chain().any(|c| {
        c.is::<Transient>()
            || c.is::<RetryAfter>()
            || c.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    ConnectionRefused
                        | ConnectionReset
                        | ConnectionAborted
                        | NotConnected
                        | BrokenPipe
                        | TimedOut
                        | UnexpectedEof
                        | HostUnreachable
                        | NetworkUnreachable
                        | NetworkDown
                )
            })
    })
}

/// Delivers the run's files to `dest`, trying again within the run after transient
/// failures.
pub fn deliver(dest: &Destination, d: &Delivery<'_>) -> Result<Delivered> {
    let settings = &d.config.settings;
    let mut retries = 0;
    loop {
        let started = std::time::Instant::now();
        match deliver_once(dest, d) {
            Ok(done) => {
                let secs = started.elapsed().as_secs_f64();
                let bytes: u64 = d.files.iter().map(|f| f.bytes).sum();
                crate::ui::info(format!(
                    "{} \"{}\": {}: {} in {secs:.3} s ({}/s)",
                    dest.kind.kind_name(),
                    dest.name,
                    done.detail,
                    human_bytes(bytes),
                    human_bytes((bytes as f64 / secs.max(1e-6)) as u64)
                ));
                return Ok(done);
            }
            Err(e) if retries < settings.delivery_retries && is_transient(&e) => {
                let asked = e.chain().find_map(|c| c.downcast_ref::<RetryAfter>());
                let backoff = settings.delivery_backoff * 2u32.saturating_pow(retries);
                let wait = asked.map_or(backoff, |r| r.wait.max(backoff));
                retries += 1;
                crate::ui::info(format!(
                    "{} \"{}\": {e:#}; trying again in {} s (retry {retries} of {})",
                    dest.kind.kind_name(),
                    dest.name,
                    wait.as_secs_f64().ceil(),
                    settings.delivery_retries
                ));
                std::thread::sleep(wait);
            }
            Err(e) if retries > 0 => {
                return Err(e.context(format!("{} attempts in this run", retries + 1)))
            }
            other => return other,
        }
    }
}

fn deliver_once(dest: &Destination, d: &Delivery<'_>) -> Result<Delivered> {
    match &dest.kind {
        DestinationKind::Directory(dir) => directory::deliver(dir, d),
        DestinationKind::Email(mail) => email::deliver(mail, d),
        DestinationKind::Sftp(sftp) => sftp::deliver(sftp, d),
        DestinationKind::S3(bucket) => s3::deliver(bucket, d),
        DestinationKind::Pickup(p) => pickup::deliver(p, d),
        DestinationKind::Webhook(w) => webhook::deliver(w, dest, d),
        DestinationKind::Slack(sl) => slack::deliver(sl, d),
        DestinationKind::Teams(t) => teams::deliver(t, d),
    }
}

/// The order destinations are delivered in: mail, webhook, Slack and Teams last, so
/// that they can carry the links other destinations made.
pub fn order<'c>(config: &'c Config, report: &Report) -> Vec<&'c Destination> {
    let mut list: Vec<&Destination> = report
        .destinations
        .iter()
        .map(|n| &config.destinations[n])
        .collect();
    list.sort_by_key(|d| d.kind.tells());
    list
}

/// Download links for `files`, valid from now: presigned (a local computation) by the
/// first S3 destination of the report among `delivered`. A retry may come long after
/// the upload, so links recorded then may have expired; these never have. Empty when
/// no S3 destination has the files.
pub fn download_links(
    config: &Config,
    report: &Report,
    delivered: &[String],
    files: &[FileRecord],
) -> Result<Vec<Link>> {
    let bucket = report
        .destinations
        .iter()
        .filter(|n| delivered.contains(n))
        .find_map(|n| match &config.destinations[n].kind {
            DestinationKind::S3(b) => Some((n, b)),
            _ => None,
        });
    match bucket {
        Some((name, b)) => s3::presign(b, files)
            .map_err(|e| e.context(format!("making download links with s3 \"{name}\""))),
        None => Ok(Vec::new()),
    }
}

/// A byte count for people: `812 bytes`, `3.4 MB`.
pub fn human_bytes(n: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    match n {
        n if n < 1024 => crate::ui::count(n, "byte", "bytes"),
        n if (n as f64) < MB => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / MB),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors() {
        let refused =
            anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
                .context("connecting");
        assert!(is_transient(&refused));
        let marked = anyhow::Error::from(Transient("450 mailbox busy".into())).context("sending");
        assert!(is_transient(&marked));
        let denied = anyhow::anyhow!("535 authentication failed").context("sending");
        assert!(!is_transient(&denied));
        let missing =
            anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound)).context("x");
        assert!(!is_transient(&missing));
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(812), "812 bytes");
        assert_eq!(human_bytes(2048), "2.0 KB");
        assert_eq!(human_bytes(15 * 1024 * 1024), "15.0 MB");
    }
}
