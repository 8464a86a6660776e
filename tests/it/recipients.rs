//! Recipients (bursting), through the binary: one report definition, one run per
//! (slot, recipient), each with its own rows (the recipient's columns bound as
//! parameters), its own file names and destination fields, its own token, receipts and
//! retries; recipients added and removed between slots; hostile values refused for
//! their recipient only. The servers' side is in `recipients_servers.rs`.

use std::path::Path;

use crate::common::{self, json_lines, run, write};

/// Partners `p1`…`pN` (`partners(id, name, email, active)`) and three orders a day for
/// each of the first three partners, plus one for `p1` on another day.
pub fn partners_sql(n: usize, extra: &str) -> String {
    let mut sql = String::from(
        "create table partners(id text, name text, email text, active integer);\n\
         create table orders(partner text, day text, amount integer);\n",
    );
    for i in 1..=n {
        sql.push_str(&format!(
            "insert into partners values ('p{i}', 'Partner {i}', 'p{i}@partners.example', 1);\n"
        ));
        for k in 0..3 {
            sql.push_str(&format!(
                "insert into orders values ('p{i}', '2026-11-23', {});\n",
                i * 100 + k
            ));
        }
    }
    sql.push_str("insert into orders values ('p1', '2026-11-22', 999);\n");
    sql.push_str(extra);
    sql
}

/// A daily report "Orders" at 06:00 UTC (its default window: the day before yesterday) on `data.sql`, one
/// file per partner with only its rows, into `out/{recipient.id}`; `recipients` is the
/// body of `[reports.recipients]`.
pub fn config(recipients: &str, destinations: &str, names: &str) -> String {
    format!(
        r#"[settings]
timezone = "UTC"
retry_delay_seconds = 60
delivery_retries = 0

[sources.db]
kind = "sqlite"
init = ["data.sql"]

[destinations.out]
kind = "directory"
path = "out/{{recipient.id}}"
{destinations}
{}"#,
        report("db", names, "", recipients)
    )
}

/// The report "Orders" on `source` to `names`, with `[reports.recipients]` keyed by
/// `id` and `recipients` in it; `extra` goes into the report's table.
pub fn report(source: &str, names: &str, extra: &str, recipients: &str) -> String {
    format!(
        r#"[[reports]]
name = "Orders"
type = "ORDERS"
source = "{source}"
destinations = [{names}]
file_name = "{{type}}_{{recipient.id}}_{{from}}.csv"
query = "SELECT partner, day, amount{extra} FROM orders WHERE partner = :id AND day >= :from_date AND day <= :to_date ORDER BY amount"
[reports.schedule]
frequency = "daily"
at = "06:00"
[reports.recipients]
key = "id"
{recipients}
"#
    )
}

const QUERY: &str =
    r#"query = "SELECT id, name, email FROM partners WHERE active = 1 ORDER BY id""#;

/// `run-due` at `now` (the wall clock standing still a minute later).
fn run_due(d: &Path, now: &str) -> common::Output {
    let wall = (chrono::DateTime::parse_from_rfc3339(now).unwrap() + chrono::Duration::minutes(1))
        .to_rfc3339();
    common::run_at(d, &wall, &["run-due", "--now", now, "--json"])
}

fn read(d: &Path, p: &str) -> String {
    std::fs::read_to_string(d.join(p)).unwrap_or_else(|e| {
        panic!(
            "{p}: {e}; there are: {:?}",
            common::fixtures::files_under(&d.join("out"))
        )
    })
}

#[test]
fn a_list_of_recipients_gets_one_run_each_with_only_its_rows() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(3, ""));
    let list = r#"list = [
  { id = "p1", email = "p1@partners.example" },
  { id = "p2", email = "p2@partners.example" },
]"#;
    write(d, "reports.toml", &config(list, "", "\"out\""));
    let out = run(d, &["validate", "--offline"]);
    assert_eq!(out.code, 0, "{out:?}");
    // First sight, then the slot of 11-25 06:00 (covering 11-23) runs once per recipient.
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    let out = run_due(d, "2026-11-25T12:00:00Z");
    assert_eq!(out.code, 0, "{out:?}");
    let runs = json_lines(&out.stdout);
    assert_eq!(runs.len(), 2, "{out:?}");
    let mut keys: Vec<&str> = runs
        .iter()
        .map(|r| r["recipient"].as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(keys, ["p1", "p2"]);
    assert_ne!(runs[0]["token"], runs[1]["token"]);
    assert_eq!(
        read(d, "out/p1/ORDERS_p1_20261123.csv"),
        "partner,day,amount\np1,2026-11-23,100\np1,2026-11-23,101\np1,2026-11-23,102\n"
    );
    assert_eq!(
        read(d, "out/p2/ORDERS_p2_20261123.csv"),
        "partner,day,amount\np2,2026-11-23,200\np2,2026-11-23,201\np2,2026-11-23,202\n"
    );
    assert!(!d.join("out/p3").exists());
    // Exactly once: nothing more is due.
    let again = run_due(d, "2026-11-25T13:00:00Z");
    assert_eq!((again.code, again.stdout.as_str()), (0, ""), "{again:?}");
    // history shows each recipient.
    let h = run(d, &["history", "Orders"]);
    assert_eq!(h.code, 0, "{h:?}");
    let head = h.stdout.lines().next().unwrap();
    assert!(
        head.starts_with("TOKEN") && head.contains("RECIPIENT"),
        "{h:?}"
    );
    assert_eq!(
        h.stdout.lines().filter(|l| l.contains(" p1 ")).count(),
        1,
        "{h:?}"
    );
    assert_eq!(
        h.stdout.lines().filter(|l| l.contains(" p2 ")).count(),
        1,
        "{h:?}"
    );
}

