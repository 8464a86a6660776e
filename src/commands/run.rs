//! `reportctl run NAME`: one report now, for an explicit period or its latest window.
//! Delivered and recorded like a scheduled run (kind `manual`), or, with `--output` or
//! `--no-deliver`, generated locally and not recorded.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::output;
use crate::cli::{Cli, RunArgs};
use crate::engine::{self, manual, send_if, token};
use crate::exit;
use crate::ledger::{self, FileRecord};

pub fn run(cli: &Cli, args: &RunArgs) -> Result<u8> {
    let config = super::load(cli)?;
    let report = super::one_report(&config, &args.report)?;
    let forced = args.force.then(|| send_if::forced(report));
    let report = forced.as_ref().unwrap_or(report);
    let now = crate::cli::now_or_clock(args.now, config.settings.timezone);
    let window = match (&args.from, &args.to) {
        (Some(from), Some(to)) => {
            manual::period(from, to, report.timezone, config.settings.max_range_days)?
        }
        _ => manual::latest_window(report, now)?,
    };
    let recipient = match (&args.recipient, &report.recipients) {
        (None, Some(_)) => anyhow::bail!(exit::UsageError(format!(
            "report \"{}\" has recipients: give --recipient KEY to run one of them",
            report.name
        ))),
        (None, None) => None,
        (Some(key), _) => Some(engine::recipients::one(&config, report, key, &window)?),
    };
    let local = manual::Local {
        config: &config,
        report,
        window,
        now,
        token: token::random_token(),
        recipient,
    };
    match &args.output {
        Some(dir) if dir.as_os_str() == "-" => {
            let stdout = std::io::stdout().lock();
            local.to_writer(std::io::BufWriter::with_capacity(256 * 1024, stdout))?;
            return Ok(exit::OK);
        }
        Some(dir) => {
            let files = local.to_directory(dir)?;
            print_files(cli, dir, &files)?;
            return Ok(exit::OK);
        }
        None if args.no_deliver => {
            let (spool, files) = local.to_spool()?;
            print_files(cli, &spool, &files)?;
            return Ok(exit::OK);
        }
        None => {}
    }
    let mut ledger = ledger::open(&config)?;
    let window = (&local.window, local.recipient.as_ref());
    let done = manual::run(&config, &mut ledger, report, window, now)?;
    let code = output::done(cli.json, &done, report.timezone)?;
    engine::housekeeping(&config, &mut ledger);
    Ok(code)
}

fn print_files(cli: &Cli, dir: &Path, files: &[FileRecord]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for f in files {
        if cli.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"path": dir.join(&f.name), "type": f.kind, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256})
            )?;
        } else if crate::ui::level() >= 1 {
            let path = dir.join(&f.name);
            writeln!(out, "{}", output::file_line(&path.to_string_lossy(), f))?;
        }
    }
    out.flush()?;
    Ok(())
}
