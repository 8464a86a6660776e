//! The run engine's promises, through the binary on a real temporary configuration,
//! time given with `--now`: a retry delivers the spooled files (not what the data has
//! become since, and not a spooled file altered on disk), failed runs are retried after
//! a doubling delay capped at a day until `max_attempts` runs out, one-time reports run
//! once, a directory destination keeps delivered files `keep_days`, and slots beyond
//! `catch_up` are skipped loudly.
//!
//! Deliveries fail without any server: the directory destination's path is a regular
//! file until the test removes it.

use std::path::Path;

use crate::common::{self, run, tempdir, write, Output};

/// A config with one report "Daily" (`SELECT n FROM t`, type `D`) delivered to the
/// directory `out`; `settings` go into `[settings]`, `schedule` into its schedule.
fn config(settings: &str, schedule: &str) -> String {
    common::daily_config(settings, "SELECT n FROM t ORDER BY n", schedule)
}

const DAILY: &str = "frequency = \"daily\"\nat = \"06:00\"";
/// A one-time report at 2026-11-02 06:00 covering 2026-11-01.
const ONCE: &str = "once = 2026-11-02T06:00:00\nfrom = 2026-11-01\nto = 2026-11-01";

/// Replaces the source table's rows with `rows` (the source runs `data.sql` each time).
fn data(dir: &Path, rows: &[i64]) {
    let values: Vec<String> = rows.iter().map(|n| format!("({n})")).collect();
    let mut sql = String::from("create table t(n integer);\n");
    if !values.is_empty() {
        sql.push_str(&format!("insert into t values {};\n", values.join(", ")));
    }
    write(dir, "data.sql", &sql);
}

fn workspace(settings: &str, schedule: &str) -> tempfile::TempDir {
    let dir = tempdir();
    data(dir.path(), &[1, 2]);
    write(dir.path(), "reports.toml", &config(settings, schedule));
    dir
}

/// Makes every delivery to `out` fail: its path is a regular file.
fn break_out(dir: &Path) {
    write(dir, "out", "not a directory\n");
}

fn fix_out(dir: &Path) {
    std::fs::remove_file(dir.join("out")).unwrap();
}

fn run_due(dir: &Path, now: &str) -> Output {
    run(dir, &["run-due", "--now", now])
}

/// `run-due` at `now` that has nothing to do and says nothing.
fn quiet(dir: &Path, now: &str) {
    let out = run_due(dir, now);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", ""),
        "at {now}: {out:?}"
    );
}

fn history(dir: &Path) -> Vec<serde_json::Value> {
    let out = run(dir, &["history", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    crate::common::json_lines(&out.stdout)
}

fn delivered(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("out").join(name)).unwrap()
}

/// The slot of 2026-11-02 06:00, daily or one-time (same report, same slot: same token).
const SLOT: &str = "Daily 2026-11-02T06:00:00+00:00 [5760b598a08f93b5]";
const TOKEN: &str = "5760b598a08f93b5";
/// The daily slot's file (its window is the day before the previous day) …
const DAILY_FILE: &str = "D_Daily_20261031_20261031.csv";
/// … and the one-time report's (it covers 2026-11-01).
const FILE: &str = "D_Daily_20261101_20261101.csv";
const FAILED: &str = "failed, 2 rows in 1 file: directory \"out\": creating directory out: File exists (os error 17)";

/// First sight before the slot, then the slot's first attempt, which fails.
fn first_attempt_fails(d: &Path) {
    quiet(d, "2026-11-02T00:00:00Z");
    break_out(d);
    let out = run_due(d, "2026-11-02T06:00:00Z");
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, format!("reportctl: error: {SLOT}: {FAILED} (attempt 1 of 5; next try at or after 2026-11-02T06:01:00Z)\n").as_str()),
        "{out:?}"
    );
}

// ---------------------------------------------------------------------------------
// Retries deliver from the spool

