//! What the HTTP destinations (webhook, slack, teams) share: the URL rule and the
//! connection options.

use toml::Spanned;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::Int;

/// An endpoint URL as HTTP destinations accept it: `https://`, or `http://` to a
/// loopback host only (a test receiver on the same machine), with a host and no user
/// or password. Also applied when a URL is read from a secret at delivery.
pub fn check_endpoint_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::config::check::smtp::is_loopback(host) => {}
        "http" => {
            return Err(
                "plain http:// is allowed to a loopback host only (127.0.0.1, ::1, localhost); use https://"
                    .into(),
            )
        }
        other => return Err(format!("expected an https:// URL, not {other}://")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL holds a user or password; give credentials as a secret".into());
    }
    Ok(url)
}

impl Checker<'_> {
    /// `timeout_seconds` and `ca_file`.
    pub(super) fn http_options(
        &mut self,
        timeout: &Option<Spanned<Int>>,
        ca_file: &Option<Spanned<String>>,
        s: &Subject,
    ) -> HttpOptions {
        HttpOptions {
            timeout: self.duration(timeout, s, "timeout_seconds", limits::HTTP_TIMEOUT),
            ca_file: ca_file
                .as_ref()
                .map(|c| self.existing_path(c, s, "ca_file")),
        }
    }

    /// A URL written in the configuration, checked by [`check_endpoint_url`].
    pub(super) fn endpoint_url(
        &mut self,
        v: &Option<Spanned<String>>,
        s: &Subject,
        key: &str,
        table: &std::ops::Range<usize>,
        what: &str,
    ) -> Option<String> {
        let url = self.required(v, s, key, table, what)?;
        match check_endpoint_url(&url) {
            Ok(_) => Some(url.trim_end_matches('/').to_string()),
            Err(e) => {
                let span = v.as_ref().map_or(table.clone(), Spanned::span);
                self.err(span, s, key, e);
                None
            }
        }
    }
}
