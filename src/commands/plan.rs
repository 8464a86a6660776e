//! `reportctl plan`: the next runs of reports and the period each covers. The JSON
//! lines are a stable interface (see the brief):
//! `{"report":…,"run_at":…,"from":…,"to":…,"files":[…],"recipient":…}`. A report with
//! listed recipients has one line per (slot, recipient); with recipients from a query,
//! one per slot (`"recipients_from_query":true`): `plan` never connects to a source.
//! `--count` counts slots.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::output::rfc3339;
use crate::cli::{Cli, PlanArgs};
use crate::config::recipients::Recipient;
use crate::config::{Report, Status};
use crate::engine::token::{recipient_token, slot_token};
use crate::exit::{self, UsageError};
use crate::halves;
use crate::render::naming::{report_file_names, Var};
use crate::schedule::{Plan, Slot};

#[derive(Serialize)]
struct PlanLine<'a> {
    report: &'a str,
    run_at: String,
    from: String,
    to: String,
    files: Vec<String>,
    /// The recipient's key (a listed recipient); `null` for a report without
    /// recipients or whose recipients come from a query (`recipients_from_query`).
    recipient: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    recipients_from_query: bool,
}

/// Who a slot's runs are for, as `plan` shows them without connecting to anything:
/// nobody in particular (one run), each listed recipient (one run each), or the
/// recipients a query returns at the slot (known then only).
enum FanOut<'r> {
    One,
    Listed(&'r [Recipient]),
    Query,
}

fn fan_out(report: &Report) -> FanOut<'_> {
    match report.recipients.as_deref() {
        None => FanOut::One,
        Some(r) => r.listed().map_or(FanOut::Query, FanOut::Listed),
    }
}

/// The runs of one slot: `(recipient, shown in the RECIPIENT column)`.
fn runs_of(report: &Report) -> Vec<(Option<&Recipient>, &str)> {
    match fan_out(report) {
        FanOut::One => vec![(None, "")],
        FanOut::Listed(list) => list.iter().map(|r| (Some(r), r.key.as_str())).collect(),
        FanOut::Query => vec![(None, QUERY_CELL)],
    }
}

/// The RECIPIENT cell of a report whose recipients come from a query.
const QUERY_CELL: &str = "(from a query)";

/// `rfc3339(t).len()`, without writing it out for the years of four digits.
fn rfc3339_len(t: &DateTime<Tz>) -> usize {
    if (0..=9999).contains(&t.year()) {
        "2026-11-30T07:00:00+01:00".len()
    } else {
        rfc3339(t).len()
    }
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
pub struct Merged<'c, I> {
    sources: Vec<(&'c Report, I)>,
    heads: Vec<Option<Slot>>,
    heap: BinaryHeap<Reverse<(DateTime<Utc>, usize)>>,
}

pub fn merged<'c>(
    reports: &[&'c Report],
    now: DateTime<Utc>,
    count: usize,
) -> Merged<'c, impl Iterator<Item = Slot> + 'c> {
    // Each report's first slot is where most of the work is: on two threads for many.
    let (sources, heads): (Vec<_>, Vec<Option<Slot>>) = halves::map(reports.to_vec(), |r| {
        let mut it = upcoming_iter(r, now, count);
        let first = it.next();
        ((r, it), first)
    })
    .into_iter()
    .unzip();
    let heap = heads
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.map(|s| Reverse((s.run_at.with_timezone(&Utc), i))))
        .collect();
    Merged {
        sources,
        heads,
        heap,
    }
}

