//! `reportctl destinations`: the configured destinations as `{type, id}`, with where
//! each one points. Never a secret.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use crate::cli::Cli;
use crate::config::limits::DEFAULT_SLACK_API;
use crate::config::{Destination, DestinationKind, SlackMode};
use crate::deliver;
use crate::exit;

fn target(d: &Destination) -> String {
    match &d.kind {
        DestinationKind::Directory(x) => x.path.display().to_string(),
        DestinationKind::Email(x) => {
            let mut all = x.to.clone();
            all.extend(x.cc.iter().cloned());
            format!("mail to {}", all.join(", "))
        }
        DestinationKind::Sftp(x) => format!(
            "sftp://{}@{}:{}/{}",
            x.user,
            x.host,
            x.port,
            x.path.trim_start_matches('/')
        ),
        DestinationKind::Pickup(x) => {
            let mut s = format!("pickup store {}", x.path.display());
            if let Some(app) = &x.app_id {
                s.push_str(&format!(" (app {app})"));
            }
            s
        }
        DestinationKind::S3(x) => {
            let mut s = format!("s3://{}/{}", x.bucket, x.prefix);
            if let Some(e) = &x.endpoint {
                s.push_str(&format!(" at {e}"));
            }
            s
        }
        // The query may hold a key: never shown.
        DestinationKind::Webhook(x) => url::Url::parse(&x.url)
            .map_or_else(|_| x.url.clone(), |u| deliver::http::shown_path(&u)),
        DestinationKind::Slack(x) => {
            let mode = match x.mode {
                SlackMode::Files => "files",
                SlackMode::Links => "links",
            };
            let mut s = format!("slack channel {} ({mode})", x.channel);
            if x.api_url != DEFAULT_SLACK_API {
                s.push_str(&format!(" at {}", x.api_url));
            }
            s
        }
        DestinationKind::Teams(x) => format!("teams workflow, URL from {}", x.url.describe()),
    }
}

pub fn run(cli: &Cli) -> Result<u8> {
    let config = super::load(cli)?;
    let mut out = std::io::stdout().lock();
    if cli.json {
        let list: Vec<_> = config
            .destinations
            .values()
            .map(|d| json!({"type": d.kind.kind_name(), "id": d.name, "target": target(d)}))
            .collect();
        writeln!(out, "{}", json!({ "destinations": list }))?;
    } else {
        let mut rows = vec![vec!["TYPE".to_string(), "ID".into(), "TARGET".into()]];
        for d in config.destinations.values() {
            rows.push(vec![
                d.kind.kind_name().to_string(),
                d.name.clone(),
                target(d),
            ]);
        }
        write!(out, "{}", super::table(&rows))?;
    }
    out.flush()?;
    Ok(exit::OK)
}
