//! `reportctl pause` and `resume` through the binary, the wall clock fixed (`run_at`):
//! the configuration file keeps every byte but the status line (one file, and a
//! `--config` directory), a file changed underneath is not overwritten, and the slots
//! that fell during a pause (by command or by editing the file) are recorded as
//! skipped (paused), shown by `history`, reported as paused by `check` (exit 0), and
//! never sent on resume.

use std::path::Path;

use crate::common::{self, run_at, tempdir, write, Output};

/// A commented configuration: "Daily" at 06:00 to the directory `out`, `status` on a
/// line of its own with a comment after it.
const CONFIG: &str = r#"# Reports of the sales team.
[settings]
timezone = "UTC"   # the office's

[sources.db]
kind = "sqlite"
init = ["data.sql"]

[destinations.out]
kind = "directory"
path = "out"

# The daily one; ask Ana before changing it.
[[reports]]
name = "Daily"
type = "D"
source = "db"
destinations = ["out"]
status    = 'active'    # paused in the holidays
query = """
SELECT n FROM t  -- every row
"""
[reports.schedule]
frequency = "daily"  # weekdays too
at = "06:00"
"#;

const ACTIVE: &str = "status    = 'active'    #";
const DRAFT: &str = "status    = \"draft\"    #";

fn workspace(config: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "data.sql",
        "create table t(n integer);\ninsert into t values (1);\n",
    );
    write(dir.path(), "reports.toml", config);
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn ok(out: &Output) {
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
}

/// 07:00 on day `d` of November 2026 (after the 06:00 slot).
fn day(d: u32) -> String {
    format!("2026-11-{d:02}T07:00:00Z")
}

/// 03:00 on day `d` (before the 06:00 slot).
fn night(d: u32) -> String {
    format!("2026-11-{d:02}T03:00:00Z")
}

