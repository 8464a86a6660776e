//! Checking a `kind = "webhook"` destination: the URL, the signing secret and uploads.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawWebhookDest;
use crate::config::secret::Secret;

impl Checker<'_> {
    pub(super) fn webhook_dest(
        &mut self,
        r: &RawWebhookDest,
        s: &Subject,
        span: &Range<usize>,
    ) -> DestinationKind {
        let url = self.endpoint_url(&r.url, s, "url", span, "the https:// URL to POST to");
        let secret = self.required_secret(
            &r.secret,
            s,
            "secret",
            span,
            "the key the Reportctl-Signature header is made with",
        );
        let attach_files = r.attach_files.as_ref().is_some_and(|v| *v.get_ref());
        let max_mb = self.limit(
            &r.max_upload_mb,
            s,
            "max_upload_mb",
            limits::WEBHOOK_MAX_UPLOAD_MB,
        ) as u64;
        if let (Some(v), false) = (&r.max_upload_mb, attach_files) {
            self.err(
                v.span(),
                s,
                "max_upload_mb",
                "goes with attach_files = true",
            );
        }
        let http = self.http_options(&r.timeout_seconds, &r.ca_file, s);
        DestinationKind::Webhook(WebhookDest {
            url: url.unwrap_or_default(),
            secret: secret.unwrap_or(Secret::Plain(String::new())),
            attach_files,
            max_upload_bytes: max_mb * 1024 * 1024,
            http,
        })
    }
}
