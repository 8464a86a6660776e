//! Many reports, through the binary: the commands that had to become linear in the
//! number of reports (`validate`, `list`, `plan`, `run-due` with nothing due) still give
//! the same answers on a configuration of a few thousand reports. Functional checks
//! only: speed is measured by `scripts/bench/many_reports.sh` (see BENCHMARKS.md), not
//! asserted here.

use std::fmt::Write as _;
use std::path::Path;

use crate::common::{run, tempdir, write};

const HEAD: &str = r#"[settings]
timezone = "UTC"
retry_delay_seconds = 60

[sources.db]
kind = "sqlite"
path = "events.db"

[destinations.out]
kind = "directory"
path = "out"
"#;

/// `n` reports named "Report 0000" …, daily at a minute that varies with the index, so
/// their runs interleave in time; each report takes 8 lines after `HEAD`.
fn many(n: usize) -> String {
    let mut text = HEAD.to_string();
    for i in 0..n {
        write!(
            text,
            "\n[[reports]]\nname = \"Report {i:04}\"\ntype = \"T\"\nsource = \"db\"\ndestinations = [\"out\"]\nquery = \"SELECT count(*) AS n FROM events WHERE t >= :from AND t < :to\"\n[reports.schedule]\nat = \"{:02}:{:02}\"\n",
            (i / 60) % 24,
            i % 60
        )
        .unwrap();
    }
    text.replace(
        "[reports.schedule]\nat",
        "[reports.schedule]\nfrequency = \"daily\"\nat",
    )
}

fn events_db(dir: &Path) {
    let conn = rusqlite::Connection::open(dir.join("events.db")).unwrap();
    conn.execute_batch("CREATE TABLE events (t TEXT NOT NULL); INSERT INTO events VALUES ('2026-11-24T12:00:00Z');")
        .unwrap();
}

/// The line of `needle` in `text`, 1-based.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("needle in text")]
        .lines()
        .count()
        + 1
}

