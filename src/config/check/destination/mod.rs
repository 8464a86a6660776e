//! Checking `[[destinations]]`: one file per kind.

mod directory;
mod email;
mod http;
mod pickup;
mod s3;
mod sftp;
mod slack;
mod teams;
mod webhook;

pub use http::check_endpoint_url;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::config::diag::Subject;
use crate::config::model::*;
use crate::config::{RawDestination, RawReportParts};

use super::Checker;

impl Checker<'_> {
    pub(crate) fn destination(
        &mut self,
        raw: RawDestination,
        s: &Subject,
        span: Range<usize>,
        settings: &Settings,
    ) -> Option<DestinationKind> {
        let before = self.errors.len();
        let kind = match raw {
            RawDestination::Directory(r) => self.directory_dest(&r, s, &span),
            RawDestination::Email(r) => self.email_dest(&r, s, &span, settings),
            RawDestination::Sftp(r) => self.sftp_dest(&r, s, &span),
            RawDestination::Pickup(r) => self.pickup_dest(&r, s),
            RawDestination::S3(r) => self.s3_dest(&r, s, &span),
            RawDestination::Webhook(r) => self.webhook_dest(&r, s, &span),
            RawDestination::Slack(r) => self.slack_dest(&r, s, &span),
            RawDestination::Teams(r) => self.teams_dest(&r, s, &span),
        };
        (self.errors.len() == before).then_some(kind)
    }

    /// A Slack destination with `mode = "links"` posts the download links of an S3
    /// destination of the same report: a report without one is refused.
    pub(crate) fn link_rules(
        &mut self,
        reports: &[RawReportParts],
        destinations: &BTreeMap<String, Destination>,
    ) {
        for p in reports {
            let Some(list) = p.report.as_ref().and_then(|r| r.destinations.as_ref()) else {
                continue;
            };
            let named: Vec<_> = list
                .get_ref()
                .iter()
                .filter_map(|d| destinations.get(d.get_ref()).map(|x| (d, x)))
                .collect();
            if named
                .iter()
                .any(|(_, x)| matches!(x.kind, DestinationKind::S3(_)))
            {
                continue;
            }
            for (d, x) in named {
                if let DestinationKind::Slack(SlackDest {
                    mode: SlackMode::Links,
                    ..
                }) = &x.kind
                {
                    let msg = format!(
                        "slack destination \"{}\" posts download links (mode = \"links\"), which come from an s3 destination of the same report, and this report has none; add one to `destinations`, or use mode = \"files\"",
                        x.name
                    );
                    self.err(d.span(), &p.subject, "destinations", msg);
                }
            }
        }
    }
}
