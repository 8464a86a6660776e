//! Ledger retention through the binary: `run-due`'s housekeeping deletes runs older
//! than `keep_runs_days` with their files and receipts, and the ledger stays
//! consistent: `history`, `check`, `list` and `run-due` still right, nothing due again.

use std::path::Path;

use crate::common::{self, run_at, tempdir, write};

fn workspace(keep: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "data.sql",
        "create table t(n integer);\ninsert into t values (1);\n",
    );
    let config = common::daily_config(
        keep,
        "SELECT n FROM t",
        "frequency = \"daily\"\nat = \"06:00\"",
    );
    write(dir.path(), "reports.toml", &config);
    dir
}

fn day(d: u32) -> String {
    format!("2026-11-{d:02}T07:00:00Z")
}

/// `run-due` at 07:00 on days `days`, each completing that day's slot.
fn run_days(d: &Path, days: std::ops::RangeInclusive<u32>) {
    for n in days {
        let out = run_at(d, &day(n), &["run-due"]);
        assert_eq!(out.code, 0, "day {n}: {out:?}");
    }
}

fn history(d: &Path, wall: &str) -> Vec<serde_json::Value> {
    let out = run_at(d, wall, &["history", "Daily", "--limit", "100", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    crate::common::json_lines(&out.stdout)
}

#[test]
fn old_runs_are_pruned_and_the_ledger_stays_consistent() {
    // Ten days, and the directory keeps its files seven: runs older than ten days go.
    let dir = workspace("keep_runs_days = 10");
    let d = dir.path();
    run_at(d, "2026-11-01T00:00:00Z", &["run-due"]);
    run_days(d, 1..=10);
    let first = history(d, &day(10));
    assert_eq!(first.len(), 10, "none older than ten days");
    let oldest = first[9]["token"].as_str().unwrap().to_string();
    let status = run_at(d, &day(10), &["status", &oldest]);
    assert_eq!(status.code, 0, "{status:?}");
    run_days(d, 11..=16);
    let runs = history(d, &day(16));
    let slots: Vec<&str> = runs.iter().map(|r| r["run_at"].as_str().unwrap()).collect();
    assert_eq!(runs.len(), 11, "{slots:?}");
    assert_eq!(slots.last(), Some(&"2026-11-06T06:00:00+00:00"));
    // Nothing is due again: a dry run plans nothing, a run-due runs nothing.
    let dry = run_at(d, &day(16), &["run-due", "--dry-run"]);
    assert_eq!((dry.code, dry.stdout.as_str()), (0, ""), "{dry:?}");
    run_at(d, &day(16), &["run-due"]);
    assert_eq!(history(d, &day(16)).len(), 11);
    let check = run_at(d, &day(16), &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(check.stdout.contains("latest slot completed"), "{check:?}");
    let list = run_at(d, &day(16), &["list", "--json"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert!(
        list.stdout.contains("2026-11-17T06:00:00"),
        "next slot: {list:?}"
    );
    // A pruned run is gone, with its files and receipts.
    let gone = run_at(d, &day(16), &["status", &oldest]);
    assert_ne!(gone.code, 0, "{gone:?}");
}

#[test]
fn keep_runs_days_0_keeps_every_run() {
    let dir = workspace("keep_runs_days = 0");
    let d = dir.path();
    run_at(d, "2026-11-01T00:00:00Z", &["run-due"]);
    run_days(d, 1..=3);
    run_at(
        d,
        "2028-01-01T00:00:00Z",
        &["run-due", "--now", "2026-11-03T08:00:00Z"],
    );
    assert_eq!(history(d, "2028-01-01T00:00:00Z").len(), 3);
}
