//! `reportctl plan`: the next runs of reports and the period each covers. The JSON
//! lines are a stable interface (see the brief):
//! `{"report":…,"run_at":…,"from":…,"to":…,"files":[…]}`.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{anyhow, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::cli::{Cli, PlanArgs};
use crate::config::{Config, Report, Status};
use crate::exit::{self, UsageError};
use crate::render::naming::report_file_names;
use crate::schedule::{Plan, Slot};
use crate::token::slot_token;

#[derive(Serialize)]
struct PlanLine<'a> {
    report: &'a str,
    run_at: String,
    from: String,
    to: String,
    files: Vec<String>,
}

pub fn rfc3339(t: &DateTime<Tz>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The reports named on the command line, or all of them.
pub fn select<'c>(config: &'c Config, names: &[String]) -> Result<Vec<&'c Report>> {
    if names.is_empty() {
        return Ok(config.reports.iter().collect());
    }
    // One lookup table, not a search of every report for each name.
    let by_name: HashMap<&str, &Report> = config
        .reports
        .iter()
        .rev()
        .map(|r| (r.name.as_str(), r))
        .collect();
    names
        .iter()
        .map(|n| {
            by_name.get(n.as_str()).copied().ok_or_else(|| {
                let known: Vec<_> = config.reports.iter().map(|r| r.name.as_str()).collect();
                anyhow!(UsageError(format!(
                    "no report named \"{n}\" in {}; reports: {}",
                    config.path.display(),
                    known.join(", ")
                )))
            })
        })
        .collect()
}

/// The next `count` slots of `report` at or after `now` (none for a draft).
pub fn upcoming(report: &Report, now: DateTime<Utc>, count: usize) -> Vec<Slot> {
    if report.status == Status::Draft {
        return Vec::new();
    }
    Plan::new(&report.schedule, report.timezone, now)
        .slots_from(now)
        .take(count)
        .collect()
}

pub fn files_of(report: &Report, slot: &Slot) -> Result<Vec<String>> {
    let token = slot_token(&report.name, slot.run_at.with_timezone(&Utc));
    report_file_names(report, &slot.window, slot.run_at.naive_local(), &token)
        .map_err(|e| anyhow!("report \"{}\": {e}", report.name))
}

pub fn run(cli: &Cli, args: &PlanArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let reports = select(&config, &args.reports)?;
    let now = args.now.unwrap_or_else(Utc::now);
    let mut lines = Vec::new();
    for (order, report) in reports.iter().enumerate() {
        if report.status == Status::Draft {
            crate::ui::info(format!("report \"{}\" is a draft: never due", report.name));
        }
        for slot in upcoming(report, now, args.count) {
            let files = files_of(report, &slot)?;
            lines.push((slot.run_at.with_timezone(&Utc), order, report, slot, files));
        }
    }
    lines.sort_by_key(|(t, order, ..)| (*t, *order));
    let mut out = std::io::stdout().lock();
    if cli.json {
        for (_, _, report, slot, files) in lines {
            let line = PlanLine {
                report: &report.name,
                run_at: rfc3339(&slot.run_at),
                from: rfc3339(&slot.window.from),
                to: rfc3339(&slot.window.to),
                files,
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        }
    } else {
        let mut rows = vec![vec![
            "REPORT".to_string(),
            "RUN AT".into(),
            "FROM".into(),
            "TO".into(),
            "FILES".into(),
        ]];
        for (_, _, report, slot, files) in lines {
            rows.push(vec![
                report.name.clone(),
                rfc3339(&slot.run_at),
                rfc3339(&slot.window.from),
                rfc3339(&slot.window.to),
                files.join(", "),
            ]);
        }
        write!(out, "{}", super::table(&rows))?;
    }
    out.flush()?;
    Ok(exit::OK)
}