/// Data that changed between attempts does not change what the retry delivers: the
/// files spooled by the first attempt are delivered, as recorded.
#[test]
fn a_retry_delivers_the_spooled_files_not_the_changed_data() {
    let dir = workspace("", DAILY);
    let d = dir.path();
    first_attempt_fails(d);
    data(d, &[7, 8, 9]);
    fix_out(d);
    quiet(d, "2026-11-02T06:01:00Z");
    assert_eq!(delivered(d, DAILY_FILE), "n\n1\n2\n");
    let runs = history(d);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (
            &runs[0]["status"],
            &runs[0]["attempts"],
            &runs[0]["files"][0]["rows"]
        ),
        (&"completed".into(), &2.into(), &2.into())
    );
}

/// A spooled file altered on disk is not delivered: the retry generates it again
/// (from the data as it is now) and records the new file.
#[test]
fn a_spooled_file_altered_on_disk_is_generated_again() {
    let dir = workspace("", DAILY);
    let d = dir.path();
    first_attempt_fails(d);
    let spooled = d.join(".reportctl/spool").join(TOKEN).join(DAILY_FILE);
    assert_eq!(std::fs::read_to_string(&spooled).unwrap(), "n\n1\n2\n");
    // Same length, other bytes: only the hash can tell.
    std::fs::write(&spooled, "n\n6\n6\n").unwrap();
    data(d, &[3, 4, 5]);
    fix_out(d);
    quiet(d, "2026-11-02T06:01:00Z");
    assert_eq!(delivered(d, DAILY_FILE), "n\n3\n4\n5\n");
    let runs = history(d);
    assert_eq!(
        (&runs[0]["status"], &runs[0]["files"][0]["rows"]),
        (&"completed".into(), &3.into())
    );
}

/// A spooled file removed from disk is generated again too.
#[test]
fn a_spooled_file_removed_from_disk_is_generated_again() {
    let dir = workspace("", DAILY);
    let d = dir.path();
    first_attempt_fails(d);
    std::fs::remove_file(d.join(".reportctl/spool").join(TOKEN).join(DAILY_FILE)).unwrap();
    data(d, &[5]);
    fix_out(d);
    quiet(d, "2026-11-02T06:01:00Z");
    assert_eq!(delivered(d, DAILY_FILE), "n\n5\n");
}

// ---------------------------------------------------------------------------------
// Backoff and max_attempts through run-due

/// Retries wait `retry_delay_seconds`, doubling with each attempt: never earlier (one
/// second before the retry time nothing runs), exactly at the time.
#[test]
fn retries_wait_a_doubling_delay() {
    let dir = workspace("retry_delay_seconds = 60\nmax_attempts = 4", ONCE);
    let d = dir.path();
    quiet(d, "2026-11-02T00:00:00Z");
    break_out(d);
    // (retry time, attempt made then, the next retry time it announces)
    let attempts = [
        ("2026-11-02T06:00:00Z", 1, "2026-11-02T06:01:00Z"),
        ("2026-11-02T06:01:00Z", 2, "2026-11-02T06:03:00Z"),
        ("2026-11-02T06:03:00Z", 3, "2026-11-02T06:07:00Z"),
    ];
    let mut before = "2026-11-02T05:59:59Z".to_string();
    for (at, n, next) in attempts {
        quiet(d, &before);
        let out = run_due(d, at);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (1, format!("reportctl: error: {SLOT}: {FAILED} (attempt {n} of 4; next try at or after {next})\n").as_str()),
            "at {at}: {out:?}"
        );
        let runs = history(d);
        assert_eq!(runs.len(), 1, "one slot, retried");
        assert_eq!(
            (&runs[0]["attempts"], &runs[0]["next_attempt_at"]),
            (&n.into(), &next.into())
        );
        let t = chrono::DateTime::parse_from_rfc3339(next).unwrap() - chrono::Duration::seconds(1);
        before = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
}

