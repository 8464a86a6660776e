//! `send-test`: its files and mail subject say it is a test, and its one-per-minute
//! window (claimed atomically in the ledger, on the machine's clock, released by a test
//! that no destination accepted).

use std::path::Path;

use crate::common::fixtures::{mails, rand_u32, settings, smtp_settings, Workspace};
use crate::common::{command_at, daily_config, output, run_at, tempdir, write};

const NOW: &str = "2026-11-03T12:00:00Z";

/// A report "Daily" (two rows) delivered to the directory `out` (or to `out_path`).
fn workspace(out_path: &str) -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "data.sql",
        "create table t(n integer); insert into t values (1), (2);",
    );
    configure(d, out_path);
    dir
}

fn configure(d: &Path, out_path: &str) {
    let toml = daily_config("", "select n from t", "frequency = \"daily\"")
        .replace("path = \"out\"", &format!("path = \"{out_path}\""));
    write(d, "reports.toml", &toml);
}

fn send_test(d: &Path, wall: &str, now: &str) -> (i32, String) {
    let out = run_at(d, wall, &["send-test", "Daily", "--now", now]);
    (out.code, out.stderr)
}

#[test]
fn test_files_are_named_as_tests() {
    let dir = workspace("out");
    let d = dir.path();
    let out = run_at(d, NOW, &["send-test", "Daily", "--now", NOW]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "wrote TEST_D_Daily_20261101_20261101.csv: 2 rows, 6 bytes\ndelivered to out: 1 file in out\n"
        ),
        "{out:?}"
    );
    assert!(d.join("out/TEST_D_Daily_20261101_20261101.csv").is_file());
    // A manual run of the same window is not marked.
    let out = run_at(d, NOW, &["run", "Daily", "--now", NOW]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(d.join("out/D_Daily_20261101_20261101.csv").is_file());
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn test_mails_say_so_in_the_subject() {
    let marker = format!("sendtest{:x}", rand_u32());
    let mut ws = Workspace::new(3);
    ws.secrets(&["SMTP"]);
    let toml = format!(
        "{}{}[destinations.team]\nkind = \"email\"\nto = [\"ann-{marker}@example.com\"]\nsubject = \"{{name}} {{from}}\"\n\n{}",
        settings(""),
        smtp_settings(),
        crate::common::fixtures::report("Mail Test", &["team"], ""),
    );
    ws.config(&toml);
    let out = ws.run(&["send-test", "Mail Test", "--now", NOW]);
    assert_eq!(out.code, 0, "{out:?}");
    let mails = mails(&marker);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "[TEST] Mail Test 2026-11-01");
    let names: Vec<&str> = mails[0]
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["TEST_VIEWS_Mail Test_20261101_20261101.csv"]);
}

/// Two send-tests at the same instant, in two processes: the ledger lets one through;
/// the other is refused with 75.
#[test]
fn two_send_tests_at_once_one_proceeds() {
    let dir = workspace("out");
    let d = dir.path();
    // Create the ledger first, so that both processes race for the window, not for
    // the schema.
    let out = run_at(d, NOW, &["history"]);
    assert_eq!(out.code, 0, "{out:?}");
    let spawn = || {
        command_at(d, NOW, &["send-test", "Daily", "--now", NOW])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start reportctl")
    };
    let (a, b) = (spawn(), spawn());
    let mut outs: Vec<_> = [a, b]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            (out.status.code().unwrap_or(-1), stderr)
        })
        .collect();
    outs.sort();
    assert_eq!(
        outs,
        [
            (0, String::new()),
            (75, "reportctl: error: send-test for \"Daily\" was called 0 s ago; at most one test per report per minute: retry after 60 s\n".into())
        ],
        "refused by the rate limit, not by a locked ledger"
    );
    let files = std::fs::read_dir(d.join("out")).unwrap().count();
    assert_eq!(files, 1);
}

/// A call refused with 75 does not start the minute again; `--now` does not move it.
#[test]
fn the_window_runs_on_the_machine_clock_from_the_first_call() {
    let dir = workspace("out");
    let d = dir.path();
    assert_eq!(send_test(d, NOW, NOW).0, 0);
    let refused = |ago, after| {
        (
            75,
            format!("reportctl: error: send-test for \"Daily\" was called {ago} s ago; at most one test per report per minute: retry after {after} s\n"),
        )
    };
    // --now a week later (or earlier) is the same minute on the machine clock.
    assert_eq!(
        send_test(d, "2026-11-03T12:00:30Z", "2026-11-10T12:00:00Z"),
        refused(30, 30)
    );
    assert_eq!(
        send_test(d, "2026-11-03T12:00:50Z", "2026-10-01T12:00:00Z"),
        refused(50, 10)
    );
    // A minute after the first call (not after the refused ones): through.
    assert_eq!(send_test(d, "2026-11-03T12:01:00Z", NOW).0, 0);
}

/// A send-test that no destination accepted releases the minute; one that a
/// destination accepted keeps it even when another destination failed.
#[test]
fn a_failed_send_test_releases_the_window() {
    let dir = workspace("blocked/out");
    let d = dir.path();
    write(d, "blocked", "a file where the directory should be");
    let (code, stderr) = send_test(d, NOW, NOW);
    assert_eq!(code, 1, "{stderr}");
    // Fixed within the minute: the next call goes through.
    configure(d, "out");
    assert_eq!(send_test(d, "2026-11-03T12:00:20Z", NOW).0, 0);
    assert_eq!(
        send_test(d, "2026-11-03T12:00:40Z", NOW).0,
        75,
        "a delivered test keeps the window"
    );
    // Two destinations, one accepting: the window is used.
    let toml = std::fs::read_to_string(d.join("reports.toml"))
        .unwrap()
        .replace(
            "destinations = [\"out\"]",
            "destinations = [\"out\", \"bad\"]",
        )
        + "\n[destinations.bad]\nkind = \"directory\"\npath = \"blocked/out\"\n";
    write(d, "reports.toml", &toml);
    let (code, stderr) = send_test(d, "2026-11-03T12:02:00Z", NOW);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(send_test(d, "2026-11-03T12:02:10Z", NOW).0, 75);
    // The refused calls above were never recorded.
    let out = output(command_at(d, NOW, &["--json", "history", "Daily"]));
    assert_eq!(
        out.stdout.matches("\"kind\":\"test\"").count(),
        3,
        "{out:?}"
    );
}

/// The case that used up the minute before: a mail to a server on a wrong port. Fixed
/// at once, the next call goes through.
#[test]
fn a_send_test_to_a_wrong_port_releases_the_window() {
    let dir = workspace("out");
    let d = dir.path();
    let toml = std::fs::read_to_string(d.join("reports.toml")).unwrap();
    let smtp = "[settings.smtp]\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nfrom = \"reports@example.com\"\n\n";
    let mail = toml
        .replace(
            "timezone = \"UTC\"\n",
            "timezone = \"UTC\"\ndelivery_retries = 0\n",
        )
        .replace("[sources.db]", &format!("{smtp}[sources.db]"))
        .replace(
            "[destinations.out]\nkind = \"directory\"\npath = \"out\"",
            "[destinations.out]\nkind = \"email\"\nto = [\"ann@example.com\"]",
        );
    write(d, "reports.toml", &mail);
    let (code, stderr) = send_test(d, NOW, NOW);
    assert_eq!(code, 1, "{stderr}");
    write(d, "reports.toml", &toml);
    assert_eq!(send_test(d, "2026-11-03T12:00:05Z", NOW).0, 0);
}
