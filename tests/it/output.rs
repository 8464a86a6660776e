//! What the commands a person types print, through the binary: one line per file and
//! per destination on success (`-q` silences), counts that agree with their nouns,
//! report names matched ignoring case, tokens by a unique prefix, tables cut to the
//! terminal's width (whole when piped), and `run -o - | head -1` ending quietly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{self, command, run, run_at, tempdir, write};

fn workspace(rows: u32) -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "data.sql",
        &format!(
            "create table t(n integer);
             with recursive c(i) as (select 1 union all select i + 1 from c where i < {rows})
             insert into t select i from c;"
        ),
    );
    write(
        d,
        "reports.toml",
        &common::daily_config(
            "",
            "SELECT n, 'a long enough text for a big file' AS text FROM t ORDER BY n",
            "frequency = \"daily\"\nat = \"06:00\"",
        ),
    );
    dir
}

const NOW: &str = "2026-11-03T12:00:00Z";

#[test]
fn run_send_test_and_cancel_say_what_they_did() {
    let dir = workspace(2);
    let d = dir.path();
    let out = run(d, &["run", "Daily", "--now", NOW]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "wrote D_Daily_20261101_20261101.csv: 2 rows, 79 bytes\ndelivered to out: 1 file in out\n",
            ""
        )
    );
    let out = run(d, &["-q", "run", "Daily", "--now", NOW]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    let out = run(d, &["run", "Daily", "--now", NOW, "-o", "local"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "wrote local/D_Daily_20261101_20261101.csv: 2 rows, 79 bytes\n"
        )
    );
    let out = run_at(d, NOW, &["send-test", "Daily", "--now", NOW]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "wrote TEST_D_Daily_20261101_20261101.csv: 2 rows, 79 bytes\ndelivered to out: 1 file in out\n",
            ""
        )
    );
    // A queued run (the first sight of a report queues nothing: record one by hand).
    let token = queued_run(d);
    let out = run(d, &["cancel", &token]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, format!("cancelled run {token}\n").as_str(), "")
    );
}

/// Records the slot of 2026-11-02 as queued through the library (as a run-due cut
/// short would leave it) and returns its token.
fn queued_run(d: &Path) -> String {
    let cfg = reportctl::config::load(&d.join("reports.toml")).unwrap();
    let mut ledger = reportctl::ledger::open(&cfg).unwrap();
    ledger
        .first_seen("Daily", Some("2026-11-01T00:00:00Z".parse().unwrap()))
        .unwrap();
    let due = reportctl::engine::due::collect(
        &cfg,
        &cfg.reports[0],
        &mut ledger,
        "2026-11-02T12:00:00Z".parse().unwrap(),
        "2026-11-30T00:00:00Z".parse().unwrap(),
        Some(&reportctl::engine::gate::Gates::none()),
    )
    .unwrap();
    due.pending[0].token.clone()
}

#[test]
fn report_names_ignore_case_and_tokens_take_a_unique_prefix() {
    let dir = workspace(2);
    let d = dir.path();
    let out = run(d, &["--json", "run", "dAILY", "--now", NOW]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["report"], "Daily");
    let token = v["token"].as_str().unwrap().to_string();

    let out = run(d, &["status", &token[..6]]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with(&format!("token:     {token}\n")),
        "{out:?}"
    );
    let out = run(d, &["status", &token[..3]]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            format!(
                "reportctl: error: no run with token {} in the ledger\n",
                &token[..3]
            )
            .as_str()
        )
    );
    // Another run whose token starts the same way.
    let twin = format!("{}ffffffffffff", &token[..4]);
    let conn = rusqlite::Connection::open(d.join(".reportctl/ledger.sqlite")).unwrap();
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE t AS SELECT * FROM runs; UPDATE t SET token = '{twin}';
         INSERT INTO runs SELECT * FROM t;"
    ))
    .unwrap();
    drop(conn);
    let (first, second) = if token < twin {
        (&token, &twin)
    } else {
        (&twin, &token)
    };
    let out = run(d, &["status", &token[..4]]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            format!(
                "reportctl: error: {} is the start of several runs' tokens ({first}, {second}); give more of it\n",
                &token[..4]
            )
            .as_str()
        )
    );
    let out = run(d, &["run", "Weekly"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "reportctl: error: no report named \"Weekly\" in reports.toml; reports: Daily\n"
        )
    );
}

#[test]
fn tables_fit_a_terminal_and_stay_whole_in_a_pipe() {
    let dir = workspace(2);
    let d = dir.path();
    // A failed run has a long detail: the directory destination's path is a file.
    write(d, "out", "a file where the directory should be");
    let out = run(d, &["run", "Daily", "--now", NOW]);
    assert_eq!(out.code, 1, "{out:?}");
    let piped = run(d, &["history"]);
    let long = piped.stdout.lines().nth(1).unwrap().to_string();
    assert!(long.chars().count() > 100, "{piped:?}");
    assert!(long.ends_with("(os error 17)"), "{piped:?}");

    // In a terminal 100 columns wide (script(1) gives the command a pseudo-terminal).
    let shell = format!("COLUMNS=100 {} history", common::bin().display());
    let tty = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .current_dir(d)
        .env("NO_COLOR", "1")
        .env_remove("REPORTCTL_CONFIG")
        .output()
        .expect("script(1) from util-linux");
    assert!(tty.status.success(), "{tty:?}");
    let text = String::from_utf8(tty.stdout).unwrap().replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], piped.stdout.lines().next().unwrap());
    assert_eq!(lines[1].chars().count(), 100, "{text}");
    assert!(lines[1].ends_with('…'), "{text}");
    let kept: String = lines[1].chars().take(99).collect();
    assert!(long.starts_with(&kept), "{text}");
}

#[test]
fn run_to_stdout_into_head_ends_quietly() {
    // Far more than a pipe holds, so that writing goes on after head has gone.
    let dir = workspace(200_000);
    let d = dir.path();
    let mut child = command(d, &["run", "Daily", "-o", "-", "--now", NOW])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // stdout is closed here, as `head -1` closes it.
    let out = child.wait_with_output().unwrap();
    assert_eq!(first, "n,text\n");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
}

#[test]
fn more_v_says_more() {
    let dir = workspace(2);
    let d = dir.path();
    let v = run(d, &["-v", "run", "Daily", "--now", NOW]);
    let vv = run(d, &["-vv", "run", "Daily", "--now", NOW]);
    assert_eq!((v.code, vv.code), (0, 0));
    let lines = |s: &str| s.lines().count();
    assert_eq!(lines(&v.stderr), 2, "{v:?}");
    assert!(v
        .stderr
        .contains("reportctl: directory \"out\": 1 file in out: 79 bytes in "));
    assert!(lines(&vv.stderr) >= 5, "{vv:?}");
    assert!(
        vv.stderr
            .starts_with("reportctl: read 1 report from reports.toml in "),
        "{vv:?}"
    );
    assert!(
        vv.stderr
            .contains(": wrote D_Daily_20261101_20261101.csv (2 rows, 79 bytes)\n"),
        "{vv:?}"
    );
}

#[test]
fn commands_that_only_read_create_nothing() {
    let dir = workspace(2);
    let d = dir.path();
    let before = common::fixtures::files_under(d);
    for args in [
        &["validate"][..],
        &["list"],
        &["plan"],
        &["history"],
        &["destinations"],
        &["run-due", "--dry-run"],
        &["status", "0123456789abcdef"],
    ] {
        run(d, args);
        assert_eq!(common::fixtures::files_under(d), before, "{args:?}");
        assert!(!d.join(".reportctl").exists(), "{args:?}");
    }
}
