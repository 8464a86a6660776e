//! The arguments of each subcommand (their doc comments are the options' `--help`).

use clap::Args;

use super::now::{parse_now, Now};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Open no source: no SQLite database file and no PostgreSQL server. Queries are
    /// still judged from their text (one statement that only reads); whether their
    /// tables, columns and parameters exist is not checked.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many reports.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,

    /// Skip this many reports first.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: usize,

    /// The instant "next run" is counted from; default: now. An RFC 3339 instant, a
    /// local date (its midnight) or a local date-time such as 2026-11-30T07:00, read in
    /// the settings' time zone.
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<Now>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Reports to plan, by name; default: all active reports.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<String>,

    /// Plan from this instant; default: now. An RFC 3339 instant (e.g.
    /// 2026-11-25T06:00:00-05:00), a local date (2026-11-25, its midnight) or a local
    /// date-time (2026-11-25T07:00), read in the settings' time zone.
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<Now>,

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

    /// Write the files into DIR instead of delivering them; `-` writes the report's one
    /// file to stdout (CSV or JSON Lines; xlsx only when stdout is redirected).
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,

    /// Generate the files into the spool and report them, without delivering.
    #[arg(long, conflicts_with = "output")]
    pub no_deliver: bool,

    /// Deliver even when the report's condition is false or its files hold no rows
    /// with send_empty = false.
    #[arg(long)]
    pub force: bool,
    /// For a report with [reports.recipients]: the recipient to run, by its key (its
    /// columns are bound as parameters and fill {recipient.COLUMN}). Required for such
    /// a report.
    #[arg(long, value_name = "KEY")]
    pub recipient: Option<String>,

    /// The instant the run is for; default: now. An RFC 3339 instant, a local date (its
    /// midnight) or a local date-time such as 2026-11-30T07:00, read in the settings'
    /// time zone.
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<Now>,
}

#[derive(Debug, Args)]
pub struct RunDueArgs {
    /// Act as if it were this instant; default: now. An RFC 3339 instant, a local date
    /// (its midnight) or a local date-time such as 2026-11-30T07:00, read in the
    /// settings' time zone.
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<Now>,

    /// Show what would run, record nothing and run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Execute at most N claimed runs at once (default: [settings] max_parallel, 4);
    /// 1 runs them one after another.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_parallel: Option<u16>,
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
pub struct CheckArgs {
    /// Reports to check, by name; default: all.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<String>,

    /// Minutes after its time a slot may still be unfinished before it is late;
    /// default: [settings] check_grace_minutes (30).
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=10_080))]
    pub grace: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ResendArgs {
    /// The completed run's token, or its first characters (at least 4) when no other
    /// run's token starts with them.
    pub token: String,

    /// Deliver to this destination only (one of the report's).
    #[arg(long, value_name = "NAME")]
    pub destination: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("database").required(true).args(["sqlite", "postgres"])))]
pub struct InitArgs {
    /// A SQLite database file.
    #[arg(long, value_name = "PATH")]
    pub sqlite: Option<String>,

    /// A PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,

    /// The table the report reads (`table` or `schema.table`); default: the first one
    /// with a time column.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,

    /// The column whose time decides which rows a run covers; default: the table's
    /// first date or time column.
    #[arg(long, value_name = "NAME")]
    pub time_column: Option<String>,

    /// The zone schedules are read in (IANA name); default: this machine's.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendTestArgs {
    /// The report to test.
    #[arg(value_name = "REPORT")]
    pub report: String,

    /// Deliver even when the report's condition is false or its files hold no rows
    /// with send_empty = false.
    #[arg(long)]
    pub force: bool,
    /// For a report with [reports.recipients]: the recipient to test, by its key;
    /// default: the first recipient of the window.
    #[arg(long, value_name = "KEY")]
    pub recipient: Option<String>,

    /// Take the latest slot at or before this instant; default: now. An RFC 3339
    /// instant, a local date (its midnight) or a local date-time such as
    /// 2026-11-30T07:00, read in the settings' time zone.
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<Now>,
}
