//! Shared helpers for the integration tests: run the real `reportctl` binary in a
//! temporary directory and capture what it prints.

pub mod fixtures;
pub mod ledger_suite;
pub mod pg;
pub mod pickup_serve;
pub mod receiver;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reportctl"))
}

/// A `reportctl` command run in `dir`, with a predictable environment.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .args(args)
        .env_remove("REPORTCTL_CONFIG")
        .env_remove("REPORTCTL_TEST_WALL_CLOCK")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1");
    c
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    output(command(dir, args))
}

/// `reportctl args` in `dir` with its wall clock (claims, leases, the send-test limit)
/// standing still at `wall` (RFC 3339): see `src/clock.rs`.
pub fn command_at(dir: &Path, wall: &str, args: &[&str]) -> Command {
    let mut c = command(dir, args);
    c.env("REPORTCTL_TEST_WALL_CLOCK", wall);
    c
}

/// `run` with the wall clock standing still at `wall`.
pub fn run_at(dir: &Path, wall: &str, args: &[&str]) -> Output {
    output(command_at(dir, wall, args))
}

pub fn output(mut command: Command) -> Output {
    let out = command.output().expect("run reportctl");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// `text` (a command's `--json` output) as one JSON value per line.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("reportctl-test-")
        .tempdir()
        .unwrap()
}

/// A configuration with one report "Daily" (type `D`) running `query` on the SQLite
/// source `db` (made fresh each run from `data.sql`) and delivered to the directory
/// `out`; `settings` go into `[settings]` (zone UTC), `schedule` into the report's.
pub fn daily_config(settings: &str, query: &str, schedule: &str) -> String {
    format!(
        r#"[settings]
timezone = "UTC"
{settings}

[sources.db]
kind = "sqlite"
init = ["data.sql"]

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Daily"
type = "D"
source = "db"
destinations = ["out"]
query = """{query}"""
[reports.schedule]
{schedule}
"#
    )
}
