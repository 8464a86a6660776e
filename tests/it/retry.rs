//! `retry`, `resend`, `list`'s last run and `notify_on` through the binary, the wall
//! clock fixed (`run_at`). A give-up is loud: run-due exits 1 on the call that gives
//! up, with the give-up on stderr; then `retry` delivers the run once, recorded as one
//! more attempt; `resend` delivers a completed run again as a run of its own.
//!
//! Deliveries fail without any server: a directory destination's path is a regular
//! file until the test removes it; a notify mail fails on a closed port.

use std::path::Path;

use crate::common::{self, tempdir, write, Output};

/// `common::daily_config` with two attempts a minute apart and a second directory
/// destination `copy`; `extra` goes into `[settings]`, `report_extra` into the report.
fn config(extra: &str, report_extra: &str) -> String {
    let settings = format!("max_attempts = 2\nretry_delay_seconds = 60\n{extra}");
    let schedule = "frequency = \"daily\"\nat = \"06:00\"";
    common::daily_config(&settings, "SELECT n FROM t", schedule)
        .replace(
            "destinations = [\"out\"]\n",
            &format!("destinations = [\"out\", \"copy\"]\n{report_extra}\n"),
        )
        .replace(
            "[[reports]]",
            "[destinations.copy]\nkind = \"directory\"\npath = \"copy\"\n\n[[reports]]",
        )
}

fn workspace(extra: &str, report_extra: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "data.sql",
        "create table t(n integer);\ninsert into t values (1), (2);\n",
    );
    write(dir.path(), "reports.toml", &config(extra, report_extra));
    dir
}

fn at(d: &Path, wall: &str, args: &[&str]) -> Output {
    common::run_at(d, wall, args)
}

