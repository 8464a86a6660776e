//! One module per subcommand. Each takes the parsed command line and returns the exit
//! code; fatal errors go back to `main` as `anyhow::Error`.

mod destinations;
mod history;
mod list;
mod plan;
mod run;
mod run_due;
mod send_test;
mod serve;
mod show;
mod validate;

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::config::{self, Config};

pub fn run(cli: &Cli) -> Result<u8> {
    match &cli.command {
        Command::Validate => validate::run(cli),
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