#[test]
fn a_query_fixes_each_slot_s_recipients_added_and_removed_ones_show_in_history() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(3, ""));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    let out = run_due(d, "2026-11-25T12:00:00Z");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(json_lines(&out.stdout).len(), 3, "{out:?}");
    // p2 leaves, p4 arrives: the next slot has p1, p3 and p4; p4 gets no earlier slot.
    write(
        d,
        "data.sql",
        &partners_sql(4, "update partners set active = 0 where id = 'p2';\n"),
    );
    let out = run_due(d, "2026-11-26T12:00:00Z");
    assert_eq!(out.code, 0, "{out:?}");
    let mut keys: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|r| r["recipient"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["p1", "p3", "p4"]);
    assert!(!d.join("out/p4/ORDERS_p4_20261123.csv").exists());
    assert!(d.join("out/p4/ORDERS_p4_20261124.csv").exists());
    assert!(!d.join("out/p2/ORDERS_p2_20261124.csv").exists());
    let h = run(d, &["--json", "history", "Orders"]);
    let per_slot = |key: &str| {
        json_lines(&h.stdout)
            .iter()
            .filter(|r| r["recipient"] == key)
            .count()
    };
    assert_eq!(
        (per_slot("p1"), per_slot("p2"), per_slot("p4")),
        (2, 1, 1),
        "{h:?}"
    );
}

#[test]
fn a_hostile_value_fails_its_recipient_only() {
    let dir = common::tempdir();
    let d = dir.path();
    let hostile = "insert into partners values ('../x', 'Dots', 'd@x.com', 1);\n\
                   insert into partners values ('a/b', 'Slash', 's@x.com', 1);\n";
    write(d, "data.sql", &partners_sql(2, hostile));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    let out = run_due(d, "2026-11-25T12:00:00Z");
    assert_eq!(out.code, 1, "{out:?}");
    let runs = json_lines(&out.stdout);
    let status = |key: &str| {
        let r = runs.iter().find(|r| r["recipient"] == key).unwrap();
        (
            r["status"].as_str().unwrap().to_string(),
            r["detail"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(status("p1").0, "completed");
    assert_eq!(status("p2").0, "completed");
    let (s, detail) = status("../x");
    assert_eq!(s, "failed");
    assert!(
        detail.starts_with("report \"Orders\", recipient \"../x\": file_name: {recipient.id}: \"../x\" contains `/`"),
        "{detail}"
    );
    let (s, detail) = status("a/b");
    assert_eq!(s, "failed");
    assert!(detail.contains("\"a/b\" contains `/`"), "{detail}");
    assert!(out.stderr.contains("Orders (recipient ../x)"), "{out:?}");
    assert!(d.join("out/p1/ORDERS_p1_20261123.csv").exists());
    assert!(!d.join("x").exists() && !d.join("out/a").exists());
}

#[test]
fn run_and_send_test_take_one_recipient() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(3, ""));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    let args = [
        "run",
        "Orders",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
    ];
    let out = run(d, &[&args[..], &["--recipient", "p2", "-o", "-"]].concat());
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "partner,day,amount\np2,2026-11-23,200\np2,2026-11-23,201\np2,2026-11-23,202\n"
    );
    let out = run(d, &args);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: report \"Orders\" has recipients: give --recipient KEY to run one of them\n"
    );
    let out = run(d, &[&args[..], &["--recipient", "p9"]].concat());
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("has no recipient \"p9\" for this window; recipients: p1, p2, p3"),
        "{out:?}"
    );
    let out = run(d, &[&args[..], &["--recipient", "p3"]].concat());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(d.join("out/p3/ORDERS_p3_20261123.csv").exists());
}

