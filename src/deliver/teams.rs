//! The Microsoft Teams destination: a POST to a Workflows webhook ("Post to a channel
//! when a webhook request is received") of the message envelope Workflows expects,
//! holding an Adaptive Card 1.4 with the run's summary, its files with their rows, and
//! a download button (Action.OpenUrl) per file when an S3 destination of the run has
//! them. Teams takes messages of about 28 KB at most: past [`MAX_BYTES`] the file list
//! is cut and ends with "and N more" rather than the delivery failing.
//!
//! The URL is a secret (whoever has it can post): messages show its scheme and host
//! only, and its path and query are redacted from captured text.

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use super::{chat, http, Delivered, Delivery};
use crate::config::check::check_endpoint_url;
use crate::config::TeamsDest;
use crate::ledger::{FileRecord, Link};

/// The largest body sent: under Teams' documented limit of about 28 KB, with room
/// for what Workflows adds.
pub const MAX_BYTES: usize = 27 * 1024;

pub fn deliver(dest: &TeamsDest, d: &Delivery<'_>) -> Result<Delivered> {
    let secret = dest
        .url
        .resolve()
        .map_err(|e| anyhow!("the Teams webhook URL: {e}"))?;
    let url = check_endpoint_url(secret.expose())
        .map_err(|e| anyhow!("the Teams webhook URL (from {}): {e}", dest.url.describe()))?;
    http::hide_path(&url);
    let shown = http::shown(&url);
    let links = chat::links(d)?;
    let (body, shown_files) = fitted(d, &links);
    let agent = http::agent_for(&url, &dest.http)?;
    let sent = agent
        .post(url.as_str())
        .header("Content-Type", "application/json")
        .send(body.as_str());
    let answer = http::answer(&format!("POST {shown}"), sent)?;
    let mut detail = format!(
        "POST {shown} → {}, a card with {}",
        answer.status,
        crate::ui::count(d.files.len() as u64, "file", "files")
    );
    if shown_files < d.files.len() {
        detail.push_str(&format!(" ({shown_files} listed)"));
    }
    Ok(Delivered {
        detail,
        links: Vec::new(),
    })
}

/// The message as JSON text within [`MAX_BYTES`], and how many files it lists.
fn fitted(d: &Delivery<'_>, links: &[Link]) -> (String, usize) {
    let mut n = d.files.len();
    loop {
        let text = message(d, links, n).to_string();
        if text.len() <= MAX_BYTES || n == 0 {
            return (text, n);
        }
        // Shrink in proportion, at least by one file.
        let keep = (n * MAX_BYTES / text.len()).min(n - 1);
        n = keep;
    }
}

/// The Workflows envelope around the card, listing the first `n` files.
pub fn message(d: &Delivery<'_>, links: &[Link], n: usize) -> Value {
    let mut facts: Vec<Value> = d.files[..n].iter().map(fact).collect();
    let rest = d.files.len() - n;
    if rest > 0 {
        facts.push(json!({"title": "…", "value": format!("and {rest} more")}));
    }
    let actions: Vec<Value> = d.files[..n]
        .iter()
        .filter_map(|f| links.iter().find(|l| l.file == f.name))
        .map(|l| json!({"type": "Action.OpenUrl", "title": format!("Download {}", l.file), "url": l.url}))
        .collect();
    let title = format!(
        "{}{}",
        if d.test { chat::TEST_PREFIX } else { "" },
        d.report.name
    );
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true},
            {"type": "TextBlock", "text": chat::summary(d), "wrap": true},
            {"type": "FactSet", "facts": facts},
        ],
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

fn fact(f: &FileRecord) -> Value {
    json!({
        "title": f.name,
        "value": format!(
            "{}, {}",
            crate::ui::count(f.rows, "row", "rows"),
            super::human_bytes(f.bytes)
        ),
    })
}
