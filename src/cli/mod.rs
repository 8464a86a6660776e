//! The command line: clap definitions whose doc comments are the `--help` text and the
//! man pages (see `man`).

mod args;
pub mod man;
mod now;

pub use args::*;
pub use now::{now_or_clock, parse_now, Now};

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit status:
  0   success, or nothing was due
  1   a run or a delivery failed (details on stderr and in `history`)
  2   usage or configuration error (the message names the file, line and key)
  3   `check` only: UNKNOWN (see `reportctl check --help`)
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

/// Schedule, generate and deliver recurring reports (CSV, Excel, Parquet, JSON Lines), exactly once.
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
    /// The configuration file, or a directory whose *.toml files (in name order) make
    /// the configuration together.
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
    /// allowed, with a "did you mean" for misspelt keys, values and names. Also checks
    /// what runs will need: that secrets can be read from their environment variables or
    /// files, that referenced files exist, and that each report's query is one statement
    /// that only reads and prepares on its source (unknown tables, columns and
    /// parameters): SQLite on a read-only connection, PostgreSQL in a read-only
    /// transaction that is rolled back, never executed. Queries of command sources are not
    /// checked (-v says so). Silent and exit 0 when all is well.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),

    /// List the reports: status, next run, last run (time and status), schedule in words.
    List(ListArgs),

    /// Show the next runs of reports and the period each covers.
    ///
    /// For each report, the next COUNT runs at or after --now, merged in time order.
    /// With --json, one object per line:
    /// {"report":…,"run_at":…,"from":…,"to":…,"files":[…],"recipient":…}, times in RFC
    /// 3339 with the report zone's offset, `to` exclusive. This output is a stable
    /// interface. A report with listed recipients has one line per run and recipient
    /// (`recipient` is its key, else null); `--count` counts runs of the schedule.
    Plan(PlanArgs),

    /// Run one report now, for an explicit period or its latest scheduled window.
    ///
    /// --from and --to are report-zone dates (both included) or RFC 3339 instants; at
    /// most max_range_days. Without them, the window of the report's latest slot at or
    /// before --now. The files are delivered to the report's destinations and the run is
    /// recorded in the ledger, unless --output or --no-deliver make it a local run (not
    /// recorded). A report's `condition` and `send_empty = false` apply to a recorded
    /// run as to a scheduled one (the run completes "not sent" and says so); --force
    /// delivers anyway. Local runs always write the files.
    /// A report with [reports.recipients] runs for one recipient, named by
    /// --recipient KEY (its key column), e.g.
    /// `reportctl run "Partner orders" --recipient p1 -o -`.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),

    /// Run every report slot that is due: the command for cron.
    ///
    /// Finds each slot due at or before --now that has no completed run (since the
    /// report was first seen, or since `start` with backfill = true), claims it in the
    /// ledger so that overlapping invocations never run a slot twice, generates the files
    /// and delivers them. Failed deliveries are retried by later calls, up to
    /// max_attempts, without regenerating files that were delivered elsewhere. Meant for
    /// `*/5 * * * * reportctl run-due`. Quiet when everything succeeded. With
    /// [settings] metrics_file, writes Prometheus metrics there after every call (for
    /// node_exporter's textfile collector). Runs up to --max-parallel claimed runs at
    /// once; each run's line is printed whole when it ends.
    #[command(after_help = RUN_DUE_EXAMPLES)]
    RunDue(RunDueArgs),

    /// Show recent runs, newest first.
    History(HistoryArgs),

    /// Show one run: status, window, files, deliveries and links.
    Status {
        /// The run's token (from history, run-due --json or plan's {token}), or its
        /// first characters (at least 4) when no other run's token starts with them.
        token: String,
    },

    /// Cancel a queued run. Runs that started or ended cannot be cancelled.
    Cancel {
        /// The run's token, or its first characters (at least 4) when no other run's
        /// token starts with them.
        token: String,
    },

    /// Deliver a report's latest window now, as a test (at most once a minute).
    ///
    /// Generates the window of the report's latest slot at or before --now and delivers
    /// it to all its destinations, recorded in the ledger as a test run: its file names
    /// start with TEST_ and its mail subjects with [TEST]. Limited to one test per report
    /// per minute by the machine's clock (not --now): a call within a minute of the last
    /// test exits 75 and says when to retry, without starting the minute again. A test
    /// that no destination accepted (a wrong port, a bad query) does not use up the
    /// minute. A report's `condition` and `send_empty = false` apply (the test completes
    /// "not sent" and says so); --force delivers anyway.
    #[command(after_help = SEND_TEST_EXAMPLES)]
    SendTest(SendTestArgs),

    /// List the configured destinations, by type and id.
    Destinations,

    /// Serve the pickup API: report listings with download links, and dated zips to apps.
    ///
    /// Serves the files that pickup destinations keep, over HTTP/1.1: GET /reports and
    /// GET /reports/{id} (API key) list the reports that have a pickup destination, each
    /// with a links array of {type, url, expires}; the URLs are signed and work for
    /// link_minutes. GET /campaign_reports/rest_api/{app_id}/{filename} serves dated
    /// zips to apps (Basic auth and a Signature header). GET /metrics (API key) answers
    /// Prometheus metrics, the same as run-due's metrics_file. Configured by the [serve]
    /// table.
    /// Logs one line per request on stderr (never a secret, never a query string; -q for
    /// none). Runs until SIGTERM or SIGINT, then lets requests in flight finish and exits
    /// 0; exits 1 when it cannot listen, 2 for a configuration error.
    Serve(ServeArgs),

    /// Write a starter configuration for your own database.
    ///
    /// Looks at the database (read-only), picks a table that has a time column (or the
    /// ones given), and writes the configuration file (--config, default reports.toml)
    /// with one daily report on that table at 07:00, delivered to the directory `out`,
    /// and commented email, SFTP and S3 blocks to fill in. Never overwrites a file. A
    /// password in the PostgreSQL URL is used to connect and never written: the file
    /// reads it from the environment variable REPORTCTL_DB_PASSWORD.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),

    /// Say whether every report's latest slots went well: for Nagios, Icinga or cron.
    ///
    /// One line per report that is fine (ok, or paused by status = "draft") and one per
    /// slot that needs a look: late (not completed --grace minutes after its time, or
    /// never taken by run-due), failing (failed, attempts left), given up, or skipped
    /// by catch-up. A given-up or skipped slot stays until a later slot of its report
    /// completes, or `retry` delivers it, or `ack` settles it. The first line is a
    /// monitoring plugin's status line (REPORTCTL OK|WARNING|CRITICAL|UNKNOWN - counts |
    /// performance data). Reads the ledger only, and a bounded part of it per report.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),

    /// Deliver a failed, given-up or skipped run now, to the destinations that lack it.
    ///
    /// One more attempt of the same run: the spooled files when intact, else generated
    /// again for the run's window; recorded in the ledger as an attempt and receipts.
    /// Exit 0 when every destination has it, 1 when a delivery failed again.
    #[command(after_help = RETRY_EXAMPLES)]
    Retry {
        /// The run's token, or its first characters (at least 4) when no other run's
        /// token starts with them.
        token: String,
    },

    /// Deliver a completed run again, on purpose (all destinations, or one).
    ///
    /// Recorded as a new run of kind `resend` naming the original (its `origin`); the
    /// original slot's exactly-once record is left as it was. The files are generated
    /// again for the original run's window. Exit 0 when delivered, 1 when a delivery
    /// failed.
    #[command(after_help = RESEND_EXAMPLES)]
    Resend(ResendArgs),

    /// Settle a given-up or skipped slot, so that `check` no longer reports it.
    ///
    /// For a slot you have dealt with otherwise (or decided not to send). A skipped slot
    /// is settled with the other slots the same catch-up skipped. Recorded in the ledger
    /// (`status TOKEN` shows it).
    Ack {
        /// The run's token, or its first characters (at least 4) when no other run's
        /// token starts with them.
        token: String,
    },

    /// Pause a report: set `status = "draft"` in the file that defines it.
    ///
    /// Only that line of the file changes (comments and layout are kept); the file is
    /// not written if it changed meanwhile (exit 1). Slots that fall while the report
    /// is paused are recorded as skipped (paused) and never sent: `resume` sends only
    /// the slots after it. Slots due before the pause are owed and sent on resume.
    #[command(after_help = PAUSE_EXAMPLES)]
    Pause {
        /// The report's name.
        report: String,
    },

    /// Resume a paused report: set `status = "active"` in the file that defines it.
    ///
    /// The slots that fell while it was paused are recorded as skipped (paused) and not
    /// sent; the next slot runs as usual. Only the status line changes; the file is not
    /// written if it changed meanwhile (exit 1).
    #[command(after_help = PAUSE_EXAMPLES)]
    Resume {
        /// The report's name.
        report: String,
    },

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