#[test]
fn validate_checks_the_recipient_columns_placeholders_name() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(1, ""));
    let cfg = config(QUERY, "", "\"out\"").replace("out/{recipient.id}", "out/{recipient.ident}");
    write(d, "reports.toml", &cfg);
    let out = run(d, &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("destination \"out\" path names {recipient.ident}, but the recipients have no column \"ident\"; columns: id, name, email"),
        "{out:?}"
    );
    let list = r#"list = [{ id = "p1" }, { id = "p1" }]"#;
    write(d, "reports.toml", &config(list, "", "\"out\""));
    let out = run(d, &["validate", "--offline"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("the key \"id\" = \"p1\" is given to more than one recipient"),
        "{out:?}"
    );
}

#[test]
fn plan_fans_out_a_list_and_says_a_query_s_recipients_come_at_each_slot() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(1, ""));
    let list = r#"list = [{ id = "p1" }, { id = "p2" }]"#;
    write(d, "reports.toml", &config(list, "", "\"out\""));
    let now = ["--now", "2026-11-25T00:00:00Z", "--count", "1"];
    let out = run(d, &[&["--json", "plan"][..], &now].concat());
    assert_eq!(out.code, 0, "{out:?}");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2, "{out:?}");
    assert_eq!(lines[0]["recipient"], "p1");
    assert_eq!(lines[1]["files"][0], "ORDERS_p2_20261123.csv");
    let out = run(d, &[&["plan"][..], &now].concat());
    assert_eq!(
        out.stdout,
        "REPORT  RECIPIENT  RUN AT                     FROM                       TO                         FILES\n\
         Orders  p1         2026-11-25T06:00:00+00:00  2026-11-23T00:00:00+00:00  2026-11-24T00:00:00+00:00  ORDERS_p1_20261123.csv\n\
         Orders  p2         2026-11-25T06:00:00+00:00  2026-11-23T00:00:00+00:00  2026-11-24T00:00:00+00:00  ORDERS_p2_20261123.csv\n"
    );
    // A query: plan connects to nothing (the source need not exist) and says so.
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    let out = run(d, &[&["--json", "plan"][..], &now].concat());
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1, "{out:?}");
    assert_eq!(lines[0]["recipient"], serde_json::Value::Null);
    assert_eq!(lines[0]["recipients_from_query"], true);
    assert_eq!(lines[0]["files"][0], "ORDERS_{recipient.id}_20261123.csv");
}

#[test]
fn check_names_each_failing_recipient() {
    let dir = common::tempdir();
    let d = dir.path();
    let hostile = "insert into partners values ('a/b', 'Slash', 's@x.com', 1);\n";
    write(d, "data.sql", &partners_sql(2, hostile));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    assert_eq!(run_due(d, "2026-11-25T12:00:00Z").code, 1);
    let out = common::run_at(d, "2026-11-25T12:02:00Z", &["--json", "check"]);
    assert_eq!(out.code, 1, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(doc["counts"]["failing"], 1, "{doc}");
    let failing: Vec<_> = doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["state"] == "failing")
        .collect();
    assert_eq!(failing[0]["recipient"], "a/b", "{doc}");
}

#[test]
fn dry_run_shows_each_recipient_s_run_and_records_nothing() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(2, ""));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    let now = ["run-due", "--dry-run", "--now", "2026-11-25T12:00:00Z"];
    let out = run(d, &now);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(
        lines[0].starts_with("run Orders (recipient p1) 2026-11-25T06:00:00+00:00 ["),
        "{out:?}"
    );
    let out = run(d, &[&["--json"][..], &now].concat());
    assert_eq!(json_lines(&out.stdout)[1]["recipient"], "p2", "{out:?}");
    assert!(!d.join("out").exists());
}

/// The metrics of a report with recipients: per report, how many recipients its latest
/// slot has and how many of them failed; no label per recipient.
pub fn metrics_of_a_failing_recipient(d: &Path) -> String {
    let hostile = "insert into partners values ('a/b', 'Slash', 's@x.com', 1);\n";
    write(d, "data.sql", &partners_sql(2, hostile));
    let cfg = config(QUERY, "", "\"out\"").replace(
        "[settings]\n",
        "[settings]\nmetrics_file = \"reportctl.prom\"\n",
    );
    write(d, "reports.toml", &cfg);
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    assert_eq!(run_due(d, "2026-11-25T12:00:00Z").code, 1);
    read(d, "reportctl.prom")
}

