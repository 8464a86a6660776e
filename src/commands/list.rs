//! `reportctl list`: the reports with their status, next run, last run (time and
//! status) and schedule in words, paginated with `--limit`/`--offset`. The next run is
//! the one `run-due` will take given the ledger (none for a one-time report that has
//! run); the last run is the latest recorded, of any kind (read-only; nothing is
//! created when there is no ledger).

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::output::rfc3339;
use crate::cli::{Cli, ListArgs};
use crate::config::Report;
use crate::exit;
use crate::ledger::RunRecord;
use crate::schedule::{describe, Slot};

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
    let names: Vec<&str> = page.iter().map(|r| r.name.as_str()).collect();
    let lasts = match ledger.as_mut() {
        Some(l) => l.last_runs(&names)?,
        None => vec![None; page.len()],
    };
    let mut out = std::io::stdout().lock();
    let rows = page
        .iter()
        .zip(&nexts)
        .zip(&lasts)
        .map(|((r, n), l)| (*r, n, l));
    if cli.json {
        let doc = json!({
            "total": config.reports.len(),
            "offset": args.offset,
            "limit": args.limit,
            "reports": rows.map(|(r, next, last)| json_row(r, next, last)).collect::<Vec<_>>(),
        });
        writeln!(out, "{doc}")?;
    } else {
        let mut table = vec![["NAME", "STATUS", "NEXT RUN", "LAST RUN", "SCHEDULE"]
            .map(String::from)
            .to_vec()];
        table.extend(rows.map(|(r, next, last)| table_row(r, next, last)));
        write!(out, "{}", super::table(&table))?;
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

/// When the last run was for, in the report's zone.
fn last_at(r: &Report, last: &Option<RunRecord>) -> Option<String> {
    last.as_ref()
        .map(|run| rfc3339(&run.run_at.with_timezone(&r.timezone)))
}

fn json_row(r: &Report, next: &Option<Slot>, last: &Option<RunRecord>) -> serde_json::Value {
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
        "last_run": last.as_ref().map(|run| json!({
            "token": run.token,
            "run_at": last_at(r, last),
            "status": run.status.name(),
        })),
    })
}

fn table_row(r: &Report, next: &Option<Slot>, last: &Option<RunRecord>) -> Vec<String> {
    vec![
        r.name.clone(),
        r.status.name().to_string(),
        next.as_ref()
            .map_or_else(|| "-".to_string(), |s| rfc3339(&s.run_at)),
        match (last_at(r, last), last) {
            (Some(at), Some(run)) => format!("{at} {}", run.status),
            _ => "-".into(),
        },
        describe(&r.schedule, r.timezone),
    ]
}
