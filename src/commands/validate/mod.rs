//! `reportctl validate`: every problem in one pass, including what runs will need from
//! the outside world (secrets, files, the databases: see `databases`).

use std::io::Write;

use anyhow::Result;
use serde_json::json;

mod classify;
mod databases;
mod time_samples;

use crate::cli::{Cli, ValidateArgs};
use crate::config::{self, Diagnostic, Subject};
use crate::{exit, ui};

pub fn run(cli: &Cli, args: &ValidateArgs) -> Result<u8> {
    let inspector = databases::Inspector::new(args.offline);
    match config::load_with(&cli.config, Some(Box::new(inspector))) {
        Ok(c) => {
            // Kept until the process ends, as `super::load` does.
            let c = std::mem::ManuallyDrop::new(c);
            super::warn_config(&c);
            if cli.json {
                let warnings = json_list(&c.warnings);
                println!(
                    "{}",
                    json!({"valid": true, "errors": [], "warnings": warnings})
                );
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
                let list = json_list(&errors.0);
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", json!({"valid": false, "errors": list}))?;
            }
            Err(errors.into())
        }
    }
}

/// Errors or warnings as `--json` lists them.
fn json_list(diagnostics: &[Diagnostic]) -> Vec<serde_json::Value> {
    diagnostics
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
        .collect()
}
