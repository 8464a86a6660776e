//! reportctl: a command-line report scheduler and generator.
//!
//! The pipeline, stage by stage, each its own module:
//! `config` (TOML definitions) → `schedule` (due runs and their windows; pure) →
//! `source` (rows for the window) → `render` (CSV files) → `deliver` (directory, email,
//! SFTP, S3, pickup, webhook, Slack, Teams) → `ledger` (runs, receipts, claims). `engine` drives the stages for each
//! run (due slots, claims and leases, the spool, notify mails); `commands` parse, call
//! the engine and print.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod deliver;
pub mod engine;
pub mod exit;
pub mod fsutil;
pub mod halves;
pub mod ledger;
pub mod metrics;
pub mod pgconn;
pub mod pickup;
pub mod progress;
pub mod redact;
pub mod render;
pub mod runtime;
pub mod schedule;
pub mod serve;
pub mod source;
pub mod starter;
pub mod structured;
pub mod template;
pub mod ui;

use std::process::ExitCode;

use clap::Parser;

/// The whole program: parse the command line, run the command, report one error.
pub fn main() -> ExitCode {
    no_huge_pages();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version on stdout (exit 0) and usage errors on stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(usage_exit_code(&e))
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    ui::init(cli.verbose, cli.quiet);
    match commands::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => ExitCode::from(exit::report(&err)),
    }
}

/// The exit code of a usage error clap found: 2, but 3 (UNKNOWN) for `check`, which
/// follows the monitoring plugin convention where 2 means CRITICAL.
fn usage_exit_code(e: &clap::Error) -> u8 {
    let matches = <cli::Cli as clap::CommandFactory>::command()
        .ignore_errors(true)
        .try_get_matches();
    match matches.as_ref().map(|m| m.subcommand_name()) {
        Ok(Some("check")) => {
            // A monitoring system reads the status line on stdout.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("");
            println!(
                "REPORTCTL UNKNOWN - usage: {}",
                first.strip_prefix("error: ").unwrap_or(first)
            );
            commands::CHECK_UNKNOWN
        }
        _ => exit::USAGE,
    }
}

/// Transparent huge pages off for this process, whatever the system's setting: memory
/// then grows by 4 KiB pages, not 2 MiB ones, so that what a run holds stays what it
/// needs (the allocator is built not to ask for them either; see `main.rs`).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of this
    // process; an error (an old kernel) leaves things as they were.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