const VALIDATE_EXAMPLES: &str = "\
Examples:
  reportctl validate                 check everything, databases included
  reportctl validate --offline       on a machine that cannot reach the databases
  reportctl validate -v              also say which queries were not checked, and why
  reportctl validate --json          the errors and warnings as JSON";

const CHECK_HELP: &str = "\
Exit status (the Nagios/Icinga plugin convention):
  0   OK: every report ok or paused
  1   WARNING: a slot is late, or failing with attempts left
  2   CRITICAL: a slot was given up or skipped by catch-up
  3   UNKNOWN: check could not tell (usage or configuration error, unreadable ledger)

Examples:
  reportctl check
  reportctl check \"Daily Views\" --grace 60
  reportctl --json check";

const PAUSE_EXAMPLES: &str = "\
Examples:
  reportctl pause \"Daily sales\"      no more sends until resumed
  reportctl resume \"Daily sales\"     from the next slot on; none of the paused ones
  reportctl history \"Daily sales\"    the slots skipped while paused";

const RUN_DUE_EXAMPLES: &str = "\
Examples:
  reportctl run-due                    # from cron, every 5 minutes
  reportctl run-due --max-parallel 1   # one run after another
  reportctl run-due --dry-run --json   # what would run, recording nothing";

const RUN_EXAMPLES: &str = "\
Examples:
  reportctl run \"Daily Views\"
  reportctl run \"Daily Views\" --from 2026-11-01 --to 2026-11-30
  reportctl run \"Stock Alert\" --force      # deliver even if the condition is false
  reportctl run \"Daily Views\" --output -   # the CSV on stdout, nothing recorded";

const SEND_TEST_EXAMPLES: &str = "\
Examples:
  reportctl send-test \"Daily Views\"
  reportctl send-test \"Stock Alert\" --force  # send even if the condition is false";

const RETRY_EXAMPLES: &str = "\
Examples:
  reportctl retry 5760b598
  reportctl check     # the tokens of given-up slots";

const RESEND_EXAMPLES: &str = "\
Examples:
  reportctl resend 5760b598
  reportctl resend 5760b598 --destination finance-sftp";

const INIT_EXAMPLES: &str = "\
Examples:
  reportctl init --sqlite app.db
  reportctl init --sqlite app.db --table orders --time-column created_at
  reportctl --config /etc/reportctl/reportctl.toml init --postgres postgres://reports@db.example.com/shop";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
