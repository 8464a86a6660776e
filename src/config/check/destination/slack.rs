//! Checking a `kind = "slack"` destination: the bot token, the channel and the mode.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawSlackDest;
use crate::config::secret::Secret;

impl Checker<'_> {
    pub(super) fn slack_dest(
        &mut self,
        r: &RawSlackDest,
        s: &Subject,
        span: &Range<usize>,
    ) -> DestinationKind {
        let token = self.required_secret(&r.token, s, "token", span, "the app's bot token");
        let channel = self.required(
            &r.channel,
            s,
            "channel",
            span,
            "the channel's ID, e.g. C0123456789 (in Slack: the channel's details, at the bottom)",
        );
        if let (Some(c), Some(v)) = (&channel, &r.channel) {
            if !c.chars().all(|c| c.is_ascii_alphanumeric()) {
                self.err(
                    v.span(),
                    s,
                    "channel",
                    "a channel ID is letters and digits, e.g. C0123456789, not a #name",
                );
            }
        }
        let mode = self.word(
            &r.mode,
            s,
            "mode",
            &[("files", SlackMode::Files), ("links", SlackMode::Links)],
            SlackMode::Files,
        );
        let api_url = match &r.api_url {
            None => Some(limits::DEFAULT_SLACK_API.to_string()),
            Some(_) => self.endpoint_url(&r.api_url, s, "api_url", span, "Slack's Web API URL"),
        };
        let http = self.http_options(&r.timeout_seconds, &r.ca_file, s);
        DestinationKind::Slack(SlackDest {
            token: token.unwrap_or(Secret::Plain(String::new())),
            channel: channel.unwrap_or_default(),
            mode,
            api_url: api_url.unwrap_or_default(),
            http,
        })
    }
}