/// The doubling delay is capped at one day; when `max_attempts` is used up, run-due
/// gives the slot up: an error naming report and slot, exit 1, recorded failed, and
/// never tried again.
#[test]
fn the_delay_is_capped_at_a_day_and_attempts_run_out() {
    // 10 hours, 20 hours, then 24 (not 40).
    let dir = workspace("retry_delay_seconds = 36000\nmax_attempts = 4", ONCE);
    let d = dir.path();
    quiet(d, "2026-11-01T00:00:00Z");
    break_out(d);
    let attempts = [
        (
            "2026-11-02T05:59:59Z",
            "2026-11-02T06:00:00Z",
            "attempt 1 of 4; next try at or after 2026-11-02T16:00:00Z",
        ),
        (
            "2026-11-02T15:59:59Z",
            "2026-11-02T16:00:00Z",
            "attempt 2 of 4; next try at or after 2026-11-03T12:00:00Z",
        ),
        (
            "2026-11-03T11:59:59Z",
            "2026-11-03T12:00:00Z",
            "attempt 3 of 4; next try at or after 2026-11-04T12:00:00Z",
        ),
        (
            "2026-11-04T11:59:59Z",
            "2026-11-04T12:00:00Z",
            "gave up after 4 attempts",
        ),
    ];
    for (before, at, what) in attempts {
        quiet(d, before);
        let out = run_due(d, at);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                1,
                "",
                format!("reportctl: error: {SLOT}: {FAILED} ({what})\n").as_str()
            ),
            "at {at}: {out:?}"
        );
    }
    let runs = history(d);
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (
            &runs[0]["status"],
            &runs[0]["attempts"],
            &runs[0]["next_attempt_at"]
        ),
        (&"failed".into(), &4.into(), &serde_json::Value::Null)
    );
    // Given up: not tried again, even once the destination works.
    fix_out(d);
    quiet(d, "2026-11-09T12:00:00Z");
    assert!(!d.join("out").exists(), "nothing delivered after giving up");
    assert_eq!(history(d)[0]["attempts"], 4);
}

// ---------------------------------------------------------------------------------
// One-time reports

