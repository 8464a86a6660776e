//! `reportctl check` through the binary, the wall clock fixed (`run_at`): each state
//! with its exact output and exit status (0 ok and paused, 1 late and failing, 2 given
//! up and skipped, 3 for check's own errors, clap's usage errors included), `--json`,
//! and what settles a given-up or skipped slot: `ack`, or a later slot completing.
//!
//! Deliveries fail without any server: the directory destination's path is a regular
//! file until the test removes it.

use std::path::Path;

use crate::common::{self, run_at, tempdir, write, Output};

/// `common::daily_config`: "Daily" at 06:00 to the directory `out`, two attempts a
/// minute apart; and "Paused", a draft. `extra` goes into `[settings]`.
fn config(extra: &str) -> String {
    let settings = format!("max_attempts = 2\nretry_delay_seconds = 60\n{extra}");
    common::daily_config(&settings, "SELECT n FROM t", DAILY)
        + &format!(
            "\n[[reports]]\nname = \"Paused\"\ntype = \"P\"\nstatus = \"draft\"\nsource = \"db\"\ndestinations = [\"out\"]\nquery = \"SELECT n FROM t\"\n[reports.schedule]\n{DAILY}\n"
        )
}

const DAILY: &str = "frequency = \"daily\"\nat = \"06:00\"";

fn workspace(extra: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "data.sql",
        "create table t(n integer);\ninsert into t values (1), (2);\n",
    );
    write(dir.path(), "reports.toml", &config(extra));
    dir
}

fn at(d: &Path, wall: &str, args: &[&str]) -> Output {
    let mut c = common::command_at(d, wall, args);
    c.env("USER", "ops");
    common::output(c)
}

fn check(d: &Path, wall: &str) -> Output {
    at(d, wall, &["check"])
}

fn expect(out: &Output, code: i32, stdout: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (code, stdout, ""),
        "{out:?}"
    );
}

const TOKEN: &str = "5760b598a08f93b5";
const SLOT: &str = "2026-11-02T06:00:00+00:00";
const FAILED: &str = "directory \"out\": creating directory out: File exists (os error 17)";
/// The paused report's line under a "given up" state.
const PAUSED: &str = "paused    Paused  -                          -                 status = \"draft\": its slots are not run\n";