impl<'c, I: Iterator<Item = Slot>> Merged<'c, I> {
    /// The first slot of each report that has one (before any is taken).
    pub fn firsts(&self) -> impl Iterator<Item = (&'c Report, &Slot)> + '_ {
        self.sources
            .iter()
            .zip(&self.heads)
            .filter_map(|((r, _), h)| h.as_ref().map(|s| (*r, s)))
    }
}

impl<'c, I: Iterator<Item = Slot>> Iterator for Merged<'c, I> {
    type Item = (&'c Report, Slot);

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((_, i)) = self.heap.pop()?;
        let slot = self.heads[i].take()?;
        self.heads[i] = self.sources[i].1.next();
        if let Some(next) = self.heads[i] {
            self.heap
                .push(Reverse((next.run_at.with_timezone(&Utc), i)));
        }
        Some((self.sources[i].0, slot))
    }
}

pub fn files_of(
    report: &Report,
    slot: &Slot,
    recipient: Option<&Recipient>,
) -> Result<Vec<String>> {
    // The token is a hash: made only for the names that show it.
    let at = slot.run_at.with_timezone(&Utc);
    let token = match recipient {
        _ if !report.file_name.uses(Var::Token) => String::new(),
        Some(r) => recipient_token(&report.name, at, &r.key),
        None => slot_token(&report.name, at),
    };
    let run = slot.run_at.naive_local();
    report_file_names((report, recipient), &slot.window, run, &token)
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
    let reports = super::select(&config, &args.reports)?;
    let now = crate::cli::now_or_clock(args.now, config.settings.timezone);
    for report in &reports {
        if report.status == Status::Draft {
            crate::ui::info(format!("report \"{}\" is a draft: never due", report.name));
        }
    }
    // One write per 64 KiB, not one per line: ten thousand lines are a burst.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if cli.json {
        write_rows(&mut out, merged(&reports, now, args.count), json_lines)?;
    } else {
        // The column widths come from each report's first run (times are written in
        // one width: `rfc3339` gives 25 characters for every year from 0 to 9999), then
        // each row is written as it is computed.
        // A RECIPIENT column when a report planned has recipients.
        let recipients = reports.iter().any(|r| r.recipients.is_some());
        let header = ["REPORT", "RECIPIENT", "RUN AT", "FROM", "TO"];
        let mut widths = header.map(|h| h.chars().count());
        if !recipients {
            widths[1] = 0;
        }
        let runs = merged(&reports, now, args.count);
        for (report, slot) in runs.firsts() {
            let who = runs_of(report).iter().map(|(_, k)| k.chars().count()).max();
            let cells = [
                report.name.chars().count(),
                who.unwrap_or(0),
                rfc3339_len(&slot.run_at),
                rfc3339_len(&slot.window.from),
                rfc3339_len(&slot.window.to),
            ];
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c);
            }
        }
        let row = |cells: [&str; 5], files: &str| {
            let mut line = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i == 1 && !recipients {
                    continue;
                }
                line.push_str(cell);
                line.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(cell.chars().count()) + 2,
                ));
            }
            line.push_str(files);
            line.trim_end().to_string()
        };
        writeln!(out, "{}", row(header, "FILES"))?;
        let line = |(report, slot): (&Report, Slot)| -> Result<String> {
            let times = [
                rfc3339(&slot.run_at),
                rfc3339(&slot.window.from),
                rfc3339(&slot.window.to),
            ];
            let mut lines = Vec::new();
            for (recipient, who) in runs_of(report) {
                let files = files_of(report, &slot, recipient)?.join(", ");
                let cells = [report.name.as_str(), who, &times[0], &times[1], &times[2]];
                lines.push(row(cells, &files));
            }
            Ok(lines.join("\n"))
        };
        write_rows(&mut out, runs, line)?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// The `--json` lines of one slot: one per run (per listed recipient).
fn json_lines((report, slot): (&Report, Slot)) -> Result<String> {
    let mut lines = Vec::new();
    for (recipient, _) in runs_of(report) {
        let line = PlanLine {
            report: &report.name,
            run_at: rfc3339(&slot.run_at),
            from: rfc3339(&slot.window.from),
            to: rfc3339(&slot.window.to),
            files: files_of(report, &slot, recipient)?,
            recipient: recipient.map(|r| r.key.as_str()),
            recipients_from_query: matches!(fan_out(report), FanOut::Query),
        };
        lines.push(serde_json::to_string(&line)?);
    }
    Ok(lines.join("\n"))
}

/// Writes one line per run, in order, as they come: in batches whose lines are made on
/// two threads when the batch is large (file names and run tokens are most of the work).
fn write_rows<'c>(
    out: &mut impl Write,
    mut runs: impl Iterator<Item = (&'c Report, Slot)>,
    line: impl Fn((&'c Report, Slot)) -> Result<String> + Sync,
) -> Result<()> {
    const BATCH: usize = 8192;
    loop {
        let batch: Vec<_> = runs.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return Ok(());
        }
        for l in halves::map(batch, &line) {
            writeln!(out, "{}", l?)?;
        }
    }
}
