//! `reportctl list`: the reports with their status, schedule in words and next run,
//! paginated with `--limit`/`--offset`. The next run is the one `run-due`
//! will take given the ledger (read-only; nothing is created when there is none).

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::output::rfc3339;
use crate::cli::{Cli, ListArgs};
use crate::exit;
use crate::schedule::describe;

pub fn run(cli: &Cli, args: &ListArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let wall = crate::clock::wall();
    let now = args
        .now
        .map_or(wall, |n| n.instant(config.settings.timezone));
    let page: Vec<_> = config
        .reports
        .iter()
        .skip(args.offset)
        .take(args.limit)
        .collect();
    let mut ledger = crate::ledger::open_read(&config)?;
    let nexts = page
        .iter()
        .map(|r| crate::engine::due::next_slot(r, ledger.as_mut(), now, wall))
        .collect::<Result<Vec<_>>>()?;
    let mut out = std::io::stdout().lock();
    if cli.json {
        let reports: Vec<_> = page
            .iter()
            .zip(&nexts)
            .map(|(r, next)| {
                json!({
                    "name": r.name,
                    "status": r.status.name(),
                    "schedule": describe(&r.schedule, r.timezone),
                    "timezone": r.timezone.name(),
                    "source": r.source,
                    "types": r.outputs.iter().map(|o| o.kind.as_str()).collect::<Vec<_>>(),
                    "destinations": r.destinations,
                    "next_run": next.as_ref().map(|s| rfc3339(&s.run_at)),
                    "next_from": next.as_ref().map(|s| rfc3339(&s.window.from)),
                    "next_to": next.as_ref().map(|s| rfc3339(&s.window.to)),
                })
            })
            .collect();
        let doc = json!({
            "total": config.reports.len(),
            "offset": args.offset,
            "limit": args.limit,
            "reports": reports,
        });
        writeln!(out, "{doc}")?;
    } else {
        let mut rows = vec![vec![
            "NAME".to_string(),
            "STATUS".into(),
            "NEXT RUN".into(),
            "SCHEDULE".into(),
        ]];
        for (r, next) in page.iter().zip(&nexts) {
            let next = next
                .as_ref()
                .map_or_else(|| "-".to_string(), |s| rfc3339(&s.run_at));
            rows.push(vec![
                r.name.clone(),
                r.status.name().to_string(),
                next,
                describe(&r.schedule, r.timezone),
            ]);
        }
        write!(out, "{}", super::table(&rows))?;
        if args.offset + page.len() < config.reports.len() {
            crate::ui::warn(format!(
                "showing {} of {} reports; see more with --offset {}",
                page.len(),
                config.reports.len(),
                args.offset + page.len()
            ));
        }
    }
    out.flush()?;
    Ok(exit::OK)
}
