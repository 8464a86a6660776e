//! The webhook destination: one HTTPS POST per run of a JSON body that tells of the
//! run (report, token, window, files with rows, bytes and SHA-256, download links when
//! an S3 destination of the run has them), signed like Stripe's webhooks:
//!
//! - `Reportctl-Signature: t=UNIX,v1=HEX`, HEX = HMAC-SHA256(secret, "{t}.{json}");
//! - `Idempotency-Key`: the same for every attempt of the run at this destination, on
//!   any host, so that a receiver can drop a delivery it has already taken.
//!
//! With `attach_files = true` the body is multipart/form-data: the JSON first (part
//! `payload`, the signed text), then each file (part `file`, with its file name).
//! Statuses are sorted by `http::answer` (5xx, 408, 429 and network trouble are tried
//! again; other 4xx are not).

use anyhow::{anyhow, bail, Result};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use ureq::unversioned::multipart::{Form, Part};

use super::{chat, http, Delivered, Delivery};
use crate::config::{Destination, WebhookDest};
use crate::ledger::Link;
use crate::render::naming::content_type;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "Reportctl-Signature";

pub fn deliver(dest: &WebhookDest, named: &Destination, d: &Delivery<'_>) -> Result<Delivered> {
    let url = url::Url::parse(&dest.url)?;
    http::hide_query(&url);
    let shown = http::shown_path(&url);
    let links = chat::links(d)?;
    let body = payload(&named.name, d, &links, dest.attach_files).to_string();
    let secret = dest
        .secret
        .resolve()
        .map_err(|e| anyhow!("the webhook's signing secret: {e}"))?;
    let t = crate::clock::wall().timestamp();
    let agent = http::agent_for(&url, &dest.http)?;
    let request = agent
        .post(url.as_str())
        .header(SIGNATURE_HEADER, signature(secret.expose(), t, &body))
        .header("Idempotency-Key", idempotency_key(d.token, &named.name));
    let sent = if dest.attach_files {
        check_upload_size(dest, d)?;
        let mut form = Form::new().part("payload", Part::text(&body).mime_str("application/json")?);
        for f in d.files {
            let path = d.spool.join(&f.name);
            let part = Part::file(&path)
                .map_err(|e| anyhow!("reading {}: {e}", path.display()))?
                .file_name(&f.name)
                .mime_str(content_type(&f.name))?;
            form = form.part("file", part);
        }
        request.send(form)
    } else {
        request
            .header("Content-Type", "application/json")
            .send(body.as_str())
    };
    let answer = http::answer(&format!("POST {shown}"), sent)?;
    let files = crate::ui::count(d.files.len() as u64, "file", "files");
    let what = if dest.attach_files {
        format!("{files} uploaded")
    } else if links.is_empty() {
        format!("{files} described")
    } else {
        format!("{files} linked")
    };
    Ok(Delivered {
        detail: format!("POST {shown} → {}, {what}", answer.status),
        links: Vec::new(),
    })
}

/// The JSON body (docs/delivery.md shows an example).
fn payload(
    destination: &str,
    d: &Delivery<'_>,
    links: &[Link],
    attached: bool,
) -> serde_json::Value {
    let utc =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let files: Vec<_> = d
        .files
        .iter()
        .map(|f| {
            json!({"name": f.name, "type": f.kind, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256})
        })
        .collect();
    json!({
        "event": "run.delivered",
        "report": d.report.name,
        "token": d.token,
        "destination": destination,
        "test": d.test,
        "run_at": utc(d.run_at),
        "window": {
            "from": utc(d.window.from.to_utc()),
            "to": utc(d.window.to.to_utc()),
            "timezone": d.report.timezone.name(),
        },
        "rows": d.files.iter().map(|f| f.rows).sum::<u64>(),
        "files": files,
        "attached": attached,
        "links": links,
        "summary": chat::summary(d),
    })
}

/// `t=UNIX,v1=HEX` with HEX = HMAC-SHA256(secret, "{t}.{body}").
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The first 32 hex digits of SHA-256("{token}/{destination}"): the same for every
/// attempt of a run at a destination, from any host.
pub fn idempotency_key(token: &str, destination: &str) -> String {
    let digest = Sha256::digest(format!("{token}/{destination}").as_bytes());
    hex::encode(digest)[..32].to_string()
}

fn check_upload_size(dest: &WebhookDest, d: &Delivery<'_>) -> Result<()> {
    let total: u64 = d.files.iter().map(|f| f.bytes).sum();
    if total > dest.max_upload_bytes {
        bail!(
            "the files total {}, above max_upload_mb ({}); raise max_upload_mb, or set attach_files = false and add an s3 destination to the report so that the body carries download links",
            super::human_bytes(total),
            super::human_bytes(dest.max_upload_bytes)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_stripe_like() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec
        assert_eq!(
            signature("whsec", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
        );
    }

    #[test]
    fn idempotency_keys_are_stable_and_per_destination() {
        // echo -n Tok123/hook | sha256sum
        assert_eq!(
            idempotency_key("Tok123", "hook"),
            "03a09769de9ccb116181df4d99b7d196"
        );
        let a = idempotency_key("5760b598a08f93b5", "hook");
        assert_eq!(a, idempotency_key("5760b598a08f93b5", "hook"));
        assert_ne!(a, idempotency_key("5760b598a08f93b5", "other"));
    }
}
