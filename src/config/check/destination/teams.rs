//! Checking a `kind = "teams"` destination: the Workflows webhook URL, a secret.

use std::ops::Range;

use super::http::check_endpoint_url;
use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::model::*;
use crate::config::raw::RawTeamsDest;
use crate::config::secret::Secret;

impl Checker<'_> {
    pub(super) fn teams_dest(
        &mut self,
        r: &RawTeamsDest,
        s: &Subject,
        span: &Range<usize>,
    ) -> DestinationKind {
        let url = self.required_secret(
            &r.url,
            s,
            "url",
            span,
            "the Workflows webhook URL (whoever has it can post, so it is a secret)",
        );
        // The URL itself is known only when the secret is read: `validate` checks it.
        if let (true, Some(u), Some(v)) = (self.preflight, &url, &r.url) {
            if let Ok(value) = u.resolve() {
                if let Err(e) = check_endpoint_url(value.expose()) {
                    self.err(v.span(), s, "url", e);
                }
            }
        }
        let http = self.http_options(&r.timeout_seconds, &r.ca_file, s);
        DestinationKind::Teams(TeamsDest {
            url: url.unwrap_or(Secret::Plain(String::new())),
            http,
        })
    }
}
