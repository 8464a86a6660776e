//! Generate and record, through the binary: `run-due` across a week and a DST change,
//! overlapping cron invocations, a process killed mid-render, bad inputs, and the
//! commands around the ledger (`run`, `history`, `status`, `cancel`, `send-test`).

use crate::common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{run, run_at, tempdir, write};

/// A database with one event an hour from 2026-10-29T00:00Z for twelve days, every
/// third one a view and the others clicks.
fn hourly_events(dir: &Path) {
    let conn = rusqlite::Connection::open(dir.join("events.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE events (event_time TEXT NOT NULL, kind TEXT NOT NULL);
         WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i < 288)
         INSERT INTO events
         SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 1793232000 + i * 3600, 'unixepoch'),
                CASE WHEN i % 3 = 0 THEN 'view' ELSE 'click' END FROM h;",
    )
    .unwrap();
}

const DAILY: &str = r#"[settings]
timezone = "America/New_York"

[sources.db]
kind = "sqlite"
path = "events.db"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Daily Counts"
type = "COUNTS"
source = "db"
destinations = ["out"]
query = """
SELECT :from_local AS from_local, :to_local AS to_local, :to_date AS to_date,
       kind, count(*) AS events
FROM events WHERE event_time >= :from AND event_time < :to
GROUP BY kind ORDER BY kind
"""
[reports.schedule]
frequency = "daily"
at = "06:00"
"#;

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// run-due at a sequence of instants across New York's fall-back week: one file per
/// day, windows midnight to midnight (the 25-hour day holds 25 events), history to match.
#[test]
fn a_week_across_a_dst_change() {
    let dir = tempdir();
    let d = dir.path();
    hourly_events(d);
    write(d, "reports.toml", DAILY);
    for now in [
        "2026-10-29T00:00:00Z",
        "2026-10-30T12:00:00Z",
        "2026-10-30T12:05:00Z",
        "2026-11-01T12:00:00Z",
        "2026-11-03T12:00:00Z",
        "2026-11-04T12:00:00Z",
    ] {
        let out = run(d, &["run-due", "--now", now]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (0, "", ""),
            "at {now}: {out:?}"
        );
    }
    let out_dir = d.join("out");
    // First seen on Oct 28 at 20:00 New York time: the first slot is Oct 29 06:00,
    // covering Oct 27 (no data yet: a header only).
    assert_eq!(
        files(&out_dir),
        [
            "COUNTS_Daily Counts_20261027_20261027.csv",
            "COUNTS_Daily Counts_20261028_20261028.csv",
            "COUNTS_Daily Counts_20261029_20261029.csv",
            "COUNTS_Daily Counts_20261030_20261030.csv",
            "COUNTS_Daily Counts_20261031_20261031.csv",
            "COUNTS_Daily Counts_20261101_20261101.csv",
            "COUNTS_Daily Counts_20261102_20261102.csv",
        ]
    );
    assert_eq!(
        read(&out_dir, "COUNTS_Daily Counts_20261027_20261027.csv"),
        "from_local,to_local,to_date,kind,events\n"
    );
    assert_eq!(
        read(&out_dir, "COUNTS_Daily Counts_20261028_20261028.csv"),
        "from_local,to_local,to_date,kind,events\n\
         2026-10-28 00:00:00,2026-10-29 00:00:00,2026-10-28,click,2\n\
         2026-10-28 00:00:00,2026-10-29 00:00:00,2026-10-28,view,2\n"
    );
    assert_eq!(
        read(&out_dir, "COUNTS_Daily Counts_20261031_20261031.csv"),
        "from_local,to_local,to_date,kind,events\n\
         2026-10-31 00:00:00,2026-11-01 00:00:00,2026-10-31,click,16\n\
         2026-10-31 00:00:00,2026-11-01 00:00:00,2026-10-31,view,8\n"
    );
    // The fall-back day is 25 hours long, and covered whole.
    assert_eq!(
        read(&out_dir, "COUNTS_Daily Counts_20261101_20261101.csv"),
        "from_local,to_local,to_date,kind,events\n\
         2026-11-01 00:00:00,2026-11-02 00:00:00,2026-11-01,click,17\n\
         2026-11-01 00:00:00,2026-11-02 00:00:00,2026-11-01,view,8\n"
    );

    let out = run(d, &["history", "--json"]);
    let runs = crate::common::json_lines(&out.stdout);
    let got: Vec<(String, String, String, i64)> = runs
        .iter()
        .map(|r| {
            (
                r["run_at"].as_str().unwrap().to_string(),
                r["from"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["files"][0]["rows"].as_i64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("2026-11-04T06:00:00-05:00", "2026-11-02T00:00:00-05:00", 2),
        ("2026-11-03T06:00:00-05:00", "2026-11-01T00:00:00-04:00", 2),
        ("2026-11-02T06:00:00-05:00", "2026-10-31T00:00:00-04:00", 2),
        ("2026-11-01T06:00:00-05:00", "2026-10-30T00:00:00-04:00", 2),
        ("2026-10-31T06:00:00-04:00", "2026-10-29T00:00:00-04:00", 2),
        ("2026-10-30T06:00:00-04:00", "2026-10-28T00:00:00-04:00", 2),
        ("2026-10-29T06:00:00-04:00", "2026-10-27T00:00:00-04:00", 0),
    ];
    assert_eq!(got.len(), want.len(), "{}", out.stdout);
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.0.as_str(), g.1.as_str(), g.2.as_str(), g.3),
            (w.0, w.1, "completed", w.2)
        );
    }
    assert!(runs
        .iter()
        .all(|r| r["attempts"] == 1 && r["receipts"][0]["status"] == "delivered"));
    // Nothing more is due: a second call at the same instant does nothing.
    let out = run(d, &["run-due", "--now", "2026-11-04T12:00:00Z", "--json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

const HOURLY: &str = r#"[settings]
timezone = "UTC"
catch_up = 100

[sources.db]
kind = "sqlite"
path = "events.db"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Hourly"
type = "H"
source = "db"
destinations = ["out"]
date_format = "%Y%m%dT%H"
query = "SELECT kind, count(*) AS n FROM events WHERE event_time >= :from AND event_time < :to GROUP BY kind ORDER BY kind"
[reports.schedule]
frequency = "hourly"
backfill = true
start = 2026-11-01T00:00:00

[[reports]]
name = "Daily"
type = "D"
source = "db"
destinations = ["out"]
backfill = true
query = "SELECT count(*) AS n FROM events WHERE event_time >= :from AND event_time < :to"
[reports.schedule]
frequency = "daily"
start = 2026-11-01T00:00:00
"#;

/// Eight `run-due` processes started at once on one ledger: every due slot runs and is
/// delivered exactly once.
#[test]
fn overlapping_run_due_runs_each_slot_once() {
    let dir = tempdir();
    let d = dir.path();
    hourly_events(d);
    let cfg = HOURLY.replace(
        "frequency = \"hourly\"\nbackfill = true\n",
        "frequency = \"hourly\"\n",
    );
    let cfg = cfg.replace(
        "destinations = [\"out\"]\ndate_format",
        "destinations = [\"out\"]\nbackfill = true\ndate_format",
    );
    write(d, "reports.toml", &cfg);
    let now = "2026-11-03T00:30:00Z";
    let children: Vec<_> = (0..8)
        .map(|_| {
            common::command(d, &["run-due", "--now", now, "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut tokens = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["status"], "completed");
            tokens.push(v["token"].as_str().unwrap().to_string());
        }
    }
    // Hourly from Nov 1 00:00 to Nov 3 00:00 (49 slots) and daily Nov 1, 2 (2 slots).
    assert_eq!(tokens.len(), 51, "every slot ran once in all");
    let mut unique = tokens.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 51, "no slot ran twice");
    let out = run(d, &["history", "--json", "--limit", "1000"]);
    let runs = crate::common::json_lines(&out.stdout);
    assert_eq!(runs.len(), 51);
    for r in &runs {
        assert_eq!(
            (r["status"].as_str(), r["attempts"].as_i64()),
            (Some("completed"), Some(1)),
            "{r}"
        );
        assert_eq!(r["receipts"].as_array().unwrap().len(), 1);
        assert_eq!(r["receipts"][0]["attempts"], 1);
    }
    assert_eq!(files(&d.join("out")).len(), 51);
}

/// A run-due killed while rendering leaves nothing half-written in the destination; the
/// next run-due after the lease completes the slot, once. The wall clock stands still
/// (`run_at`), so "while the lease lasts" and "after it" do not race the machine.
#[test]
fn killed_mid_render_is_completed_once_after_the_lease() {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "reports.toml",
        r#"[settings]
timezone = "UTC"
lease_seconds = 60

[sources.gen]
kind = "sqlite"
init = ["empty.sql"]

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Big"
type = "BIG"
source = "gen"
destinations = ["out"]
query = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)
SELECT i, printf('row %08d of a large report', i) AS text, i * 0.5 AS half FROM n
"""
[reports.schedule]
frequency = "daily"
"#,
    );
    write(d, "empty.sql", "SELECT 1;");
    let now = "2026-11-03T12:00:00Z";
    // First sight of the report, then the day its slot is due.
    assert_eq!(
        run(d, &["run-due", "--now", "2026-11-02T12:00:00Z"]).code,
        0
    );
    let mut child = common::command_at(d, now, &["run-due", "--now", now])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until rendering has written part of the file, then kill the process hard.
    let spool = d.join(".reportctl/spool");
    let started = Instant::now();
    loop {
        let partial = walk(&spool)
            .into_iter()
            .any(|(name, size)| name.ends_with(".tmp") && size > 1_000_000);
        if partial {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "rendering never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        files(&d.join("out")).is_empty(),
        "nothing is visible in the destination"
    );

    // While the lease lasts, another run-due leaves the slot alone; after it, one takes
    // the slot over.
    let out = run_at(
        d,
        "2026-11-03T12:00:59Z",
        &["run-due", "--now", now, "--json"],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let after = "2026-11-03T12:01:01Z";
    let out = run_at(d, after, &["run-due", "--now", now, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["attempts"].as_i64()),
        (Some("completed"), Some(2))
    );
    assert_eq!(v["files"][0]["rows"], 3_000_000);
    assert_eq!(files(&d.join("out")), ["BIG_Big_20261101_20261101.csv"]);
    let text = read(&d.join("out"), "BIG_Big_20261101_20261101.csv");
    assert_eq!(text.lines().count(), 3_000_001);
    assert!(text.ends_with("3000000,row 03000000 of a large report,1500000.0\n"));
    // And never again.
    let out = run_at(d, after, &["run-due", "--now", now, "--json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

fn walk(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((e.file_name().to_string_lossy().to_string(), size));
            }
        }
    }
    out
}

/// Broken reports fail with a clear message while the good one is delivered; nothing
/// half-written is left; exit code 1.
#[test]
fn bad_inputs_fail_alone_and_clearly() {
    let dir = tempdir();
    let d = dir.path();
    hourly_events(d);
    write(d, "blocker", "a file where a directory should be");
    let report = |name: &str, source: &str, dest: &str, query: &str| {
        format!(
            "[[reports]]\nname = \"{name}\"\ntype = \"T\"\nsource = \"{source}\"\ndestinations = [\"{dest}\"]\nquery = \"{query}\"\n[reports.schedule]\nfrequency = \"daily\"\n\n"
        )
    };
    let cfg = format!(
        "[settings]\ntimezone = \"UTC\"\n\n[sources.db]\nkind = \"sqlite\"\npath = \"events.db\"\n\n[sources.gone]\nkind = \"sqlite\"\npath = \"missing.db\"\n\n\
         [destinations.out]\nkind = \"directory\"\npath = \"out\"\n\n[destinations.blocked]\nkind = \"directory\"\npath = \"blocker/out\"\n\n{}{}{}{}{}",
        report("Good", "db", "out", "SELECT count(*) AS n FROM events WHERE event_time >= :from AND event_time < :to"),
        report("Missing Database", "gone", "out", "SELECT 1 AS one"),
        report("Syntax", "db", "out", "SELEC kind FROM events"),
        report("No Columns", "db", "out", "-- nothing but a comment"),
        report("Unwritable", "db", "blocked", "SELECT 1 AS one"),
    );
    write(d, "reports.toml", &cfg);
    // First seen after the Nov 1 slot: only Nov 2's is due.
    assert_eq!(
        run(d, &["run-due", "--now", "2026-11-01T12:00:00Z"]).code,
        0
    );
    let out = run(d, &["run-due", "--now", "2026-11-02T12:00:00Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{out:?}");
    let expect = [
        ("Missing Database", "report \"Missing Database\", output T: source \"gone\": database missing.db does not exist"),
        ("Syntax", "report \"Syntax\", output T: source \"db\": SQLite: near \"SELEC\": syntax error (at line 1, column 1 of the query)"),
        ("No Columns", "report \"No Columns\", output T: source \"db\": the query is empty or only comments, so it returns no columns; a report query must be a SELECT"),
        ("Unwritable", "directory \"blocked\": creating directory blocker/out: Not a directory (os error 20)"),
    ];
    for (name, msg) in expect {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("error: {name} 2026-11-02T06:00:00+00:00")));
        let line = line.unwrap_or_else(|| panic!("no error line for {name}: {out:?}"));
        assert!(line.contains(": failed"), "{line}");
        assert!(line.contains(msg), "{name}: want {msg}\n got {line}");
        assert!(
            line.contains("(attempt 1 of 5; next try at or after 2026-11-02T12:01:00Z)"),
            "{line}"
        );
    }
    assert_eq!(files(&d.join("out")), ["T_Good_20261031_20261031.csv"]);
    assert!(!d.join("blocker").is_dir());
    // The failed runs are retried by a later run-due; the good one is not re-sent.
    let out = run(d, &["run-due", "--now", "2026-11-02T12:02:00Z", "--json"]);
    assert_eq!(out.code, 1);
    let retried = crate::common::json_lines(&out.stdout);
    // Runs executed side by side (max_parallel) are shown in the order they end.
    let mut names: Vec<_> = retried
        .iter()
        .map(|r| r["report"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Missing Database", "No Columns", "Syntax", "Unwritable"]
    );
    assert!(retried.iter().all(|r| r["attempts"] == 2));
}

#[test]
fn a_damaged_ledger_stops_run_due_with_a_clear_message() {
    let dir = tempdir();
    let d = dir.path();
    hourly_events(d);
    write(d, "reports.toml", DAILY);
    write(
        d,
        ".reportctl/ledger.sqlite",
        &"not a database ".repeat(500),
    );
    let out = run(d, &["run-due", "--now", "2026-11-02T12:00:00Z"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "reportctl: error: the ledger .reportctl/ledger.sqlite is damaged or not a reportctl ledger: it is not a SQLite database; reportctl will not touch it: move it aside (reportctl then starts a new, empty ledger there; the runs recorded in it are not seen any more) or point [settings] state at another file\n"
    );
    assert!(!d.join("out").exists());
}

/// `run` for an explicit period, to a directory, to stdout, or delivered and recorded;
/// `status`, `cancel` and `send-test` around it.
#[test]
fn manual_runs_and_the_ledger_commands() {
    let dir = tempdir();
    let d = dir.path();
    hourly_events(d);
    write(d, "reports.toml", DAILY);
    // To stdout, dates included, in the report's zone: the 25-hour day.
    let out = run(
        d,
        &[
            "run",
            "Daily Counts",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-01",
            "--output",
            "-",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "from_local,to_local,to_date,kind,events\n\
         2026-11-01 00:00:00,2026-11-02 00:00:00,2026-11-01,click,17\n\
         2026-11-01 00:00:00,2026-11-02 00:00:00,2026-11-01,view,8\n"
    );
    // Instants work too; a local run into a directory is not recorded.
    let out = run(
        d,
        &[
            "run",
            "Daily Counts",
            "--from",
            "2026-11-02T00:00:00Z",
            "--to",
            "2026-11-02T06:00:00Z",
            "-o",
            "local",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        files(&d.join("local")),
        ["COUNTS_Daily Counts_20261101_20261102.csv"]
    );
    assert!(read(
        &d.join("local"),
        "COUNTS_Daily Counts_20261101_20261102.csv"
    )
    .contains("2026-11-01 19:00:00,2026-11-02 01:00:00"));
    assert_eq!(run(d, &["history", "--json"]).stdout, "");
    // Too long a period is a usage error.
    let out = run(
        d,
        &[
            "run",
            "Daily Counts",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
        ],
    );
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "reportctl: error: --from 2026-01-01 --to 2026-06-30 covers 181 days; at most max_range_days = 90 days are allowed\n"
    );
    let out = run(
        d,
        &[
            "run",
            "Daily Counts",
            "--from",
            "2026-11-05",
            "--to",
            "2026-11-01",
        ],
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "reportctl: error: --to (2026-11-01) must be after --from (2026-11-05)\n"
        )
    );
    // Delivered and recorded.
    let out = run(
        d,
        &[
            "run",
            "Daily Counts",
            "--now",
            "2026-11-03T12:00:00Z",
            "--json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["status"].as_str()),
        (Some("manual"), Some("completed"))
    );
    assert_eq!(v["from"], "2026-11-01T00:00:00-04:00");
    let token = v["token"].as_str().unwrap().to_string();
    let out = run(d, &["status", &token]);
    assert!(out.stdout.contains("status:    completed\n"), "{out:?}");
    assert!(
        out.stdout
            .contains("delivery:  out delivered: 1 file in out\n"),
        "{out:?}"
    );
    let out = run(d, &["cancel", &token]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            1,
            format!(
                "reportctl: error: run {token} is completed; only a queued run can be cancelled\n"
            )
            .as_str()
        )
    );
    let out = run(d, &["status", "ffffffffffffffff"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "reportctl: error: no run with token ffffffffffffffff in the ledger\n"
        )
    );
    // send-test: once, then refused for a minute with exit 75 (the wall clock stands
    // still at each call, 20 s apart).
    let out = run_at(
        d,
        "2026-11-03T12:00:00Z",
        &[
            "send-test",
            "Daily Counts",
            "--now",
            "2026-11-03T12:00:00Z",
            "--json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("\"kind\":\"test\""));
    let out = run_at(
        d,
        "2026-11-03T12:00:20Z",
        &["send-test", "Daily Counts", "--now", "2026-11-03T12:00:00Z"],
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (75, "reportctl: error: send-test for \"Daily Counts\" was called 20 s ago; at most one test per report per minute: retry after 40 s\n"),
    );
}

/// Queued runs can be cancelled: a run-due that records the slots and is cut short
/// leaves queued runs behind.
#[test]
fn cancel_a_queued_run() {
    let dir = tempdir();
    let d = dir.path();
    hourly_events(d);
    write(d, "reports.toml", DAILY);
    assert_eq!(
        run(d, &["run-due", "--now", "2026-11-01T00:00:00Z"]).code,
        0
    );
    // Record the next slot without running it: a dry run shows it, a cancelled
    // reportctl would have left it queued. Queue it through the library.
    let cfg = reportctl::config::load(&d.join("reports.toml")).unwrap();
    let mut ledger = reportctl::ledger::open(&cfg).unwrap();
    let report = &cfg.reports[0];
    let due = reportctl::engine::due::collect(
        &cfg,
        report,
        &mut ledger,
        "2026-11-02T12:00:00Z".parse().unwrap(),
        chrono::Utc::now(),
        Some(&reportctl::engine::gate::Gates::none()),
    )
    .unwrap();
    let tokens: Vec<String> = due.pending.iter().map(|r| r.token.clone()).collect();
    drop(ledger);
    let out = run(
        d,
        &["run-due", "--now", "2026-11-02T12:00:00Z", "--dry-run"],
    );
    assert_eq!(
        out.stdout,
        format!(
            "retry Daily Counts 2026-11-01T06:00:00-05:00 [{}] 2026-10-30T00:00:00-04:00 to 2026-10-31T00:00:00-04:00\n\
             retry Daily Counts 2026-11-02T06:00:00-05:00 [{}] 2026-10-31T00:00:00-04:00 to 2026-11-01T00:00:00-04:00\n",
            tokens[0], tokens[1]
        )
    );
    let token = tokens[0].clone();
    assert_eq!(run(d, &["cancel", &token]).code, 0);
    let out = run(d, &["status", &token, "--json"]);
    assert!(out.stdout.contains("\"status\":\"cancelled\""), "{out:?}");
    let out = run(d, &["run-due", "--now", "2026-11-02T12:00:00Z", "--json"]);
    assert_eq!(out.code, 0);
    let ran = crate::common::json_lines(&out.stdout);
    assert_eq!(
        ran.len(),
        1,
        "the cancelled slot is not run: {}",
        out.stdout
    );
    assert_eq!(ran[0]["token"].as_str(), Some(tokens[1].as_str()));
}
