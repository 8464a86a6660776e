//! `reportctl history`, `status TOKEN` and `cancel TOKEN`: what the ledger knows.
//! `history` and `status` open it read-only: they never wait behind a writer and never
//! create a ledger.

use std::io::Write;

use anyhow::{anyhow, Result};

use super::output as show;
use crate::cli::{Cli, HistoryArgs};
use crate::exit::{self, UsageError};
use crate::ledger::{self, CancelOutcome};

pub fn history(cli: &Cli, args: &HistoryArgs) -> Result<u8> {
    let config = super::load(cli)?;
    if let Some(name) = &args.report {
        if config.report(name).is_none() {
            crate::ui::warn(format!(
                "no report named \"{name}\" in {}; showing its recorded runs",
                config.path.display()
            ));
        }
    }
    let Some(mut ledger) = ledger::open_read(&config)? else {
        if !cli.json {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "no runs yet (there is no ledger at {})",
                ledger::describe(&config)
            )?;
            out.flush()?;
        }
        return Ok(exit::OK);
    };
    let runs = ledger.history(args.report.as_deref(), args.limit)?;
    let mut out = std::io::stdout().lock();
    if cli.json {
        for r in &runs {
            writeln!(out, "{}", show::json(r, show::zone_of(&config, &r.report)))?;
        }
    } else {
        // A RECIPIENT column when some run listed is a recipient's.
        let recipients = runs.iter().any(|r| r.recipient.is_some());
        let mut head = vec![
            "TOKEN", "REPORT", "KIND", "RUN AT", "STATUS", "ROWS", "DETAIL",
        ];
        if recipients {
            head.insert(2, "RECIPIENT");
        }
        let mut rows = vec![head.into_iter().map(String::from).collect::<Vec<_>>()];
        for r in &runs {
            let v = show::view(r, show::zone_of(&config, &r.report));
            let rows_total: u64 = r.files.iter().map(|f| f.rows).sum();
            let mut row = vec![r.token.clone(), r.report.clone()];
            if recipients {
                row.push(v.recipient.unwrap_or("-").to_string());
            }
            rows.push(vec![
                v.kind.to_string(),
                v.run_at,
                v.status.to_string(),
                if r.files.is_empty() {
                    "-".into()
                } else {
                    rows_total.to_string()
                },
                r.detail.clone(),
            ]);
            let last = rows.last_mut().expect("just pushed");
            row.append(last);
            *last = row;
        }
        write!(out, "{}", super::table(&rows))?;
    }
    out.flush()?;
    Ok(exit::OK)
}

pub fn status(cli: &Cli, token: &str) -> Result<u8> {
    let config = super::load(cli)?;
    let run = match ledger::open_read(&config)? {
        Some(mut ledger) => match super::resolve_token(&mut ledger, token)? {
            Some(t) => ledger.get(&t)?,
            None => None,
        },
        None => None,
    };
    let run = run.ok_or_else(|| {
        anyhow!(UsageError(format!(
            "no run with token {token} in the ledger"
        )))
    })?;
    let tz = show::zone_of(&config, &run.report);
    let mut out = std::io::stdout().lock();
    if cli.json {
        writeln!(out, "{}", show::json(&run, tz))?;
    } else {
        let v = show::view(&run, tz);
        writeln!(out, "token:     {}", v.token)?;
        writeln!(out, "report:    {}", v.report)?;
        writeln!(out, "kind:      {}", v.kind)?;
        if let Some(r) = v.recipient {
            writeln!(out, "recipient: {r}")?;
        }
        writeln!(out, "status:    {}", v.status)?;
        if !v.detail.is_empty() {
            writeln!(out, "detail:    {}", v.detail)?;
        }
        if let Some(origin) = v.origin {
            writeln!(out, "resend of: {origin}")?;
        }
        if let Some(settled) = v.settled {
            writeln!(out, "settled:   {settled}")?;
        }
        writeln!(out, "run at:    {}", v.run_at)?;
        writeln!(out, "window:    {} to {}", v.from, v.to)?;
        writeln!(out, "attempts:  {} of {}", v.attempts, v.max_attempts)?;
        if let Some(t) = &v.next_attempt_at {
            writeln!(out, "next try:  {t}")?;
        }
        writeln!(out, "updated:   {}", v.updated_at)?;
        for f in &run.files {
            writeln!(
                out,
                "file:      {} ({} rows, {} bytes)",
                f.name, f.rows, f.bytes
            )?;
        }
        for r in &run.receipts {
            writeln!(
                out,
                "delivery:  {} {}: {}",
                r.destination, r.status, r.detail
            )?;
            for l in &r.links {
                writeln!(
                    out,
                    "link:      {} {} (expires {})",
                    l.file,
                    l.url,
                    l.expires.to_rfc3339()
                )?;
            }
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

pub fn cancel(cli: &Cli, token: &str) -> Result<u8> {
    let config = super::load(cli)?;
    let mut ledger = ledger::open(&config)?;
    let resolved = super::resolve_token(&mut ledger, token)?;
    let token = resolved.as_deref().unwrap_or(token);
    match ledger.cancel(token, crate::clock::wall())? {
        CancelOutcome::Cancelled => {
            if crate::ui::level() >= 1 && !cli.json {
                println!("cancelled run {token}");
            }
            Ok(exit::OK)
        }
        CancelOutcome::NotFound => Err(anyhow!(UsageError(format!(
            "no run with token {token} in the ledger"
        )))),
        CancelOutcome::NotQueued(status) => {
            eprintln!(
                "reportctl: error: run {token} is {status}; only a queued run can be cancelled"
            );
            Ok(exit::FAILED)
        }
    }
}
