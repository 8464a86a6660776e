//! The Slack destination, through Slack's Web API with a bot token:
//!
//! - `mode = "files"` (the default): each file through the current upload flow —
//!   `files.getUploadURLExternal` (`filename`, `length`) gives `upload_url` and
//!   `file_id`; the bytes are POSTed to `upload_url`; then one
//!   `files.completeUploadExternal` (`files` = `[{id, title}]`, `channel_id`,
//!   `initial_comment` = the run's summary) shares them all in the channel.
//! - `mode = "links"`: one `chat.postMessage` with the summary and the download links
//!   of the run's S3 destination.
//!
//! Slack answers HTTP 200 with `"ok": true`, or `"ok": false` and an `error` code:
//! the codes a person can act on are explained (`not_in_channel`: invite the app);
//! `ratelimited`, HTTP 429 (with `Retry-After`) and Slack's own failures are tried
//! again.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use super::{chat, http, Delivered, Delivery, Transient};
use crate::config::secret::SecretValue;
use crate::config::{SlackDest, SlackMode};

pub fn deliver(dest: &SlackDest, d: &Delivery<'_>) -> Result<Delivered> {
    let token = dest
        .token
        .resolve()
        .map_err(|e| anyhow!("the Slack bot token: {e}"))?;
    let api = Api {
        dest,
        token: &token,
        agent: http::agent_for(&url::Url::parse(&dest.api_url)?, &dest.http)?,
    };
    let detail = match dest.mode {
        SlackMode::Files => upload(&api, d)?,
        SlackMode::Links => post_links(&api, d)?,
    };
    Ok(Delivered {
        detail,
        links: Vec::new(),
    })
}

struct Api<'a> {
    dest: &'a SlackDest,
    token: &'a SecretValue,
    agent: ureq::Agent,
}

impl Api<'_> {
    /// Calls `method` with a form body; the answer's JSON when `ok` is true.
    fn form(&self, method: &str, fields: &[(&str, &str)]) -> Result<Value> {
        let sent = self
            .agent
            .post(format!("{}/{method}", self.dest.api_url))
            .header("Authorization", format!("Bearer {}", self.token.expose()))
            .send_form(fields.iter().copied());
        self.ok(method, sent)
    }

    /// Calls `method` with a JSON body.
    fn json(&self, method: &str, body: &Value) -> Result<Value> {
        let sent = self
            .agent
            .post(format!("{}/{method}", self.dest.api_url))
            .header("Authorization", format!("Bearer {}", self.token.expose()))
            .header("Content-Type", "application/json; charset=utf-8")
            .send(body.to_string().as_str());
        self.ok(method, sent)
    }

    fn ok(
        &self,
        method: &str,
        sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value> {
        let answer = http::answer(&format!("Slack {method}"), sent)?;
        let v: Value = serde_json::from_str(&answer.body)
            .map_err(|e| anyhow!("Slack {method}: the answer is not JSON: {e}"))?;
        if v["ok"] == Value::Bool(true) {
            return Ok(v);
        }
        let code = v["error"].as_str().unwrap_or("(no error code)");
        Err(explain(method, code, &self.dest.channel))
    }
}

/// Slack's error code as a message that says what to do; transient where waiting helps.
fn explain(method: &str, code: &str, channel: &str) -> anyhow::Error {
    let code = crate::redact::text(code);
    let said = format!("Slack {method}: {code}");
    let hint = match code.as_str() {
        "ratelimited" | "internal_error" | "fatal_error" | "service_unavailable"
        | "request_timeout" => return anyhow::Error::new(Transient(said)),
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" => {
            "Slack refused the bot token: check `token` (a bot token, xoxb-…, of an installed app)".to_string()
        }
        "not_in_channel" => format!(
            "the app is not in channel {channel}: invite the app to the channel (in the channel: /invite @the-app)"
        ),
        "channel_not_found" => format!(
            "there is no channel {channel} the app can see: check `channel` (the channel's ID, e.g. C0123456789, not its name)"
        ),
        "missing_scope" => "the app lacks a permission: give it the files:write scope (and chat:write for mode = \"links\") and reinstall it".to_string(),
        "is_archived" => format!("channel {channel} is archived"),
        _ => return anyhow!("{said}"),
    };
    anyhow!("{said}: {hint}")
}

/// The upload flow: one upload URL per file, then one completion to the channel. The
/// bytes are streamed from the spool.
fn upload(api: &Api<'_>, d: &Delivery<'_>) -> Result<String> {
    let mut uploaded = Vec::new();
    for f in d.files {
        let path = d.spool.join(&f.name);
        let file =
            std::fs::File::open(&path).with_context(|| format!("reading {}", path.display()))?;
        let length = file.metadata()?.len().to_string();
        let got = api.form(
            "files.getUploadURLExternal",
            &[("filename", f.name.as_str()), ("length", length.as_str())],
        )?;
        let (Some(upload_url), Some(file_id)) =
            (got["upload_url"].as_str(), got["file_id"].as_str())
        else {
            bail!("Slack files.getUploadURLExternal: the answer has no upload_url or file_id");
        };
        let target = url::Url::parse(upload_url)
            .map_err(|e| anyhow!("Slack gave an upload URL that is not a URL: {e}"))?;
        http::hide_path(&target);
        let sent = api
            .agent
            .post(upload_url)
            .header("Content-Type", "application/octet-stream")
            .send(file);
        http::answer(
            &format!("uploading {} to {}", f.name, http::shown(&target)),
            sent,
        )?;
        uploaded.push(json!({"id": file_id, "title": f.name}));
    }
    let files = Value::Array(uploaded).to_string();
    api.form(
        "files.completeUploadExternal",
        &[
            ("files", files.as_str()),
            ("channel_id", api.dest.channel.as_str()),
            ("initial_comment", chat::summary(d).as_str()),
        ],
    )?;
    Ok(format!(
        "{} uploaded to Slack channel {}",
        crate::ui::count(d.files.len() as u64, "file", "files"),
        api.dest.channel
    ))
}

/// A message with the summary and a download link per file.
fn post_links(api: &Api<'_>, d: &Delivery<'_>) -> Result<String> {
    let links = chat::links(d)?;
    if links.is_empty() {
        bail!(
            "no S3 destination of report \"{}\" has uploaded the files, so there are no download links to post; add an s3 destination to the report's destinations",
            d.report.name
        );
    }
    let mut text = chat::summary(d);
    for l in &links {
        text.push_str(&format!(
            "\n<{}|{}> (until {})",
            l.url,
            l.file,
            l.expires.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    api.json(
        "chat.postMessage",
        &json!({"channel": api.dest.channel, "text": text, "unfurl_links": false}),
    )?;
    Ok(format!(
        "message with {} to Slack channel {}",
        crate::ui::count(links.len() as u64, "link", "links"),
        api.dest.channel
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_say_what_to_do_and_which_are_transient() {
        let e = explain("chat.postMessage", "not_in_channel", "C1");
        assert_eq!(
            e.to_string(),
            "Slack chat.postMessage: not_in_channel: the app is not in channel C1: invite the app to the channel (in the channel: /invite @the-app)"
        );
        assert!(!super::super::is_transient(&e));
        assert!(super::super::is_transient(&explain(
            "x",
            "ratelimited",
            "C1"
        )));
        assert!(super::super::is_transient(&explain(
            "x",
            "internal_error",
            "C1"
        )));
        let other = explain("x", "something_new", "C1");
        assert_eq!(other.to_string(), "Slack x: something_new");
        assert!(!super::super::is_transient(&other));
    }
}
