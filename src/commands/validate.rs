//! `reportctl validate`: every problem in one pass, including what runs will need from
//! the outside world (secrets, files).

use std::io::Write;

use anyhow::Result;
use serde_json::json;

use crate::cli::Cli;
use crate::config::{self, ConfigErrors, Subject};
use crate::{exit, ui};

pub fn run(cli: &Cli) -> Result<u8> {
    match config::load_with(&cli.config, true) {
        Ok(c) => {
            // Kept until the process ends, as `super::load` does.
            let c = std::mem::ManuallyDrop::new(c);
            if cli.json {
                println!("{}", json!({"valid": true, "errors": []}));
            }
            ui::info(format!(
                "{}: {} reports, {} sources, {} destinations: no problems found",
                c.path.display(),
                c.reports.len(),
                c.sources.len(),
                c.destinations.len()
            ));
            Ok(exit::OK)
        }
        Err(errors) => {
            if cli.json {
                print_json(&errors)?;
            }
            Err(errors.into())
        }
    }
}

fn print_json(errors: &ConfigErrors) -> Result<()> {
    let list: Vec<_> = errors
        .0
        .iter()
        .map(|d| {
            let (kind, name) = match &d.subject {
                Subject::File => ("file", None),
                Subject::Settings => ("settings", None),
                Subject::Source(n) => ("source", Some(n.clone())),
                Subject::Destination(n) => ("destination", Some(n.clone())),
                Subject::Report(n) => ("report", Some(n.clone())),
                Subject::ReportAt(i) => ("report", Some(format!("#{i}"))),
            };
            json!({
                "file": d.file.display().to_string(),
                "line": d.position.map(|p| p.0),
                "column": d.position.map(|p| p.1),
                "subject": kind,
                "name": name,
                "key": d.key,
                "message": d.message,
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", json!({"valid": false, "errors": list}))?;
    Ok(())
}