#[test]
fn metrics_count_recipients_per_report() {
    let dir = common::tempdir();
    let text = metrics_of_a_failing_recipient(dir.path());
    assert!(
        text.contains("\nreportctl_report_recipients{report=\"Orders\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("\nreportctl_report_recipients_failed{report=\"Orders\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("recipient=\""), "{text}");
}

#[test]
fn recipients_configuration_errors_name_file_line_report_and_key() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(1, ""));
    let check = |recipients: &str, want: &str| {
        write(d, "reports.toml", &config(recipients, "", "\"out\""));
        let out = run(d, &["validate", "--offline"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains(want), "want {want}\n{out:?}");
    };
    check(
        "list = [{ id = \"p1\" }, { id = \"p2\", email = \"x\" }]",
        "report \"Orders\", key `recipients.list`: every recipient has the same columns, in the same order: id",
    );
    check(
        "list = [{ id = 1.5 }]",
        "column \"id\" is a float; a recipient's values are text or integers",
    );
    check(
        "list = [{ id = \"p1\" }]\nquery = \"SELECT 1\"",
        "key `recipients`: give either `list = [{ … }, …]` or `query = \"SELECT …\"`",
    );
    check(
        "query = \"SELECT id FROM partners\"\nsource = \"nope\"",
        "key `recipients.source`: unknown source \"nope\"; defined: db",
    );
    write(
        d,
        "reports.toml",
        &config("list = [{ id = \"p1\" }]", "", "\"out\"").replace("key = \"id\"\n", ""),
    );
    let out = run(d, &["validate", "--offline"]);
    assert!(
        out.stderr.contains("key `recipients.key`: missing key"),
        "{out:?}"
    );
    // A report without recipients cannot use their placeholders.
    let cfg = config("list = [{ id = \"p1\" }]", "", "\"out\"");
    let cfg = cfg.replace(
        "[reports.recipients]\nkey = \"id\"\nlist = [{ id = \"p1\" }]\n",
        "",
    );
    write(d, "reports.toml", &cfg.replace(":id", "'p1'"));
    let out = run(d, &["validate", "--offline"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("key `recipients`: file_name names {recipient.id}, but the report has no [reports.recipients]"),
        "{out:?}"
    );
}

#[test]
fn send_test_takes_the_first_recipient_or_the_one_named() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(3, ""));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    let now = ["--now", "2026-11-25T12:00:00Z"];
    let out = common::run_at(
        d,
        "2026-11-25T12:00:00Z",
        &[&["--json", "send-test", "Orders"][..], &now].concat(),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let run: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (&run["recipient"], &run["kind"]),
        (&"p1".into(), &"test".into())
    );
    assert!(d.join("out/p1/TEST_ORDERS_p1_20261123.csv").exists());
    let args = [&["send-test", "Orders", "--recipient", "p3"][..], &now].concat();
    let out = common::run_at(d, "2026-11-25T12:05:00Z", &args);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(d.join("out/p3/TEST_ORDERS_p3_20261123.csv").exists());
}

#[test]
fn a_recipient_that_disappears_still_gets_the_run_owed_to_it() {
    let dir = common::tempdir();
    let d = dir.path();
    write(d, "data.sql", &partners_sql(2, ""));
    write(d, "reports.toml", &config(QUERY, "", "\"out\""));
    assert_eq!(run_due(d, "2026-11-24T12:00:00Z").code, 0);
    // p2's folder cannot be made (a file is in the way): its run fails, p1's completes.
    write(d, "out/p2", "in the way");
    let out = run_due(d, "2026-11-25T12:00:00Z");
    assert_eq!(out.code, 1, "{out:?}");
    // p2 leaves the partners; its owed run is still delivered (with its recorded
    // columns), and the next slot is p1's alone.
    std::fs::remove_file(d.join("out/p2")).unwrap();
    write(
        d,
        "data.sql",
        &partners_sql(2, "update partners set active = 0 where id = 'p2';\n"),
    );
    let out = run_due(d, "2026-11-26T12:00:00Z");
    assert_eq!(out.code, 0, "{out:?}");
    let runs = json_lines(&out.stdout);
    let done: Vec<(String, String)> = runs
        .iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap().into(),
                r["run_at"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(done.len(), 2, "{out:?}");
    assert!(
        done.contains(&("p2".into(), "2026-11-25T06:00:00+00:00".into())),
        "{done:?}"
    );
    assert!(
        done.contains(&("p1".into(), "2026-11-26T06:00:00+00:00".into())),
        "{done:?}"
    );
    assert!(d.join("out/p2/ORDERS_p2_20261123.csv").exists());
    assert!(!d.join("out/p2/ORDERS_p2_20261124.csv").exists());
}
