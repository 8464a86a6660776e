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

use std::ops::Range;

use crate::config::diag::Subject;
use crate::config::model::*;
use crate::config::RawDestination;

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
}
