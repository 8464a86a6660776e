//! The integration tests, in one crate (one link of the dependency tree): one module per
//! area, the shared helpers in `common`. They run the real `reportctl` binary.
//!
//! Tests that need a real server (sshd, SMTP, S3, PostgreSQL) or a program that a fresh
//! clone does not have (`sqlite3`, `psql`, `python3`) are `#[ignore]`d with the reason:
//! plain `cargo test` runs everything else. `scripts/test` starts the servers and runs
//! them all (`--include-ignored`); there a missing server fails the test loudly.

mod common;

mod architecture;
mod check;
mod cli;
mod command_source;
mod config_dir;
mod deliver_email;
mod deliver_s3;
mod deliver_sftp;
mod deliver_slack;
mod deliver_teams;
mod deliver_webhook;
mod docs;
mod fanout;
mod files;
mod formats;
mod init;
mod ledger;
mod man;
mod metrics;
mod multihost;
mod output;
mod packaging;
mod parallel;
mod parallel_servers;
mod parquet;
mod pause;
mod pings;
mod postgres_ledger;
mod postgres_source;
mod preview;
mod promises_io;
mod promises_kill;
mod promises_runs;
mod recipients;
mod recipients_servers;
mod regress_cmd;
mod regress_config;
mod regress_ledger;
mod regress_perf;
mod regress_spool;
mod retention;
mod retry;
mod run_due;
mod schema;
mod secrets;
mod send_if;
mod send_test;
mod serve;
mod serve_stall;
mod structured;
mod structured_pg;
mod time_formats;
mod validate_sql;
mod windows;
