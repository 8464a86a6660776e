//! The engine in process, on the in-memory ledger: what `due` owes, how the runner
//! ends a run (delivered, or failed with the doubling retry time), and a lease that
//! finds its run taken over. Time is injected (`now`, `wall`); nothing waits for a clock.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::due::{self, Due};
use super::gate::Gates;
use super::lease::LeaseKeeper;
use super::runner::Runner;
use super::token::slot_token;
use crate::config::{self, Config};
use crate::ledger::sqlite::SqliteStore;
use crate::ledger::{Claim, Ledger, ReceiptStatus, RunRecord, RunStatus};
use crate::progress::Progress;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// An hourly report of a SQLite table into a directory destination; `settings` and
/// `report` are extra lines of those tables.
fn config(dir: &Path, settings: &str, report: &str) -> Config {
    let text = config_text(dir, settings, report);
    config::load_str(&dir.join("reports.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// The text of `config`, its database made in `dir`.
fn config_text(dir: &Path, settings: &str, report: &str) -> String {
    let conn = rusqlite::Connection::open(dir.join("events.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE events (event_time TEXT NOT NULL, kind TEXT NOT NULL);
         INSERT INTO events VALUES ('2026-11-02T00:10:00Z', 'view'),
                                   ('2026-11-02T00:20:00Z', 'click'),
                                   ('2026-11-02T01:30:00Z', 'view');",
    )
    .unwrap();
    format!(
        r#"[settings]
timezone = "UTC"
{settings}

[sources.db]
kind = "sqlite"
path = "events.db"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Hourly Events"
type = "EVENTS"
source = "db"
destinations = ["out"]
{report}
query = """
SELECT kind, count(*) AS events FROM events
WHERE event_time >= :from AND event_time < :to GROUP BY kind ORDER BY kind
"""
[reports.schedule]
frequency = "hourly"
"#
    )
}

fn memory() -> Ledger {
    Box::new(SqliteStore::memory().unwrap())
}

fn collect(config: &Config, ledger: &mut Ledger, now: &str) -> Due {
    let report = &config.reports[0];
    due::collect(
        config,
        report,
        ledger,
        t(now),
        t("2026-11-30T00:00:00Z"),
        Some(&super::gate::Gates::none()),
    )
    .unwrap()
}

/// Claims the run `token` at `now` and executes it.
fn execute(config: &Config, ledger: &mut Ledger, token: &str, now: &str) -> RunRecord {
    let claim = Claim::new(config.settings.lease);
    let wall = t("2026-11-30T00:00:00Z");
    let run = ledger.claim(token, &claim, t(now), wall).unwrap().unwrap();
    let mut runner = Runner {
        config,
        ledger,
        claim: &claim,
        now: t(now),
        progress: &Progress::disabled(),
        only: None,
        gates: &Gates::none(),
    };
    runner.execute(&config.reports[0], run).unwrap()
}

#[test]
fn due_owes_the_slots_since_first_sight_oldest_first_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", "");
    let mut ledger = memory();
    let first = collect(&config, &mut ledger, "2026-11-02T00:30:00Z");
    assert!(first.pending.is_empty(), "first sight: nothing due yet");
    let due = collect(&config, &mut ledger, "2026-11-02T03:00:00Z");
    let tokens: Vec<&str> = due.pending.iter().map(|r| r.token.as_str()).collect();
    let slot = |s| slot_token("Hourly Events", t(s));
    assert_eq!(
        tokens,
        [
            slot("2026-11-02T01:00:00Z"),
            slot("2026-11-02T02:00:00Z"),
            slot("2026-11-02T03:00:00Z")
        ]
    );
    assert_eq!(due.pending[0].window_from, t("2026-11-02T00:00:00Z"));
    assert_eq!(due.pending[0].window_to, t("2026-11-02T01:00:00Z"));
    assert!(due.skipped.is_empty() && due.given_up.is_empty());
    // Recorded once: asked again, the same runs are owed, no new ones.
    let again = collect(&config, &mut ledger, "2026-11-02T03:00:00Z");
    assert_eq!(again.pending.len(), 3);
}

#[test]
fn due_skips_what_is_beyond_catch_up_and_says_how_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "catch_up = 2", "");
    let mut ledger = memory();
    collect(&config, &mut ledger, "2026-11-02T00:30:00Z");
    let due = collect(&config, &mut ledger, "2026-11-02T05:00:00Z");
    assert_eq!(due.pending.len(), 2);
    assert_eq!(due.pending[0].run_at, t("2026-11-02T04:00:00Z"));
    assert_eq!(due.skipped.len(), 3);
    assert_eq!(due.skipped[0].status, RunStatus::Skipped);
    assert_eq!(
        due.skipped[0].detail,
        "missed: 5 slots were due at once and catch_up = 2; run it by hand with: reportctl run \"Hourly Events\" --from 2026-11-02T00:00:00+00:00 --to 2026-11-02T01:00:00+00:00"
    );
}

#[test]
fn the_runner_renders_delivers_and_records_a_completed_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", "");
    let mut ledger = memory();
    collect(&config, &mut ledger, "2026-11-02T00:30:00Z");
    let due = collect(&config, &mut ledger, "2026-11-02T01:00:00Z");
    let token = due.pending[0].token.clone();
    let done = execute(&config, &mut ledger, &token, "2026-11-02T01:00:00Z");
    assert_eq!(done.status, RunStatus::Completed, "{}", done.detail);
    assert_eq!(done.files.len(), 1);
    assert_eq!(done.files[0].rows, 2);
    let receipts: Vec<_> = done
        .receipts
        .iter()
        .map(|r| (r.destination.as_str(), r.status))
        .collect();
    assert_eq!(receipts, [("out", ReceiptStatus::Delivered)]);
    let delivered = dir.path().join("out").join(&done.files[0].name);
    assert_eq!(
        std::fs::read_to_string(delivered).unwrap(),
        "kind,events\nclick,1\nview,1\n"
    );
    assert!(
        !super::spool::dir(&config, &token).exists(),
        "a completed run's spool directory goes"
    );
}

