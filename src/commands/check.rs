//! `reportctl check`: the command a monitoring system calls. The engine says what state
//! each report's latest slots are in (`engine::watch`); this prints it as a monitoring
//! plugin does (a status line with counts and performance data, then one line per
//! report or slot) or as one JSON document, and exits by the Nagios/Icinga plugin
//! convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. For this command alone, a usage
//! or configuration error, or a ledger it cannot read, is 3 (UNKNOWN), never 2: a
//! monitoring system must not read its own mistake as a failed report.

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::output::rfc3339;
use crate::cli::{CheckArgs, Cli};
use crate::engine::watch::{self, Line, State};
use crate::ledger;

/// The exit status of a check that could not tell.
pub const UNKNOWN: u8 = 3;

pub fn run(cli: &Cli, args: &CheckArgs) -> Result<u8> {
    match check(cli, args) {
        Ok(code) => Ok(code),
        Err(err) => {
            // The error on stderr as usual, and the status line a plugin must print.
            crate::exit::report(&err);
            let first = format!("{err}");
            let first = crate::redact::text(first.lines().next().unwrap_or(""));
            let mut out = std::io::stdout().lock();
            if cli.json {
                let doc = json!({"status": "UNKNOWN", "exit": UNKNOWN, "summary": first, "counts": {}, "lines": []});
                writeln!(out, "{doc}")?;
            } else {
                writeln!(out, "REPORTCTL UNKNOWN - {first}")?;
            }
            out.flush()?;
            Ok(UNKNOWN)
        }
    }
}

fn check(cli: &Cli, args: &CheckArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let reports = super::select(&config, &args.reports)?;
    let grace = args.grace.map_or(config.settings.check_grace, |m| {
        std::time::Duration::from_secs(u64::from(m) * 60)
    });
    let grace = chrono::Duration::from_std(grace)?;
    let mut ledger = ledger::open_read(&config)?;
    let lines = watch::check(&reports, ledger.as_mut(), crate::clock::wall(), grace)?;
    let worst = watch::worst(&lines);
    let counts: Vec<(State, usize)> = State::ALL
        .iter()
        .map(|s| (*s, lines.iter().filter(|l| l.state == *s).count()))
        .collect();
    let summary = summary(&counts);
    let mut out = std::io::stdout().lock();
    if cli.json {
        let doc = json!({
            "status": worst.word(),
            "exit": worst as u8,
            "summary": summary,
            "counts": counts.iter().map(|(s, n)| (s.key().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "lines": lines.iter().map(line_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{doc}")?;
    } else {
        let perf: Vec<String> = counts
            .iter()
            .map(|(s, n)| format!("{}={n}", s.key()))
            .collect();
        writeln!(
            out,
            "REPORTCTL {} - {summary} | {}",
            worst.word(),
            perf.join(" ")
        )?;
        let mut rows = vec![vec![
            "STATE".to_string(),
            "REPORT".into(),
            "SLOT".into(),
            "TOKEN".into(),
            "DETAIL".into(),
        ]];
        rows.extend(lines.iter().map(|l| {
            vec![
                l.state.name().to_string(),
                match &l.recipient {
                    Some(r) => format!("{} (recipient {r})", l.report.name),
                    None => l.report.name.clone(),
                },
                slot(l).unwrap_or_else(|| "-".into()),
                l.token.clone().unwrap_or_else(|| "-".into()),
                l.detail.clone(),
            ]
        }));
        write!(out, "{}", super::table(&rows))?;
    }
    out.flush()?;
    Ok(worst as u8)
}

/// `1 given up, 2 ok`: the states that occur, worst first.
fn summary(counts: &[(State, usize)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", s.name()))
        .collect();
    if parts.is_empty() {
        "no reports".into()
    } else {
        parts.join(", ")
    }
}

fn slot(l: &Line<'_>) -> Option<String> {
    l.slot
        .map(|t| rfc3339(&t.with_timezone(&l.report.timezone)))
}

fn line_json(l: &Line<'_>) -> serde_json::Value {
    let mut line = json!({
        "report": l.report.name,
        "state": l.state.key(),
        "severity": l.state.severity().word(),
        "slot": slot(l),
        "token": l.token,
        "detail": l.detail,
    });
    if let Some(r) = &l.recipient {
        line["recipient"] = json!(r);
    }
    line
}
