//! `reportctl pause REPORT` and `resume REPORT`: set the report's `status` ("draft",
//! "active") in the configuration file that defines it (`config::edit`, every other
//! byte kept), after recording its slots due so far as `run-due` would now
//! (`engine::due::record_due`): the pause starts, or ends, at the command, and slots
//! that fall while the report is paused are recorded as skipped, never sent on resume.
//!
//! Exit 0 when the report has the status (already had it: nothing written); 2 for a
//! report that is not in the configuration; 1 when the file cannot be written or was
//! changed by someone else between reading and writing it (nothing written).

use anyhow::Result;

use crate::cli::Cli;
use crate::config::{edit, Status};
use crate::engine::due;
use crate::exit;
use crate::ledger;

pub fn pause(cli: &Cli, name: &str) -> Result<u8> {
    set(cli, name, Status::Draft)
}

pub fn resume(cli: &Cli, name: &str) -> Result<u8> {
    set(cli, name, Status::Active)
}

fn set(cli: &Cli, name: &str, status: Status) -> Result<u8> {
    let config = super::load(cli)?;
    let report = super::select(&config, &[name.to_string()])?[0];
    let word = if status == Status::Draft {
        "paused"
    } else {
        "resumed"
    };
    let change = edit::set_status(&cli.config, &report.name, status.name())?;
    if change.unchanged() {
        crate::ui::info(format!(
            "report \"{}\" is {} already in {}; nothing to do",
            report.name,
            if status == Status::Draft {
                "paused"
            } else {
                "active"
            },
            change.file.display()
        ));
        return Ok(exit::OK);
    }
    let mut ledger = ledger::open(&config)?;
    let wall = crate::clock::wall();
    let skipped = due::record_due(&config, report, &mut ledger, wall, wall)?;
    if let (Some(first), Some(last)) = (skipped.first(), skipped.last()) {
        crate::ui::warn(format!(
            "report \"{}\": {} missed slots from {} to {} skipped: more than catch_up = {} slots were due at once; `reportctl history \"{}\"` shows how to run each by hand",
            report.name,
            skipped.len(),
            first.run_at.to_rfc3339(),
            last.run_at.to_rfc3339(),
            config.settings.catch_up,
            report.name
        ));
    }
    change.write()?;
    if crate::ui::level() >= 1 {
        println!(
            "{word} report \"{}\" in {}",
            report.name,
            change.file.display()
        );
    }
    Ok(exit::OK)
}