#[test]
fn a_failed_delivery_is_retried_after_a_doubling_delay_until_attempts_run_out() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "retry_delay_seconds = 60", "max_attempts = 3");
    // The destination's path is a file: every delivery fails.
    std::fs::write(dir.path().join("out"), "not a directory").unwrap();
    let mut ledger = memory();
    collect(&config, &mut ledger, "2026-11-02T00:30:00Z");
    let due = collect(&config, &mut ledger, "2026-11-02T01:00:00Z");
    let token = due.pending[0].token.clone();
    let mut tries = Vec::new();
    for now in [
        "2026-11-02T01:00:00Z",
        "2026-11-02T01:01:00Z",
        "2026-11-02T01:03:00Z",
    ] {
        let owed = collect(&config, &mut ledger, now);
        assert_eq!(owed.pending.len(), 1, "at {now}");
        let done = execute(&config, &mut ledger, &token, now);
        assert_eq!(done.status, RunStatus::Failed);
        tries.push((done.attempts, done.next_attempt_at));
    }
    assert_eq!(
        tries,
        [
            (1, Some(t("2026-11-02T01:01:00Z"))),
            (2, Some(t("2026-11-02T01:03:00Z"))),
            (3, None),
        ]
    );
    let last = ledger.get(&token).unwrap().unwrap();
    assert!(
        last.detail.ends_with("(gave up after 3 attempts)"),
        "{}",
        last.detail
    );
    let later = collect(&config, &mut ledger, "2026-11-03T00:00:00Z");
    assert!(
        later.pending.iter().all(|r| r.token != token),
        "no attempt left"
    );
}

#[test]
fn a_lease_whose_run_was_taken_over_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", "");
    // The keeper renews through its own connection to the configured (file) ledger,
    // where no run is held by this claim: its first renewal finds the run gone.
    let claim = Claim::new(std::time::Duration::from_millis(300));
    let keeper = LeaseKeeper::start(&config, "0123456789abcdef", &claim);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !keeper.lost() {
        assert!(
            std::time::Instant::now() < deadline,
            "the lease was never found lost"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A recipients query is a query of its source: with `max_concurrent_queries = 1` it
/// waits while another query of that source holds the gate, then reads the recipients.
#[test]
fn a_recipients_query_waits_at_its_source_s_gate() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(dir.path(), "", "").replace(
        "path = \"events.db\"",
        "path = \"events.db\"\nmax_concurrent_queries = 1",
    ) + "[reports.recipients]\nkey = \"kind\"\nquery = \"SELECT DISTINCT kind FROM events ORDER BY kind\"\n";
    let config =
        config::load_str(&dir.path().join("reports.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let report = &config.reports[0];
    let window = crate::schedule::Window::in_zone(
        t("2026-11-02T00:00:00Z"),
        t("2026-11-02T01:00:00Z"),
        report.timezone,
    );
    let gates = Gates::new(&config);
    let held = gates.source("db").expect("db has a gate");
    std::thread::scope(|s| {
        let reading = s.spawn(|| super::recipients::of_slot(&config, report, &window, &gates));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !reading.is_finished(),
            "the query waits while the gate is held"
        );
        drop(held);
        let list = reading.join().unwrap().unwrap().unwrap();
        let keys: Vec<_> = list.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["click", "view"]);
    });
}