/// First sight at midnight; `out` broken.
fn seen_and_broken(d: &Path) {
    let out = run_at(d, "2026-11-02T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    write(d, "out", "not a directory\n");
}

/// The slot of 06:00 fails twice and is given up.
fn given_up(d: &Path) {
    seen_and_broken(d);
    for wall in ["2026-11-02T06:00:00Z", "2026-11-02T06:01:00Z"] {
        let out = run_at(d, wall, &["run-due"]);
        assert_eq!(out.code, 1, "{out:?}");
    }
}

#[test]
fn ok_and_paused_exit_0() {
    let dir = workspace("");
    let d = dir.path();
    expect(
        &check(d, "2026-11-02T00:00:00Z"),
        0,
        "REPORTCTL OK - 1 ok, 1 paused | given_up=0 skipped=0 late=0 failing=0 ok=1 paused=1
STATE   REPORT  SLOT  TOKEN  DETAIL
ok      Daily   -     -      not seen by `reportctl run-due` yet
paused  Paused  -     -      status = \"draft\": its slots are not run
",
    );
    assert!(
        !d.join(".reportctl").exists(),
        "check created no ledger: {:?}",
        common::fixtures::files_under(d)
    );
    let out = run_at(d, "2026-11-02T06:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    expect(
        &check(d, "2026-11-02T07:00:00Z"),
        0,
        &format!("REPORTCTL OK - 1 ok, 1 paused | given_up=0 skipped=0 late=0 failing=0 ok=1 paused=1
STATE   REPORT  SLOT                       TOKEN             DETAIL
ok      Daily   {SLOT}  {TOKEN}  latest slot completed
paused  Paused  -                          -                 status = \"draft\": its slots are not run
"),
    );
}

/// A slot nobody ran (cron stopped) is late once the grace has passed: 30 minutes by
/// default, `--grace` or `check_grace_minutes` otherwise.
#[test]
fn a_slot_not_run_is_late_after_the_grace() {
    let dir = workspace("");
    let d = dir.path();
    let out = run_at(d, "2026-11-02T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    let ok = "REPORTCTL OK - 1 ok, 1 paused | given_up=0 skipped=0 late=0 failing=0 ok=1 paused=1
STATE   REPORT  SLOT  TOKEN  DETAIL
ok      Daily   -     -      no slot run yet
paused  Paused  -     -      status = \"draft\": its slots are not run
";
    expect(&check(d, "2026-11-02T06:30:00Z"), 0, ok);
    expect(
        &check(d, "2026-11-02T06:31:00Z"),
        1,
        &format!("REPORTCTL WARNING - 1 late, 1 paused | given_up=0 skipped=0 late=1 failing=0 ok=0 paused=1
STATE   REPORT  SLOT                       TOKEN             DETAIL
late    Daily   {SLOT}  {TOKEN}  not taken by run-due 31 minutes after its time (grace 30): is `reportctl run-due` called (cron)?
paused  Paused  -                          -                 status = \"draft\": its slots are not run
"),
    );
    expect(
        &at(d, "2026-11-02T06:31:00Z", &["check", "--grace", "60"]),
        0,
        ok,
    );
    write(d, "reports.toml", &config("check_grace_minutes = 45"));
    expect(&check(d, "2026-11-02T06:31:00Z"), 0, ok);
}

/// Failing (attempts left) is a warning; given up is critical, and stays so until
/// `ack`, which says so and is recorded.
#[test]
fn failing_then_given_up_until_acknowledged() {
    let dir = workspace("");
    let d = dir.path();
    seen_and_broken(d);
    let out = run_at(d, "2026-11-02T06:00:00Z", &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    expect(
        &check(d, "2026-11-02T06:00:30Z"),
        1,
        &format!("REPORTCTL WARNING - 1 failing, 1 paused | given_up=0 skipped=0 late=0 failing=1 ok=0 paused=1
STATE    REPORT  SLOT                       TOKEN             DETAIL
failing  Daily   {SLOT}  {TOKEN}  {FAILED} (attempt 1 of 2; next try at or after 2026-11-02T06:01:00Z)
paused   Paused  -                          -                 status = \"draft\": its slots are not run
"),
    );
    let out = run_at(d, "2026-11-02T06:01:00Z", &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    let critical = format!("REPORTCTL CRITICAL - 1 given up, 1 paused | given_up=1 skipped=0 late=0 failing=0 ok=0 paused=1
STATE     REPORT  SLOT                       TOKEN             DETAIL
given up  Daily   {SLOT}  {TOKEN}  {FAILED} (gave up after 2 attempts)
{PAUSED}");
    expect(&check(d, "2026-11-02T06:02:00Z"), 2, &critical);
    // Later calls of run-due have nothing to do: check stays critical.
    let out = run_at(d, "2026-11-02T07:00:00Z", &["run-due"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    expect(&check(d, "2026-11-02T12:00:00Z"), 2, &critical);

    expect(
        &at(d, "2026-11-02T12:00:00Z", &["ack", "5760b598"]),
        0,
        &format!("run {TOKEN} acknowledged by ops: check no longer reports it\n"),
    );
    expect(
        &check(d, "2026-11-02T12:00:00Z"),
        0,
        &format!("REPORTCTL OK - 1 ok, 1 paused | given_up=0 skipped=0 late=0 failing=0 ok=1 paused=1
STATE   REPORT  SLOT                       TOKEN             DETAIL
ok      Daily   {SLOT}  {TOKEN}  latest slot failed (acknowledged by ops)
paused  Paused  -                          -                 status = \"draft\": its slots are not run
"),
    );
    expect(
        &at(d, "2026-11-02T12:00:00Z", &["ack", TOKEN]),
        0,
        &format!("run {TOKEN} was settled already: acknowledged by ops\n"),
    );
    let out = at(d, "2026-11-02T12:00:00Z", &["ack", "ffffffffffffffff"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "reportctl: error: no run with token ffffffffffffffff in the ledger\n"
        ),
        "{out:?}"
    );
}

/// A later slot that completes settles the given-up one.
#[test]
fn a_later_completed_slot_settles_a_given_up_one() {
    let dir = workspace("");
    let d = dir.path();
    given_up(d);
    std::fs::remove_file(d.join("out")).unwrap();
    let out = run_at(d, "2026-11-03T06:00:00Z", &["run-due"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    expect(
        &check(d, "2026-11-03T06:00:00Z"),
        0,
        "REPORTCTL OK - 1 ok, 1 paused | given_up=0 skipped=0 late=0 failing=0 ok=1 paused=1
STATE   REPORT  SLOT                       TOKEN             DETAIL
ok      Daily   2026-11-03T06:00:00+00:00  7f148e038c5efdee  latest slot completed
paused  Paused  -                          -                 status = \"draft\": its slots are not run
",
    );
}

/// Slots skipped by one catch-up are one critical line (the latest's token) until a
/// later slot completes or `ack` settles them all; the slot the catch-up ran does not.
#[test]
fn skipped_slots_are_critical_until_acknowledged_together() {
    let dir = workspace("catch_up = 1");
    let d = dir.path();
    let out = run_at(d, "2026-11-01T00:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run_at(d, "2026-11-04T07:00:00Z", &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    let json = at(d, "2026-11-04T07:00:00Z", &["--json", "check", "Daily"]);
    assert_eq!((json.code, json.stderr.as_str()), (2, ""), "{json:?}");
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let skipped = &doc["lines"][0];
    let token = skipped["token"].as_str().unwrap().to_string();
    assert_eq!(
        doc,
        serde_json::json!({
            "status": "CRITICAL",
            "exit": 2,
            "summary": "1 skipped",
            "counts": {"given_up": 0, "skipped": 1, "late": 0, "failing": 0, "ok": 0, "paused": 0},
            "lines": [{
                "report": "Daily",
                "state": "skipped",
                "severity": "CRITICAL",
                "slot": "2026-11-03T06:00:00+00:00",
                "token": token,
                "detail": skipped["detail"],
            }],
        })
    );
    assert!(
        skipped["detail"].as_str().unwrap().starts_with(
            "3 slots skipped by one catch-up, 2026-11-01T06:00:00+00:00 to 2026-11-03T06:00:00+00:00: missed: 4 slots were due at once and catch_up = 1; run it by hand with: reportctl run \"Daily\""
        ),
        "{doc}"
    );
    expect(
        &at(d, "2026-11-04T07:00:00Z", &["ack", &token]),
        0,
        &format!("run {token} and the 2 other slots skipped with it acknowledged by ops: check no longer reports them\n"),
    );
    let out = at(d, "2026-11-04T07:00:00Z", &["check", "Daily"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("REPORTCTL OK - 1 ok | "), "{out:?}");
}

/// check's own trouble is UNKNOWN (3), never 2: usage errors (clap's too), a broken
/// configuration, a ledger it cannot read. The status line is on stdout.
#[test]
fn its_own_errors_are_unknown_3() {
    let dir = workspace("");
    let d = dir.path();
    let out = check(d, "2026-11-02T00:00:00Z");
    assert_eq!(out.code, 0, "{out:?}");
    let out = at(d, "2026-11-02T00:00:00Z", &["check", "--bogus"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            3,
            "REPORTCTL UNKNOWN - usage: unexpected argument '--bogus' found\n"
        ),
        "{out:?}"
    );
    let out = at(d, "2026-11-02T00:00:00Z", &["check", "Nope"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            3,
            "REPORTCTL UNKNOWN - no report named \"Nope\" in reports.toml; reports: Daily, Paused\n",
            "reportctl: error: no report named \"Nope\" in reports.toml; reports: Daily, Paused\n"
        ),
    );
    // Elsewhere a usage error stays 2.
    let out = at(d, "2026-11-02T00:00:00Z", &["list", "--bogus"]);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
    // A ledger that is not a database.
    write(
        d,
        ".reportctl/ledger.sqlite",
        "not a database, but 32 bytes or more of text\n",
    );
    let out = at(d, "2026-11-02T00:00:00Z", &["--json", "check"]);
    assert_eq!(out.code, 3, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (&doc["status"], &doc["exit"]),
        (&"UNKNOWN".into(), &3.into())
    );
    // A configuration error.
    write(d, "reports.toml", "[settings]\ncheck_grace_minutes = -1\n");
    let out = at(d, "2026-11-02T00:00:00Z", &["check"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.starts_with("REPORTCTL UNKNOWN - "), "{out:?}");
    assert!(
        out.stderr.contains("check_grace_minutes"),
        "the key is named: {out:?}"
    );
}
