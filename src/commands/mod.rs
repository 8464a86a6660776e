//! One module per subcommand. Each takes the parsed command line, calls into the
//! engine or the ledger, prints, and returns the exit code; fatal errors go back to
//! `main` as `anyhow::Error`. Commands never import each other: what several share is
//! here (loading, report selection, tables) or in `output` (how runs are shown).

mod check;
mod destinations;
mod history;
mod init;
mod list;
mod output;
mod pause;
mod plan;
mod retry;
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

/// `check`'s exit status when it cannot tell (see `check`).
pub const CHECK_UNKNOWN: u8 = check::UNKNOWN;

pub fn run(cli: &Cli) -> Result<u8> {
    let code = command(cli);
    // Connections kept open for reuse are closed politely (QUIT, SSH disconnect).
    crate::deliver::close_connections();
    code
}

fn command(cli: &Cli) -> Result<u8> {
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
        Command::Check(args) => check::run(cli, args),
        Command::Retry { token } => retry::retry(cli, token),
        Command::Resend(args) => retry::resend(cli, args),
        Command::Ack { token } => retry::ack(cli, token),
        Command::Pause { report } => pause::pause(cli, report),
        Command::Resume { report } => pause::resume(cli, report),
        Command::Init(args) => init::run(cli, args),
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
    let started = std::time::Instant::now();
    let config = config::load(&cli.config)?;
    crate::ui::debug(format!(
        "read {} from {} in {:.1} ms",
        crate::ui::count(config.reports.len() as u64, "report", "reports"),
        cli.config.display(),
        started.elapsed().as_secs_f64() * 1000.0
    ));
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
        .map(|n| match by_name.get(n.as_str()) {
            Some(r) => Ok(*r),
            None => by_name_ignoring_case(config, n),
        })
        .collect()
}

/// The report whose name is `name` but for case, when there is exactly one.
fn by_name_ignoring_case<'c>(config: &'c Config, name: &str) -> Result<&'c Report> {
    let lower = name.to_lowercase();
    let same: Vec<&Report> = config
        .reports
        .iter()
        .filter(|r| r.name.to_lowercase() == lower)
        .collect();
    match same.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<_> = config.reports.iter().map(|r| r.name.as_str()).collect();
            Err(anyhow!(UsageError(format!(
                "no report named \"{name}\" in {}; {}reports: {}",
                config.path.display(),
                crate::config::diag::did_you_mean(name, known.iter().copied(), "\""),
                known.join(", ")
            ))))
        }
        several => {
            let names: Vec<String> = several.iter().map(|r| format!("\"{}\"", r.name)).collect();
            Err(anyhow!(UsageError(format!(
                "\"{name}\" names several reports but for case: {}; write the name exactly",
                names.join(", ")
            ))))
        }
    }
}

/// The run a token given on the command line names: the whole token, or a unique
/// prefix of at least 4 characters. `Ok(None)`: no such run.
pub fn resolve_token(ledger: &mut crate::ledger::Ledger, given: &str) -> Result<Option<String>> {
    if ledger.get(given)?.is_some() {
        return Ok(Some(given.to_string()));
    }
    let prefix = given.to_ascii_lowercase();
    if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let found = ledger.tokens_starting(&prefix, 3)?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        several => Err(anyhow!(UsageError(format!(
            "{given} is the start of several runs' tokens ({}{}); give more of it",
            several[..2].join(", "),
            if several.len() > 2 { ", …" } else { "" }
        )))),
    }
}

/// The one report named on the command line.
pub fn one_report<'c>(config: &'c Config, name: &str) -> Result<&'c Report> {
    select(config, &[name.to_string()]).map(|v| v[0])
}

/// The width tables must fit on stdout: a terminal's (`COLUMNS` when set, else the
/// terminal's own), or `None` when stdout is not a terminal, where lines stay whole.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(n);
    }
    terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0))
}

/// `cell` cut to `width` characters, ending in `…` when cut.
fn fit(cell: &str, width: usize) -> String {
    if cell.chars().count() <= width {
        return cell.to_string();
    }
    let mut s: String = cell.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Pads columns for human-readable tables on stdout. On a terminal, the last column
/// (details, schedules, file names) is cut to fit its width; `--json` has it whole.
pub fn table(rows: &[Vec<String>]) -> String {
    table_within(rows, terminal_width())
}

fn table_within(rows: &[Vec<String>], width: Option<usize>) -> String {
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
                let used = line.chars().count();
                match width {
                    // At least 10 characters of the last column stay, whatever the width.
                    Some(w) => line.push_str(&fit(cell, w.saturating_sub(used).max(10))),
                    None => line.push_str(cell),
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit_the_width_by_cutting_their_last_column() {
        let rows = vec![
            vec!["NAME".to_string(), "DETAIL".to_string()],
            vec!["a".to_string(), "x".repeat(40)],
        ];
        assert_eq!(
            table_within(&rows, Some(20)),
            format!("NAME  DETAIL\na     {}…\n", "x".repeat(13))
        );
        assert_eq!(
            table_within(&rows, None),
            format!("NAME  DETAIL\na     {}\n", "x".repeat(40))
        );
        // Never fewer than 10 characters of the last column.
        assert_eq!(
            table_within(&rows, Some(8)),
            format!("NAME  DETAIL\na     {}…\n", "x".repeat(9))
        );
    }
}