#[test]
fn validate_reports_a_duplicate_differing_only_in_case_among_2000_reports() {
    let dir = tempdir();
    let mut text = many(2000);
    // Report 1500 takes the name of report 100 in lower case; report 1900 that of 1899
    // in upper case: each is reported at its own `name` line, naming the first holder.
    text = text.replace("name = \"Report 1500\"", "name = \"report 0100\"");
    text = text.replace("name = \"Report 1900\"", "name = \"REPORT 1899\"");
    write(dir.path(), "reports.toml", &text);
    events_db(dir.path());
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    let l1 = line_of(&text, "name = \"report 0100\"");
    let l2 = line_of(&text, "name = \"REPORT 1899\"");
    assert_eq!(
        out.stderr,
        format!(
            "reportctl: error: reports.toml:{l1}:8: report \"report 0100\", key `name`: the name is already used by report \"Report 0100\"; report names must be unique (ignoring case)\n\
             reportctl: error: reports.toml:{l2}:8: report \"REPORT 1899\", key `name`: the name is already used by report \"Report 1899\"; report names must be unique (ignoring case)\n"
        )
    );
    // The same names, all distinct: valid.
    write(dir.path(), "reports.toml", &many(2000));
    let out = run(dir.path(), &["validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
}

#[test]
fn list_and_plan_on_2000_reports_keep_file_order_and_time_order() {
    let dir = tempdir();
    write(dir.path(), "reports.toml", &many(2000));
    let now = "2026-11-25T00:00:30Z";

    let out = run(
        dir.path(),
        &["--json", "list", "--limit", "5000", "--now", now],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["total"], 2000);
    let reports = doc["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2000);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r["name"], format!("Report {i:04}"));
    }
    // Report 0000 runs at 00:00, already past: its next run is tomorrow.
    assert_eq!(reports[0]["next_run"], "2026-11-26T00:00:00+00:00");
    assert_eq!(reports[61]["next_run"], "2026-11-25T01:01:00+00:00");

    let out = run(dir.path(), &["list", "--now", now]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1 + 50, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: warning: showing 50 of 2000 reports; see more with --offset 50\n"
    );

    let out = run(
        dir.path(),
        &["--json", "plan", "--count", "1", "--now", now],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let lines = crate::common::json_lines(&out.stdout);
    assert_eq!(lines.len(), 2000);
    // Reports 1440–1999 run at the same times of day as 0–559 (the minute of the day
    // wraps at 1440): ties come in file order.
    assert_eq!(lines[0]["report"], "Report 0001");
    assert_eq!(lines[0]["run_at"], "2026-11-25T00:01:00+00:00");
    assert_eq!(lines[1]["report"], "Report 1441");
    let last = &lines[1999];
    assert_eq!(last["report"], "Report 1440");
    assert_eq!(last["run_at"], "2026-11-26T00:00:00+00:00");
    let times: Vec<&str> = lines
        .iter()
        .map(|l| l["run_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
}

#[test]
fn run_due_on_many_reports_runs_each_due_slot_once_and_retries_failed_ones() {
    let dir = tempdir();
    events_db(dir.path());
    let mut text = many(600);
    // One report that fails: its retry must still be found among the others.
    text = text.replace(
        "name = \"Report 0300\"\ntype = \"T\"\nsource = \"db\"\ndestinations = [\"out\"]\nquery = \"SELECT count(*) AS n FROM events",
        "name = \"Report 0300\"\ntype = \"T\"\nsource = \"db\"\ndestinations = [\"out\"]\nquery = \"SELECT count(*) AS n FROM missing",
    );
    write(dir.path(), "reports.toml", &text);

    // First sight at 23:59:30: nothing is due yet, and again nothing at the same time.
    let first = "2026-11-24T23:59:30Z";
    for _ in 0..2 {
        let out = run(dir.path(), &["--json", "run-due", "--now", first]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (0, "", "")
        );
    }
    let out = run(dir.path(), &["run-due", "--dry-run", "--now", first]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");

    // Ten minutes later, the reports at 00:00 … 00:10 are due (0–10 and 1440–1450).
    let later = "2026-11-25T00:10:30Z";
    let out = run(dir.path(), &["run-due", "--dry-run", "--now", later]);
    assert_eq!(out.code, 0, "{out:?}");
    let expect: Vec<usize> = (0..=10).chain(1440..=1450).filter(|&i| i < 600).collect();
    assert_eq!(out.stdout.lines().count(), expect.len(), "{out:?}");
    let out = run(dir.path(), &["--json", "run-due", "--now", later]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    // Reports run side by side (max_parallel) are shown in the order they end.
    let mut ran: Vec<String> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["report"].to_string())
        .collect();
    ran.sort();
    let want: Vec<String> = expect
        .iter()
        .map(|i| format!("\"Report {i:04}\""))
        .collect();
    assert_eq!(ran, want);
    // Nothing left: the same call again does nothing.
    let out = run(dir.path(), &["--json", "run-due", "--now", later]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );

    // Report 0300 is due at 05:00 and fails; its retry comes a minute later, at
    // 05:01:30, among the new slot of report 0301 (05:01).
    let out = run(dir.path(), &["run-due", "--now", "2026-11-25T05:00:30Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Report 0300"), "{out:?}");
    let actions = |now: &str| -> Vec<String> {
        let out = run(dir.path(), &["run-due", "--dry-run", "--now", now]);
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout
            .lines()
            .map(|l| l.split(" 2026").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(actions("2026-11-25T05:01:29Z"), ["run Report 0301"]);
    assert_eq!(
        actions("2026-11-25T05:01:40Z"),
        ["retry Report 0300", "run Report 0301"]
    );
}

/// validate asks the database about a mapped table once per source and table; every
/// report that maps a missing table or column still gets its own error.
#[test]
fn validate_checks_each_reports_events_mapping_against_the_database() {
    let dir = tempdir();
    let conn = rusqlite::Connection::open(dir.path().join("ev.db")).unwrap();
    conn.execute_batch("CREATE TABLE ev (t TEXT, kind TEXT, id INTEGER)")
        .unwrap();
    let mut text = "[sources.db]\nkind = \"sqlite\"\npath = \"ev.db\"\n\n[destinations.out]\nkind = \"directory\"\npath = \"out\"\n".to_string();
    for (name, table, time) in [
        ("A", "ev", "t"),
        ("B", "nope", "t"),
        ("C", "nope", "t"),
        ("D", "ev", "stamp"),
        ("E", "ev", "t"),
    ] {
        write!(
            text,
            "\n[[reports]]\nname = \"{name}\"\nsource = \"db\"\ndestinations = [\"out\"]\n[reports.events]\ntable = \"{table}\"\ntime = \"{time}\"\ntraffic = \"kind\"\nid = \"id\"\n[[reports.outputs]]\ntype = \"X\"\nkind = \"detail\"\n[reports.schedule]\nfrequency = \"daily\"\n"
        )
        .unwrap();
    }
    write(dir.path(), "reports.toml", &text);
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml:28:1: report \"B\", key `events.table`: the table nope does not exist in the database\n\
         reportctl: error: reports.toml:43:1: report \"C\", key `events.table`: the table nope does not exist in the database\n\
         reportctl: error: reports.toml:58:1: report \"D\", key `events`: the table ev has no column \"stamp\"; its columns: t, kind, id\n"
    );
}
