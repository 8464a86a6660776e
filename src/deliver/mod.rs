//! Delivery: putting a run's finished files where a destination says, one destination
//! at a time, each with its own receipt in the ledger. A destination receives all the
//! files of a run together (an email carries them all).

pub mod directory;
pub mod pickup;

use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::config::{Config, Destination, DestinationKind, Report};
use crate::ledger::{FileRecord, Link};
use crate::schedule::Window;

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
    /// Download links other destinations of this run made (S3), for mails too large to
    /// carry their attachments.
    pub links: &'a [Link],
}

/// A successful delivery: a short description, and links when the destination gives
/// download links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub detail: String,
    pub links: Vec<Link>,
}

/// Delivers the run's files to `dest`.
pub fn deliver(dest: &Destination, d: &Delivery<'_>) -> Result<Delivered> {
    match &dest.kind {
        DestinationKind::Directory(dir) => directory::deliver(dir, d),
        DestinationKind::Pickup(p) => pickup::deliver(p, d),
        other => anyhow::bail!(
            "{} destinations are not supported by this build",
            other.kind_name()
        ),
    }
}

/// The order destinations are delivered in: mail last, so that it can carry the links
/// other destinations made.
pub fn order<'c>(config: &'c Config, report: &Report) -> Vec<&'c Destination> {
    let mut list: Vec<&Destination> = report
        .destinations
        .iter()
        .map(|n| &config.destinations[n])
        .collect();
    list.sort_by_key(|d| matches!(d.kind, DestinationKind::Email(_)));
    list
}
