//! `reportctl plan`: the next runs of reports and the period each covers. The JSON
//! lines are a stable interface (see the brief):
//! `{"report":…,"run_at":…,"from":…,"to":…,"files":[…]}`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
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

/// The most runs `plan --count` shows per report: enough for any look ahead a person
/// reads (ten thousand hourly runs are more than a year), small enough to answer at once.
pub const MAX_COUNT: usize = 10_000;

/// The next `count` slots of `report` at or after `now` (none for a draft), computed as
/// they are taken.
pub fn upcoming_iter(
    report: &Report,
    now: DateTime<Utc>,
    count: usize,
) -> impl Iterator<Item = Slot> + '_ {
    let draft = report.status == Status::Draft;
    Plan::new(&report.schedule, report.timezone, now)
        .slots_from(now)
        .take(if draft { 0 } else { count })
}

/// The next `count` slots of each report, merged in time order with ties in
/// configuration order: a k-way merge that holds one pending slot per report, so memory
/// does not grow with `count`.
pub fn merged<'c>(
    reports: &[&'c Report],
    now: DateTime<Utc>,
    count: usize,
) -> impl Iterator<Item = (&'c Report, Slot)> {
    let mut sources: Vec<_> = reports
        .iter()
        .map(|r| (*r, upcoming_iter(r, now, count)))
        .collect();
    let mut heads: Vec<Option<Slot>> = sources.iter_mut().map(|(_, it)| it.next()).collect();
    let mut heap: BinaryHeap<Reverse<(DateTime<Utc>, usize)>> = heads
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.map(|s| Reverse((s.run_at.with_timezone(&Utc), i))))
        .collect();
    std::iter::from_fn(move || {
        let Reverse((_, i)) = heap.pop()?;
        let slot = heads[i].take()?;
        heads[i] = sources[i].1.next();
        if let Some(next) = heads[i] {
            heap.push(Reverse((next.run_at.with_timezone(&Utc), i)));
        }
        Some((sources[i].0, slot))
    })
}

pub fn files_of(report: &Report, slot: &Slot) -> Result<Vec<String>> {
    let token = slot_token(&report.name, slot.run_at.with_timezone(&Utc));
    report_file_names(report, &slot.window, slot.run_at.naive_local(), &token)
        .map_err(|e| anyhow!("report \"{}\": {e}", report.name))
}

pub fn run(cli: &Cli, args: &PlanArgs) -> Result<u8> {
    if !(1..=MAX_COUNT).contains(&args.count) {
        return Err(anyhow!(UsageError(format!(
            "--count {} is out of range; allowed: 1 to {MAX_COUNT} runs per report (for runs further ahead, plan from a later --now)",
            args.count
        ))));
    }
    let config = super::load(cli)?;
    let reports = select(&config, &args.reports)?;
    let now = args.now.unwrap_or_else(Utc::now);
    for report in &reports {
        if report.status == Status::Draft {
            crate::ui::info(format!("report \"{}\" is a draft: never due", report.name));
        }
    }
    let mut out = std::io::stdout().lock();
    if cli.json {
        for (report, slot) in merged(&reports, now, args.count) {
            let line = PlanLine {
                report: &report.name,
                run_at: rfc3339(&slot.run_at),
                from: rfc3339(&slot.window.from),
                to: rfc3339(&slot.window.to),
                files: files_of(report, &slot)?,
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        }
    } else {
        // Two passes: the column widths first, then each row as it is computed.
        let header = ["REPORT", "RUN AT", "FROM", "TO"];
        let mut widths = header.map(|h| h.chars().count());
        for (report, slot) in merged(&reports, now, args.count) {
            let cells = [
                report.name.chars().count(),
                rfc3339(&slot.run_at).len(),
                rfc3339(&slot.window.from).len(),
                rfc3339(&slot.window.to).len(),
            ];
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c);
            }
        }
        let row = |cells: [&str; 4], files: &str| {
            let mut line = String::new();
            for (cell, w) in cells.iter().zip(widths) {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
            }
            line.push_str(files);
            line.trim_end().to_string()
        };
        writeln!(out, "{}", row(header, "FILES"))?;
        for (report, slot) in merged(&reports, now, args.count) {
            let files = files_of(report, &slot)?.join(", ");
            let times = [
                rfc3339(&slot.run_at),
                rfc3339(&slot.window.from),
                rfc3339(&slot.window.to),
            ];
            let cells = [report.name.as_str(), &times[0], &times[1], &times[2]];
            writeln!(out, "{}", row(cells, &files))?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}
