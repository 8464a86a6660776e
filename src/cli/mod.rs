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

/// `--version`: the version, the git commit built (or "unknown" outside a git checkout)
/// and the build date (see build.rs). `-V` prints the version alone.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("REPORTCTL_GIT_COMMIT"),
    ", built ",
    env!("REPORTCTL_BUILD_DATE"),
    ")"
);

/// Schedule, generate and deliver recurring CSV reports, exactly once.
///
/// Report definitions live in a TOML file. reportctl works out which reports are due and
/// what period each run covers, runs the report's query against the data source, writes
/// CSV files named by convention and delivers them by email, SFTP, S3 or to a directory.
/// A ledger records every run so that `run-due`, called from cron, never sends a slot
/// twice and never silently drops one.
#[derive(Debug, Parser)]
#[command(
    name = "reportctl",
    version,
    long_version = LONG_VERSION,
    propagate_version = true,
    after_long_help = EXIT_CODES
)]
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

    /// Run one report now, for an explicit period or its latest scheduled window.
    ///
    /// --from and --to are report-zone dates (both included) or RFC 3339 instants; at
    /// most max_range_days. Without them, the window of the report's latest slot at or
    /// before --now. The files are delivered to the report's destinations and the run is
    /// recorded in the ledger, unless --output or --no-deliver make it a local run (not
    /// recorded).
    Run(RunArgs),

    /// Run every report slot that is due: the command for cron.
    ///
    /// Finds each slot due at or before --now that has no completed run (since the
    /// report was first seen, or since `start` with backfill = true), claims it in the
    /// ledger so that overlapping invocations never run a slot twice, generates the files
    /// and delivers them. Failed deliveries are retried by later calls, up to
    /// max_attempts, without regenerating files that were delivered elsewhere. Meant for
    /// `*/5 * * * * reportctl run-due`. Quiet when everything succeeded.
    RunDue(RunDueArgs),

    /// Show recent runs, newest first.
    History(HistoryArgs),

    /// Show one run: status, window, files, deliveries and links.
    Status {
        /// The run's token (from history, run-due --json or plan's {token}).
        token: String,
    },

    /// Cancel a queued run. Runs that started or ended cannot be cancelled.
    Cancel {
        /// The run's token.
        token: String,
    },

    /// Deliver a report's latest window now, as a test (at most once a minute).
    ///
    /// Generates the window of the report's latest slot at or before --now and delivers
    /// it to all its destinations, recorded in the ledger as a test run. Limited to one
    /// call per report per minute: a call within a minute of the last one exits 75 and
    /// says when to retry.
    SendTest(SendTestArgs),

    /// List the configured destinations, by type and id.
    Destinations,

    /// Serve the pickup API: report listings with download links, and dated zips to apps.
    ///
    /// Serves the files that pickup destinations keep, over HTTP/1.1: GET /reports and
    /// GET /reports/{id} (API key) list the reports that have a pickup destination, each
    /// with a links array of {type, url, expires}; the URLs are signed and work for
    /// link_minutes. GET /campaign_reports/rest_api/{app_id}/{filename} serves dated
    /// zips to apps (Basic auth and a Signature header). Configured by the [serve] table.
    /// Logs one line per request on stderr (never a secret, never a query string; -q for
    /// none). Runs until SIGTERM or SIGINT, then lets requests in flight finish and exits
    /// 0; exits 1 when it cannot listen, 2 for a configuration error.
    Serve(ServeArgs),

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

    /// How many runs to show per report, 1 to 10000.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub count: usize,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The report to run.
    #[arg(value_name = "REPORT")]
    pub report: String,

    /// First day (report-zone date, included) or instant (RFC 3339) of the period.
    #[arg(long, value_name = "DATE|TIME", requires = "to")]
    pub from: Option<String>,

    /// Last day (report-zone date, included) or end instant (RFC 3339, excluded).
    #[arg(long, value_name = "DATE|TIME", requires = "from")]
    pub to: Option<String>,

    /// Write the files into DIR instead of delivering them; `-` writes the CSV to stdout.
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,

    /// Generate the files into the spool and report them, without delivering.
    #[arg(long, conflicts_with = "output")]
    pub no_deliver: bool,

    /// The instant the run is for (RFC 3339); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct RunDueArgs {
    /// Act as if it were this instant (RFC 3339); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,

    /// Show what would run, record nothing and run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen on this IP address and port instead of [serve] listen; port 0 takes a free
    /// port (the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this report's runs.
    #[arg(value_name = "REPORT")]
    pub report: Option<String>,

    /// Show at most this many runs.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// The report to test.
    #[arg(value_name = "REPORT")]
    pub report: String,

    /// Take the latest slot at or before this instant (RFC 3339); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub now: Option<DateTime<Utc>>,
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