/// A one-time report runs at its time, once; later run-due calls never run it again.
#[test]
fn a_one_time_report_runs_once_at_its_time() {
    let dir = workspace("", ONCE);
    let d = dir.path();
    quiet(d, "2026-11-01T00:00:00Z");
    quiet(d, "2026-11-02T05:59:59Z");
    assert!(history(d).is_empty(), "not before its time");
    let out = run(d, &["--json", "run-due", "--now", "2026-11-02T06:00:00Z"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let ran: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (&ran["status"], &ran["run_at"], &ran["from"], &ran["to"]),
        (
            &"completed".into(),
            &"2026-11-02T06:00:00+00:00".into(),
            &"2026-11-01T00:00:00+00:00".into(),
            &"2026-11-02T00:00:00+00:00".into()
        )
    );
    assert_eq!(delivered(d, FILE), "n\n1\n2\n");
    for now in [
        "2026-11-02T06:00:00Z",
        "2026-11-03T06:00:00Z",
        "2026-11-29T06:00:00Z",
    ] {
        quiet(d, now);
    }
    assert_eq!(history(d).len(), 1, "run once, never again");
}

/// A one-time report first seen after its time runs at once, and once.
#[test]
fn a_one_time_report_first_seen_late_runs_once() {
    let dir = workspace("", ONCE);
    let d = dir.path();
    let out = run(d, &["--json", "run-due", "--now", "2026-11-05T00:00:00Z"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    quiet(d, "2026-11-05T00:00:00Z");
    quiet(d, "2026-11-06T00:00:00Z");
    assert_eq!(history(d).len(), 1);
    assert_eq!(delivered(d, FILE), "n\n1\n2\n");
}

// ---------------------------------------------------------------------------------
// keep_days pruning

/// A directory destination prunes a file it delivered once both its delivery (in the
/// ledger) and its modification time are more than `keep_days` old, measured by the
/// machine's clock when run-due tidies up (pruning does not follow `--now`). On the
/// boundary: one second older is pruned; one second newer, by either time, stays.
///
/// The second is measured from before the setup to after run-due returned: on a machine
/// too busy to run run-due within it, the scenario is run again (at most five times).
#[test]
fn keep_days_prunes_a_second_past_the_boundary_not_before() {
    const KEEP: i64 = 3 * 86_400;
    for _ in 0..5 {
        let dir = workspace("", DAILY);
        let d = dir.path();
        let toml = std::fs::read_to_string(d.join("reports.toml")).unwrap();
        write(
            d,
            "reports.toml",
            &toml.replace("path = \"out\"", "path = \"out\"\nkeep_days = 3"),
        );
        quiet(d, "2026-11-02T00:00:00Z");
        for now in [
            "2026-11-02T06:00:00Z",
            "2026-11-03T06:00:00Z",
            "2026-11-04T06:00:00Z",
        ] {
            quiet(d, now);
        }
        // (file, seconds since delivery, seconds since modification)
        let files = [
            ("D_Daily_20261031_20261031.csv", KEEP + 1, KEEP + 1),
            ("D_Daily_20261101_20261101.csv", KEEP + 1, KEEP - 1),
            ("D_Daily_20261102_20261102.csv", KEEP - 1, KEEP + 1),
        ];
        let start = std::time::Instant::now();
        let wall = chrono::Utc::now();
        let ledger = rusqlite::Connection::open(d.join(".reportctl/ledger.sqlite")).unwrap();
        for (name, delivered, modified) in files {
            let at = |secs: i64| wall - chrono::Duration::seconds(secs);
            let changed = ledger
                .execute(
                    "UPDATE receipts SET delivered_at = ?1
                     WHERE token IN (SELECT token FROM files WHERE name = ?2)",
                    [
                        at(delivered).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        name.to_string(),
                    ],
                )
                .unwrap();
            assert_eq!(changed, 1, "{name}");
            let mtime = filetime::FileTime::from_unix_time(
                at(modified).timestamp(),
                at(modified).timestamp_subsec_nanos(),
            );
            filetime::set_file_mtime(d.join("out").join(name), mtime).unwrap();
        }
        drop(ledger);
        // Nothing is due: run-due only tidies up.
        quiet(d, "2026-11-04T06:00:00Z");
        if start.elapsed() >= std::time::Duration::from_secs(1) {
            continue;
        }
        let mut left: Vec<String> = std::fs::read_dir(d.join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "D_Daily_20261101_20261101.csv",
                "D_Daily_20261102_20261102.csv"
            ]
        );
        return;
    }
    panic!("run-due never tidied up within a second of the setup");
}

// ---------------------------------------------------------------------------------
// catch_up

/// More slots due at once than `catch_up`: the latest run, the older ones are skipped
/// with an error each saying how to run it by hand, and run-due exits 1; skipped slots
/// are recorded and not run later.
#[test]
fn slots_beyond_catch_up_are_skipped_with_an_error() {
    let dir = workspace("catch_up = 2", DAILY);
    let d = dir.path();
    quiet(d, "2026-11-02T00:00:00Z");
    // Four daily slots (Nov 2 to 5) are due at once.
    let out = run(d, &["--json", "run-due", "--now", "2026-11-05T12:00:00Z"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, "reportctl: error: report \"Daily\": 2 missed slots from 2026-11-02T06:00:00+00:00 to 2026-11-03T06:00:00+00:00 skipped: more than catch_up = 2 slots were due at once; `reportctl history \"Daily\"` shows how to run each by hand\n"),
        "{out:?}"
    );
    let ran = crate::common::json_lines(&out.stdout);
    let got: Vec<(&str, &str)> = ran
        .iter()
        .map(|r| (r["run_at"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-11-04T06:00:00+00:00", "completed"),
            ("2026-11-05T06:00:00+00:00", "completed")
        ]
    );
    // The skipped slots are recorded, each with the command that runs it by hand.
    let runs = history(d);
    let skipped: Vec<(&str, &str)> = runs
        .iter()
        .filter(|r| r["status"] == "skipped")
        .map(|r| (r["run_at"].as_str().unwrap(), r["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("2026-11-03T06:00:00+00:00", "missed: 4 slots were due at once and catch_up = 2; run it by hand with: reportctl run \"Daily\" --from 2026-11-01T00:00:00+00:00 --to 2026-11-02T00:00:00+00:00"),
            ("2026-11-02T06:00:00+00:00", "missed: 4 slots were due at once and catch_up = 2; run it by hand with: reportctl run \"Daily\" --from 2026-10-31T00:00:00+00:00 --to 2026-11-01T00:00:00+00:00"),
        ]
    );
    // Not run later, and not reported again.
    quiet(d, "2026-11-05T12:00:00Z");
    quiet(d, "2026-11-05T13:00:00Z");
    assert_eq!(history(d).len(), 4);
    let mut out_files: Vec<String> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    out_files.sort();
    assert_eq!(
        out_files,
        [
            "D_Daily_20261102_20261102.csv",
            "D_Daily_20261103_20261103.csv"
        ]
    );
}