fn history(d: &Path) -> Vec<serde_json::Value> {
    let out = at(d, "2026-11-10T00:00:00Z", &["history", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    crate::common::json_lines(&out.stdout)
}

const TOKEN: &str = "5760b598a08f93b5";
const RUN: &str = "Daily 2026-11-02T06:00:00+00:00 [5760b598a08f93b5]";
const FILE: &str = "D_Daily_20261031_20261031.csv";
const FAILED: &str = "directory \"out\": creating directory out: File exists (os error 17)";

/// First sight, `out` broken; both attempts fail: each call exits 1, the second says
/// it gave up; the next call has nothing to do. `copy` got the file at once.
fn give_up(d: &Path) {
    let out = at(d, "2026-11-02T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    write(d, "out", "not a directory\n");
    let attempts = [
        (
            "2026-11-02T06:00:00Z",
            "attempt 1 of 2; next try at or after 2026-11-02T06:01:00Z",
        ),
        ("2026-11-02T06:01:00Z", "gave up after 2 attempts"),
    ];
    for (wall, what) in attempts {
        let out = at(d, wall, &["run-due"]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                1,
                "",
                format!("reportctl: error: {RUN}: failed, 2 rows in 1 file, delivered to copy: {FAILED} ({what})\n").as_str()
            ),
            "at {wall}"
        );
    }
    let out = at(d, "2026-11-02T07:00:00Z", &["run-due"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert!(d.join("copy").join(FILE).exists());
}

#[test]
fn a_given_up_run_is_retried_once_to_the_destination_that_lacks_it() {
    let dir = workspace("", "");
    let d = dir.path();
    give_up(d);
    std::fs::remove_file(d.join("copy").join(FILE)).unwrap();
    // Still broken: the retry fails, exit 1, and the run stays given up.
    let out = at(d, "2026-11-02T08:00:00Z", &["retry", "5760b598"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            format!("reportctl: error: {RUN}: failed, 2 rows in 1 file, delivered to copy: {FAILED} (gave up after 3 attempts)\n").as_str()
        ),
    );
    let check = at(d, "2026-11-02T08:00:00Z", &["check"]);
    assert_eq!(check.code, 2, "{check:?}");
    // Fixed: delivered to `out` only (copy had it), from the spool.
    std::fs::remove_file(d.join("out")).unwrap();
    write(
        d,
        "data.sql",
        "create table t(n integer);\ninsert into t values (7);\n",
    );
    let out = at(d, "2026-11-02T09:00:00Z", &["retry", "5760b598"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "wrote D_Daily_20261031_20261031.csv: 2 rows, 6 bytes\ndelivered to copy: 1 file in copy\ndelivered to out: 1 file in out\n",
            ""
        ),
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out").join(FILE)).unwrap(),
        "n\n1\n2\n"
    );
    assert!(
        !d.join("copy").join(FILE).exists(),
        "copy is not sent again"
    );
    let runs = history(d);
    assert_eq!(runs.len(), 1, "the same run, not a new one");
    assert_eq!(
        (&runs[0]["status"], &runs[0]["attempts"], &runs[0]["token"]),
        (&"completed".into(), &4.into(), &TOKEN.into())
    );
    let out_receipt = common::fixtures::receipt(&runs[0], "out");
    assert_eq!(
        (&out_receipt["status"], &out_receipt["attempts"]),
        (&"delivered".into(), &4.into())
    );
    let check = at(d, "2026-11-02T09:00:00Z", &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
    // Twice is refused: it is completed.
    let out = at(d, "2026-11-02T09:00:00Z", &["retry", TOKEN]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, format!("reportctl: error: run {TOKEN} is completed: only a failed or skipped run can be retried; `reportctl resend {TOKEN}` delivers it again\n").as_str())
    );
}

#[test]
fn resend_delivers_a_completed_run_again_as_a_run_of_its_own() {
    let dir = workspace("", "");
    let d = dir.path();
    let out = at(d, "2026-11-02T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = at(d, "2026-11-02T06:00:00Z", &["run-due"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    std::fs::remove_file(d.join("out").join(FILE)).unwrap();
    std::fs::remove_file(d.join("copy").join(FILE)).unwrap();

    let out = at(
        d,
        "2026-11-03T00:00:00Z",
        &["resend", "5760", "--destination", "nope"],
    );
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "reportctl: error: report \"Daily\" has no destination \"nope\"; its destinations: out, copy\n")
    );
    let out = at(
        d,
        "2026-11-03T00:00:00Z",
        &["--json", "resend", "5760", "--destination", "copy"],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let resent: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (
            &resent["kind"],
            &resent["status"],
            &resent["origin"],
            &resent["run_at"]
        ),
        (
            &"resend".into(),
            &"completed".into(),
            &TOKEN.into(),
            &"2026-11-02T06:00:00+00:00".into()
        )
    );
    assert_eq!(resent["receipts"].as_array().unwrap().len(), 1, "{resent}");
    assert!(d.join("copy").join(FILE).exists());
    assert!(
        !d.join("out").join(FILE).exists(),
        "only the destination asked for"
    );

    let runs = history(d);
    assert_eq!(runs.len(), 2);
    let original = runs.iter().find(|r| r["token"] == TOKEN).unwrap();
    assert_eq!(
        (&original["attempts"], &original["kind"]),
        (&1.into(), &"scheduled".into())
    );
    // The slot is still done once: run-due does not run it again.
    let out = at(d, "2026-11-03T00:00:00Z", &["run-due"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    // A failed run is retried, not resent.
    let out = at(d, "2026-11-03T00:00:00Z", &["resend", "ffff"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "reportctl: error: no run with token ffff in the ledger\n"
        )
    );
}

/// `list` shows each report's last run, and no next run for a one-time report that ran.
#[test]
fn list_shows_the_last_run() {
    let dir = workspace("", "");
    let d = dir.path();
    let text = config("", "").replace(
        "frequency = \"daily\"\nat = \"06:00\"",
        "frequency = \"daily\"\nat = \"06:00\"\n\n[[reports]]\nname = \"Once\"\ntype = \"O\"\nsource = \"db\"\ndestinations = [\"copy\"]\nquery = \"SELECT n FROM t\"\n[reports.schedule]\nonce = 2026-11-02T06:00:00\nfrom = 2026-11-01\nto = 2026-11-01",
    );
    write(d, "reports.toml", &text);
    let list = |wall| at(d, wall, &["list"]);
    let out = list("2026-11-02T00:00:00Z");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "NAME   STATUS  NEXT RUN                   LAST RUN  SCHEDULE
Daily  active  2026-11-02T06:00:00+00:00  -         daily at 06:00 UTC, covering 1 day up to the end of the day before yesterday
Once   active  2026-11-02T06:00:00+00:00  -         once at 2026-11-02 06:00 UTC, covering 2026-11-01 to 2026-11-01
"),
    );
    give_up(d);
    let out = list("2026-11-02T07:00:00Z");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "NAME   STATUS  NEXT RUN                   LAST RUN                             SCHEDULE
Daily  active  2026-11-03T06:00:00+00:00  2026-11-02T06:00:00+00:00 failed     daily at 06:00 UTC, covering 1 day up to the end of the day before yesterday
Once   active  -                          2026-11-02T06:00:00+00:00 completed  once at 2026-11-02 06:00 UTC, covering 2026-11-01 to 2026-11-01
"),
    );
    let out = at(d, "2026-11-02T07:00:00Z", &["--json", "list"]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["reports"][0]["last_run"],
        serde_json::json!({"token": TOKEN, "run_at": "2026-11-02T06:00:00+00:00", "status": "failed"})
    );
    assert_eq!(doc["reports"][1]["next_run"], serde_json::Value::Null);
}

/// `notify_on = "failure"`: no notify mail after a completed run, one after a failed
/// one (here it cannot be sent: the warning shows it was tried).
#[test]
fn notify_on_failure_mails_only_failures() {
    let smtp = "[settings.smtp]\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nfrom = \"reports@example.com\"";
    let dir = workspace(
        &format!("notify_on = \"failure\"\ndelivery_retries = 0\n{smtp}"),
        "notify = [\"ops@example.com\"]",
    );
    let d = dir.path();
    let out = at(d, "2026-11-02T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = at(d, "2026-11-02T06:00:00Z", &["run-due"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "no mail tried: {out:?}"
    );
    std::fs::remove_dir_all(d.join("out")).unwrap();
    write(d, "out", "not a directory\n");
    let out = at(d, "2026-11-03T06:00:00Z", &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("reportctl: warning: report \"Daily\" [")
            && out.stderr.contains("]: Notification failed: "),
        "a mail was tried: {out:?}"
    );
    // A report may say otherwise: always.
    std::fs::remove_file(d.join("out")).unwrap();
    let text = config(
        &format!("notify_on = \"failure\"\ndelivery_retries = 0\n{smtp}"),
        "notify = [\"ops@example.com\"]\nnotify_on = \"always\"",
    );
    write(d, "reports.toml", &text);
    let out = at(d, "2026-11-04T06:00:00Z", &["run-due"]);
    assert!(out.stderr.contains("]: Notification failed: "), "{out:?}");
    // And a word it does not know is an error naming the key and the choices.
    write(
        d,
        "reports.toml",
        &text.replace("\"always\"", "\"sometimes\""),
    );
    let out = at(d, "2026-11-04T06:00:00Z", &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("notify_on") && out.stderr.contains("failure"),
        "{out:?}"
    );
}

/// A slot skipped by catch-up can be delivered by `retry` too, for its own window.
#[test]
fn a_skipped_slot_is_retried_for_its_window() {
    let dir = workspace("catch_up = 1", "");
    let d = dir.path();
    let out = at(d, "2026-11-01T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = at(d, "2026-11-02T07:00:00Z", &["run-due"]);
    assert_eq!(out.code, 1, "one slot skipped: {out:?}");
    let skipped: Vec<serde_json::Value> = history(d)
        .into_iter()
        .filter(|r| r["status"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 1);
    let token = skipped[0]["token"].as_str().unwrap();
    let out = at(d, "2026-11-02T08:00:00Z", &["-q", "retry", token]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert!(d.join("out").join("D_Daily_20261030_20261030.csv").exists());
    let check = at(d, "2026-11-02T08:00:00Z", &["check"]);
    assert_eq!(check.code, 0, "{check:?}");
}

/// A send-test run is repeated by send-test (under its rate limit), not by retry.
#[test]
fn a_send_test_run_is_not_retried() {
    let dir = workspace("", "");
    let d = dir.path();
    write(d, "out", "not a directory\n");
    let out = at(d, "2026-11-02T07:00:00Z", &["send-test", "Daily"]);
    assert_eq!(out.code, 1, "{out:?}");
    let token = history(d)[0]["token"].as_str().unwrap().to_string();
    for cmd in ["retry", "resend"] {
        let out = at(d, "2026-11-02T07:05:00Z", &[cmd, &token]);
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (2, format!("reportctl: error: run {token} is a send-test run; call `reportctl send-test \"Daily\"` again instead\n").as_str()),
            "{cmd}"
        );
    }
}
