//! The command line: clap definitions whose doc comments are the `--help` text and the
//! man pages (see `man`).

pub mod man;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit status:
  0   success, or nothing was due
  1   a run or a delivery failed (details on stderr and in `history`)
  2   usage or configuration error (the message names the file, line and key)
  75  `send-test` refused by its rate limit; retry after the time it prints";

/// Schedule, generate and deliver recurring CSV reports, exactly once.
///
/// Report definitions live in a TOML file. reportctl works out which reports are due and
/// what period each run covers, runs the report's query against the data source, writes
/// CSV files named by convention and delivers them by email, SFTP, S3 or to a directory.
/// A ledger records every run so that `run-due`, called from cron, never sends a slot
/// twice and never silently drops one.
#[derive(Debug, Parser)]
#[command(name = "reportctl", version, propagate_version = true, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        short,
        long,
        global = true,
        env = "REPORTCTL_CONFIG",
        default_value = "reports.toml",
        value_name = "FILE"
    )]
    pub config: PathBuf,

    /// Say more on stderr (-v: what was done, -vv: details).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Say nothing on stderr but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration and report every problem found.
    ///
    /// Reads the whole file and lists every problem it can find in one pass, each naming
    /// the file, line and column, the report (or source, destination) and key, and what is
    /// allowed. Also checks what runs will need: that secrets can be read from their
    /// environment variables or files and that referenced files exist. Silent and exit 0
    /// when all is well.
    Validate,

    /// List the reports: status, schedule in words, next run.
    List(ListArgs),

    /// Show the next runs of reports and the period each covers.
    ///
    /// For each report, the next COUNT runs at or after --now, merged in time order.
    /// With --json, one object per line:
    /// {"report":…,"run_at":…,"from":…,"to":…,"files":[…]}, times in RFC 3339 with the
    /// report zone's offset, `to` exclusive. This output is a stable interface.
    Plan(PlanArgs),

    /// List the configured destinations, by type and id.
    Destinations,

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many reports.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,

    /// Skip this many reports first.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: usize,

    /// The instant "next run" is counted from (RFC 3339); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Reports to plan, by name; default: all active reports.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<String>,

    /// Plan from this instant (RFC 3339, e.g. 2026-11-25T06:00:00-05:00); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,

    /// How many runs to show per report.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub count: usize,
}

/// An instant on the command line: RFC 3339 with `Z` or an offset.
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!("\"{s}\" is not an RFC 3339 instant; write e.g. 2026-11-25T06:00:00-05:00 or 2026-11-25T11:00:00Z")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn instants() {
        assert!(parse_instant("2026-11-25T06:00:00-05:00").is_ok());
        assert!(parse_instant("2026-11-25T11:00:00Z").is_ok());
        assert!(parse_instant("2026-11-25 06:00").is_err());
    }
}
