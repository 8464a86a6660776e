//! One module per subcommand. Each takes the parsed command line, calls into the
//! engine or the ledger, prints, and returns the exit code; fatal errors go back to
//! `main` as `anyhow::Error`. Commands never import each other: what several share is
//! here (loading, report selection, tables) or in `output` (how runs are shown).

mod destinations;
mod history;
mod list;
mod output;
mod plan;
mod run;
mod run_due;
mod send_test;
mod serve;
mod validate;

use std::collections::HashMap;
use std::io::Write;

use anyhow::{anyhow, Result};
use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::config::{self, Config, Report};
use crate::exit::UsageError;

pub fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Validate(args) => validate::run(cli, args),
        Command::List(args) => list::run(cli, args),
        Command::Plan(args) => plan::run(cli, args),
        Command::Run(args) => run::run(cli, args),
        Command::RunDue(args) => run_due::run(cli, args),
        Command::History(args) => history::history(cli, args),
        Command::Status { token } => history::status(cli, token),
        Command::Cancel { token } => history::cancel(cli, token),
        Command::SendTest(args) => send_test::run(cli, args),
        Command::Destinations => destinations::run(cli),
        Command::Serve(args) => serve::run(cli, args),
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(*shell, &mut Cli::command(), "reportctl", &mut out);
            out.flush()?;
            Ok(crate::exit::OK)
        }
    }
}

/// Loads the configuration named on the command line and prints its warnings on stderr.
/// It lives until the process ends: freeing ten thousand reports one by one at exit
/// would cost more than reading them, and the process is about to give all its memory
/// back at once.
pub fn load(cli: &Cli) -> Result<std::mem::ManuallyDrop<Config>> {
    let config = config::load(&cli.config)?;
    warn_config(&config);
    Ok(std::mem::ManuallyDrop::new(config))
}

/// The configuration's warnings on stderr, one `reportctl: warning: FILE:LINE:COL: …`
/// line each.
pub fn warn_config(config: &Config) {
    for w in &config.warnings {
        crate::ui::warn(w.to_string());
    }
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
                    "no report named \"{n}\" in {}; {}reports: {}",
                    config.path.display(),
                    crate::config::diag::did_you_mean(n, known.iter().copied(), "\""),
                    known.join(", ")
                )))
            })
        })
        .collect()
}

/// The one report named on the command line.
pub fn one_report<'c>(config: &'c Config, name: &str) -> Result<&'c Report> {
    select(config, &[name.to_string()]).map(|v| v[0])
}

/// Pads columns for human-readable tables on stdout.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(
                    ' ',
                    widths[c] - cell.chars().count() + 2,
                ));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