/// The slots delivered so far: the files in `out`.
fn sent(d: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(d.join("out"))
        .map(|e| {
            e.flatten()
                .map(|f| f.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The slots of "Daily" that completed, by day of November.
fn completed(d: &Path) -> Vec<u32> {
    runs(d)
        .iter()
        .rev()
        .filter(|r| r["status"] == "completed")
        .map(|r| r["run_at"].as_str().unwrap()[8..10].parse().unwrap())
        .collect()
}

/// `history Daily --json`, newest first.
fn runs(d: &Path) -> Vec<serde_json::Value> {
    let history = run_at(
        d,
        &day(28),
        &["history", "Daily", "--json", "--limit", "100"],
    );
    ok(&history);
    crate::common::json_lines(&history.stdout)
}

fn run_due(d: &Path, wall: &str) {
    ok(&run_at(d, wall, &["run-due"]));
}

#[test]
fn pause_and_resume_change_only_the_status_line() {
    let dir = workspace(CONFIG);
    let d = dir.path();
    let path = d.join("reports.toml");
    ok(&run_at(d, &night(2), &["pause", "Daily"]));
    assert_eq!(read(&path), CONFIG.replace(ACTIVE, DRAFT));
    ok(&run_at(d, &night(2), &["pause", "Daily"]));
    assert_eq!(read(&path), CONFIG.replace(ACTIVE, DRAFT), "already paused");
    ok(&run_at(d, &night(3), &["resume", "Daily"]));
    assert_eq!(
        read(&path),
        CONFIG.replace(ACTIVE, "status    = \"active\"    #")
    );
    // A report without a status line gets one, after its last key.
    let bare = CONFIG.replace("status    = 'active'    # paused in the holidays\n", "");
    std::fs::write(&path, &bare).unwrap();
    ok(&run_at(d, &night(4), &["pause", "Daily"]));
    assert_eq!(
        read(&path),
        bare.replace(
            "\"\"\"\n[reports.schedule]",
            "\"\"\"\nstatus = \"draft\"\n[reports.schedule]"
        )
    );
}

#[test]
fn in_a_config_directory_the_file_that_defines_the_report_is_edited() {
    let dir = workspace("");
    let d = dir.path();
    std::fs::remove_file(d.join("reports.toml")).unwrap();
    let (head, report) = CONFIG.split_at(CONFIG.find("# The daily one").unwrap());
    let other = "# another team's\n[[reports]]\nname = \"Weekly\"\ntype = \"W\"\nsource = \"db\"\ndestinations = [\"out\"]\nquery = \"SELECT n FROM t\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"08:00\"\n";
    let conf = d.join("conf");
    let files = [
        write(&conf, "00-settings.toml", head),
        write(&conf, "10-daily.toml", report),
        write(&conf, "20-weekly.toml", other),
    ];
    let pause = |cmd: &str, name: &str| {
        ok(&run_at(d, &night(2), &["--config", "conf", cmd, name]));
    };
    pause("pause", "Daily");
    assert_eq!(read(&files[0]), head);
    assert_eq!(read(&files[1]), report.replace(ACTIVE, DRAFT));
    assert_eq!(read(&files[2]), other);
    pause("resume", "Daily");
    assert_eq!(
        read(&files[1]),
        report.replace(ACTIVE, "status    = \"active\"    #")
    );
    pause("pause", "Weekly");
    assert_eq!(
        read(&files[2]),
        other.replace(
            "SELECT n FROM t\"\n",
            "SELECT n FROM t\"\nstatus = \"draft\"\n"
        )
    );
    assert_eq!(read(&files[0]), head);
}

#[test]
fn a_file_changed_underneath_is_not_overwritten() {
    let dir = workspace(&CONFIG.replace("[settings]\n", "[settings]\nlock_timeout_seconds = 30\n"));
    let d = dir.path();
    run_due(d, &night(1));
    let lock = d.join(".reportctl/ledger.sqlite.lock");
    let held = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    held.try_lock().unwrap();
    let child = common::command_at(d, &night(2), &["pause", "Daily"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once it waits for the ledger's lock, it has read the configuration.
    let fds = format!("/proc/{}/fd", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !std::fs::read_dir(&fds)
        .unwrap()
        .flatten()
        .any(|f| std::fs::read_link(f.path()).is_ok_and(|p| p.ends_with("ledger.sqlite.lock")))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "pause never opened the lock"
        );
        std::thread::yield_now();
    }
    let changed = CONFIG.replace("weekdays too", "weekends too");
    std::fs::write(d.join("reports.toml"), &changed).unwrap();
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref()),
        (
            Some(1),
            "reportctl: error: reports.toml changed while reportctl was editing it; nothing was written: run the command again\n"
        )
    );
    assert_eq!(read(&d.join("reports.toml")), changed);
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "no temporary file left: {leftovers:?}");
}

/// Day 1 sent; paused from day 2, 03:00 to day 8, 03:00; then day 8 and 9 sent.
fn no_backlog(d: &Path, pause: &dyn Fn(&str, &str), cron_during_pause: bool) {
    run_due(d, &night(1));
    run_due(d, &day(1));
    pause("pause", &night(2));
    if cron_during_pause {
        for n in 2..=7 {
            run_due(d, &day(n));
        }
    }
    assert_eq!((completed(d), sent(d).len()), (vec![1], 1));
    pause("resume", &night(8));
    run_due(d, &day(8));
    assert_eq!(
        (completed(d), sent(d).len()),
        (vec![1, 8], 2),
        "nothing of the pause sent"
    );
    run_due(d, &day(9));
    assert_eq!((completed(d), sent(d).len()), (vec![1, 8, 9], 3));
    let paused = runs(d).iter().filter(|r| r["status"] == "skipped").count();
    assert_eq!(paused, 6, "days 2 to 7 recorded as skipped (paused)");
}

#[test]
fn no_backlog_after_a_pause_by_command() {
    for cron_during_pause in [true, false] {
        let dir = workspace(CONFIG);
        let d = dir.path();
        let pause = |cmd: &str, wall: &str| ok(&run_at(d, wall, &[cmd, "Daily"]));
        no_backlog(d, &pause, cron_during_pause);
    }
}

#[test]
fn no_backlog_after_a_pause_by_editing_the_file() {
    let dir = workspace(CONFIG);
    let d = dir.path();
    let path = d.join("reports.toml");
    let pause = |cmd: &str, _: &str| {
        let text = if cmd == "pause" {
            CONFIG.replace(ACTIVE, DRAFT)
        } else {
            CONFIG.to_string()
        };
        std::fs::write(&path, text).unwrap();
    };
    no_backlog(d, &pause, true);
}

#[test]
fn history_shows_the_paused_slots_and_check_says_paused() {
    let dir = workspace(CONFIG);
    let d = dir.path();
    run_due(d, &night(1));
    run_due(d, &day(1));
    ok(&run_at(d, &night(2), &["pause", "Daily"]));
    run_due(d, &day(3));
    let check = run_at(d, &day(3), &["check"]);
    assert_eq!(
        (check.code, check.stdout.as_str()),
        (
            0,
            "REPORTCTL OK - 1 paused | given_up=0 skipped=0 late=0 failing=0 ok=0 paused=1
STATE   REPORT  SLOT  TOKEN  DETAIL
paused  Daily   -     -      status = \"draft\": its slots are not run
"
        ),
        "{check:?}"
    );
    ok(&run_at(d, &night(4), &["resume", "Daily"]));
    let history = runs(d);
    let rows: Vec<(&str, &str)> = history
        .iter()
        .map(|r| (r["run_at"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("2026-11-03T06:00:00+00:00", "skipped"),
            ("2026-11-02T06:00:00+00:00", "skipped"),
            ("2026-11-01T06:00:00+00:00", "completed"),
        ]
    );
    assert_eq!(
        history[0]["detail"],
        "paused: the report's status was \"draft\" when this slot fell, so it is not sent; run it by hand with: reportctl run \"Daily\" --from 2026-11-01T00:00:00+00:00 --to 2026-11-02T00:00:00+00:00"
    );
    let check = run_at(d, &night(4), &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check
            .stdout
            .contains("ok     Daily   2026-11-03T06:00:00+00:00"),
        "{check:?}"
    );
    assert!(
        check.stdout.contains("latest slot skipped (paused)"),
        "{check:?}"
    );
}

#[test]
fn an_unknown_report_is_a_usage_error_and_nothing_is_written() {
    let dir = workspace(CONFIG);
    let d = dir.path();
    let out = run_at(d, &night(2), &["pause", "Weekly"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .starts_with("reportctl: error: no report named \"Weekly\" in reports.toml"),
        "{out:?}"
    );
    assert_eq!(read(&d.join("reports.toml")), CONFIG);
    assert!(!d.join(".reportctl").exists(), "no ledger made");
}
