//! Regressions of issue 10 in configuration, schedules and `plan`: daily windows that
//! tile across a DST change, a bounded and streamed `plan --count`, `validate` refusing
//! configurations that cannot run, and messages that name what is wrong.

use crate::common;

use crate::common::{run, tempdir, write};

const BASE: &str = r#"[sources.events]
kind = "sqlite"
init = ["events.sql"]

[destinations.local]
kind = "directory"
path = "out"
"#;

/// One report with `extra` report keys and the given schedule.
fn config(extra: &str, schedule: &str) -> String {
    format!(
        "{BASE}\n[[reports]]\nname = \"Daily Views\"\ntype = \"VIEWS\"\nsource = \"events\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n{extra}\n[reports.schedule]\n{schedule}\n"
    )
}

/// (from, to) of each `plan --json` line.
fn windows(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["from"].as_str().unwrap().to_string(),
                v["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A daily 02:15 report for the previous 24 hours in New York: the spring-forward run
/// (02:15 does not exist on 2026-03-08, it runs at 03:00) still covers from 02:15 the day
/// before, so no minute is left out.
#[test]
fn daily_previous_time_windows_tile_across_spring_forward() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config(
            "timezone = \"America/New_York\"",
            "frequency = \"daily\"\nat = \"02:15\"\ndelay = 0\nprevious_time = 24",
        ),
    );
    let out = run(
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-03-06T12:00:00Z",
            "--count",
            "4",
            "--json",
        ],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let got = windows(&out.stdout);
    let want = [
        ("2026-03-06T02:15:00-05:00", "2026-03-07T02:15:00-05:00"),
        ("2026-03-07T02:15:00-05:00", "2026-03-08T03:00:00-04:00"),
        ("2026-03-08T03:00:00-04:00", "2026-03-09T02:15:00-04:00"),
        ("2026-03-09T02:15:00-04:00", "2026-03-10T02:15:00-04:00"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    assert_eq!(got, want, "{out:?}");
    for pair in got.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "consecutive windows tile");
    }
}

/// `plan --count` is bounded: a huge count is a usage error naming the allowed range,
/// at once (it used to allocate gigabytes and run for minutes).
#[test]
fn plan_count_is_bounded() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config("", "frequency = \"hourly\""),
    );
    for count in ["10001", "1000000", "4294967295", "0"] {
        let started = std::time::Instant::now();
        let out = run(dir.path(), &["plan", "--count", count, "--json"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            format!("reportctl: error: --count {count} is out of range; allowed: 1 to 10000 runs per report (for runs further ahead, plan from a later --now)\n")
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

/// The largest count: every report's runs, merged in time order with ties in
/// configuration order, one line each.
#[test]
fn plan_count_at_the_limit_is_merged_in_order() {
    let dir = tempdir();
    let two = format!(
        "{}\n[[reports]]\nname = \"Hourly\"\ntype = \"H\"\nsource = \"events\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n[reports.schedule]\nfrequency = \"hourly\"\n",
        config("", "frequency = \"daily\"\nat = \"06:00\"")
    );
    write(dir.path(), "reports.toml", &two);
    let out = run(
        dir.path(),
        &[
            "plan",
            "--count",
            "10000",
            "--now",
            "2026-01-01T00:00:00Z",
            "--json",
        ],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let lines = crate::common::json_lines(&out.stdout);
    assert_eq!(lines.len(), 20_000);
    let key = |v: &serde_json::Value| {
        let at = chrono::DateTime::parse_from_rfc3339(v["run_at"].as_str().unwrap()).unwrap();
        (at, v["report"] != "Daily Views")
    };
    for pair in lines.windows(2) {
        assert!(key(&pair[0]) < key(&pair[1]), "{pair:?}");
    }
    // 06:00 UTC: the daily run comes before the hourly run at the same instant.
    assert_eq!(lines[6]["report"], "Daily Views");
    assert_eq!(lines[6]["run_at"], "2026-01-01T06:00:00+00:00");
    assert_eq!(lines[7]["report"], "Hourly");
    assert_eq!(lines[7]["run_at"], "2026-01-01T06:00:00+00:00");
    assert_eq!(lines.last().unwrap()["run_at"], "2053-05-18T06:00:00+00:00");
}

/// `validate` on `text`: (exit code, stderr).
fn validate(text: &str) -> (i32, String) {
    let dir = tempdir();
    write(dir.path(), "reports.toml", text);
    write(dir.path(), "events.sql", "create table t(x);\n");
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.stdout, "");
    (out.code, out.stderr)
}

/// A duplicate key is named; a table given twice is named as a table.
#[test]
fn duplicate_keys_are_named() {
    let text = config("name = \"Again\"", "frequency = \"daily\"");
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:15:1: duplicate key `name`: it is already set in this table; keep one of them\n".to_string())
    );
    let text = config("", "frequency = \"daily\"\nfrequency = \"weekly\"");
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:18:1: duplicate key `frequency`: it is already set in this table; keep one of them\n".to_string())
    );
    let text = format!(
        "[settings]\ntimezone = \"UTC\"\n[settings]\ncatch_up = 3\n{}",
        config("", "frequency = \"daily\"")
    );
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:3:2: the table `[settings]` appears twice; put its keys under one `[settings]`\n".to_string())
    );
}

/// An integer too large for 64 bits gets the key's allowed range, like any other
/// value out of range.
#[test]
fn huge_integers_get_the_allowed_range() {
    for huge in [
        "99999999999999999999",
        "18446744073709551615",
        "-9223372036854775809",
    ] {
        let text = config(
            "",
            &format!("frequency = \"daily\"\nevery = {huge}\nstart = 2026-01-01"),
        );
        assert_eq!(
            validate(&text),
            (2, format!("reportctl: error: reports.toml:18:9: report \"Daily Views\", key `schedule.every`: {huge} is out of range; allowed: 1 to 6 (daily periods between runs)\n"))
        );
    }
    let text = format!(
        "[settings]\ncatch_up = 99999999999999999999\n{}",
        config("", "frequency = \"daily\"")
    );
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:2:12: [settings], key `catch_up`: 99999999999999999999 is out of range; allowed: 1 to 1000 slots\n".to_string())
    );
    let text = format!(
        "[settings.csv]\ncompress_above_mb = 99999999999999999999\ncompression = \"gzip\"\n{}",
        config("", "frequency = \"daily\"")
    );
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:2:21: [settings], key `csv.compress_above_mb`: 99999999999999999999 is out of range; allowed: more than 0 up to 1048576 (MB)\n".to_string())
    );
}

/// A `TZ` that names no zone is not ignored silently: one warning names it and the zone
/// used instead.
#[test]
fn unknown_tz_value_is_warned_about_once() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config("", "frequency = \"daily\""),
    );
    let out = common::command(
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-01-01T00:00:00Z",
            "--count",
            "1",
            "--json",
        ],
    )
    .env("TZ", "Mars/Base")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let prefix = "reportctl: warning: TZ=\"Mars/Base\" is not an IANA time zone name; using ";
    let suffix = " (the system zone) instead; set TZ to a name such as America/New_York, or `timezone` in [settings]\n";
    assert!(
        stderr.starts_with(prefix) && stderr.ends_with(suffix),
        "{stderr}"
    );
    // A zone name, or none: no warning.
    for tz in ["America/New_York", ":Europe/London"] {
        let out = common::command(
            dir.path(),
            &["plan", "--now", "2026-01-01T00:00:00Z", "--count", "1"],
        )
        .env("TZ", tz)
        .output()
        .unwrap();
        assert_eq!(
            (out.status.code(), out.stderr.as_slice()),
            (Some(0), &b""[..])
        );
    }
}

/// A configuration with a SQLite file source `db` at `path`, settings `settings` and
/// one report whose query lines are `query`; `validate` run on it in a directory
/// holding `data.db` (a database with a table `t`), `dir/` (a directory), `random.db`
/// (random bytes) and `empty.db` (0 bytes).
fn validate_db(settings: &str, source: &str, query: &str) -> (i32, String) {
    validate_db_args(&["validate"], settings, source, query)
}

/// `validate_db` with the command line `args`.
fn validate_db_args(args: &[&str], settings: &str, source: &str, query: &str) -> (i32, String) {
    let dir = tempdir();
    let conn = rusqlite::Connection::open(dir.path().join("data.db")).unwrap();
    conn.execute_batch("create table t(x); insert into t values (1);")
        .unwrap();
    drop(conn);
    std::fs::create_dir(dir.path().join("dir")).unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("random.db"), noise).unwrap();
    write(dir.path(), "empty.db", "");
    write(
        dir.path(),
        "comments.sql",
        "-- the query goes here\n/* later */\n",
    );
    let text = format!(
        "[settings]\n{settings}\n\n[sources.db]\n{source}\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Daily Views\"\ntype = \"VIEWS\"\nsource = \"db\"\ndestinations = [\"local\"]\n{query}\n[reports.schedule]\nfrequency = \"daily\"\n"
    );
    write(dir.path(), "reports.toml", &text);
    let out = run(dir.path(), args);
    assert_eq!(out.stdout, "");
    (out.code, out.stderr)
}

const SQLITE_DB: &str = "kind = \"sqlite\"\npath = \"data.db\"";

/// `validate` refuses SQLite source paths that are no database, naming the key.
#[test]
fn validate_refuses_sqlite_paths_that_are_no_database() {
    let ok = validate_db("", SQLITE_DB, "query = \"select x from t\"");
    assert_eq!(ok, (0, String::new()));
    for (path, why) in [
        ("dir", "dir is a directory; give the path of a SQLite database file"),
        ("random.db", "random.db is not a SQLite database (file is not a database); give the path of a database file"),
        ("empty.db", "empty.db is empty (0 bytes), not a SQLite database; give the path of a database file"),
    ] {
        let source = format!("kind = \"sqlite\"\npath = \"{path}\"");
        assert_eq!(
            validate_db("", &source, "query = \"select 1\""),
            (2, format!("reportctl: error: reports.toml:6:8: source \"db\", key `path`: {why}\n")),
            "{path}"
        );
    }
}

/// `validate` refuses a ledger path (`state`) that is a directory or no database; a
/// ledger not created yet is fine; an empty file is not (reportctl refuses to run on one).
#[test]
fn validate_refuses_a_state_that_is_no_database() {
    let query = "query = \"select x from t\"";
    assert_eq!(
        validate_db("state = \"dir\"", SQLITE_DB, query),
        (2, "reportctl: error: reports.toml:2:9: [settings], key `state`: dir is a directory; give the path of a SQLite database file\n".to_string())
    );
    assert_eq!(
        validate_db("state = \"random.db\"", SQLITE_DB, query),
        (2, "reportctl: error: reports.toml:2:9: [settings], key `state`: random.db is not a SQLite database (file is not a database); give the path of a database file\n".to_string())
    );
    assert_eq!(
        validate_db("state = \"empty.db\"", SQLITE_DB, query),
        (2, "reportctl: error: reports.toml:2:9: [settings], key `state`: empty.db is empty (0 bytes), so it is not a reportctl ledger; move it aside (reportctl creates a new ledger where no file is) or point state at another file\n".to_string())
    );
    assert_eq!(
        validate_db("state = \"new/ledger.sqlite\"", SQLITE_DB, query),
        (0, String::new()),
        "a ledger that does not exist yet is fine"
    );
}

/// `validate` refuses queries that are not read-only: SQLite decides on the prepared
/// statement, PostgreSQL queries are judged from their text, command sources' queries
/// are left alone.
#[test]
fn validate_refuses_queries_that_write() {
    const ONLY_READ: &str =
        "a report's query must only read: SELECT, WITH … SELECT, VALUES or TABLE";
    for (query, why) in [
        ("delete from t", "`DELETE` is not a read-only statement"),
        (
            "INSERT INTO t VALUES (2)",
            "`INSERT` is not a read-only statement",
        ),
        (
            "update t set x = 2 returning x",
            "`UPDATE` is not a read-only statement",
        ),
        ("VACUUM", "`VACUUM` is not a read-only statement"),
        (
            "ATTACH 'other.db' AS other",
            "`ATTACH` is not a read-only statement",
        ),
    ] {
        assert_eq!(
            validate_db("", SQLITE_DB, &format!("query = \"{query}\"")),
            (2, format!("reportctl: error: reports.toml:17:9: report \"Daily Views\", key `query`: source \"db\": {why}; {ONLY_READ}\n")),
            "{query}"
        );
    }
    assert_eq!(
        validate_db("", SQLITE_DB, "query = \"PRAGMA optimize\""),
        (2, format!("reportctl: error: reports.toml:17:9: report \"Daily Views\", key `query`: source \"db\": `PRAGMA` statements may change the database; {ONLY_READ} (read a pragma as a table: SELECT * FROM pragma_table_info('t'))\n"))
    );
    assert_eq!(
        validate_db("", SQLITE_DB, "query_file = \"comments.sql\""),
        (2, "reportctl: error: reports.toml:17:14: report \"Daily Views\", key `query_file`: source \"db\": the query holds no SQL statement, only blanks or comments; write the SELECT\n".to_string())
    );
    // An in-memory database built by `init` scripts is asked too.
    let init = "kind = \"sqlite\"\ninit = [\"init.sql\"]";
    let dir_init = |query: &str| {
        let dir = tempdir();
        write(dir.path(), "init.sql", "create table t(x);\n");
        let text = format!("[sources.db]\n{init}\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"R\"\ntype = \"X\"\nsource = \"db\"\ndestinations = [\"local\"]\nquery = \"{query}\"\n[reports.schedule]\nfrequency = \"daily\"\n");
        write(dir.path(), "reports.toml", &text);
        let out = run(dir.path(), &["validate"]);
        (out.code, out.stderr)
    };
    assert_eq!(
        dir_init("select x from t where x >= :from_epoch"),
        (0, String::new())
    );
    assert_eq!(
        dir_init("delete from t"),
        (2, format!("reportctl: error: reports.toml:14:9: report \"R\", key `query`: source \"db\": `DELETE` is not a read-only statement; {ONLY_READ}\n"))
    );

    // PostgreSQL, classified from the text (no server is asked: --offline; without it
    // the server would be asked to prepare the query).
    let pg = "kind = \"postgres\"\nurl = \"postgres://reporter@127.0.0.1:9/db\"";
    let fine = "query = \"with w as (select 1 as x) select x from w where now() >= :from\"";
    let offline = ["validate", "--offline"];
    assert_eq!(validate_db_args(&offline, "", pg, fine), (0, String::new()));
    for (query, why) in [
        (
            "DELETE FROM t",
            "`DELETE` is not a read-only statement".to_string(),
        ),
        (
            "explain delete from t",
            "EXPLAIN of a statement that does not only read: `DELETE` is not a read-only statement"
                .to_string(),
        ),
        (
            "prepare p as select 1",
            "`PREPARE` is not a read-only statement".to_string(),
        ),
        (
            "with d as (delete from t returning *) select * from d",
            "the query holds a DELETE".to_string(),
        ),
        (
            "select * into t2 from t",
            "`SELECT … INTO` creates a table".to_string(),
        ),
    ] {
        assert_eq!(
            validate_db("", pg, &format!("query = \"{query}\"")),
            (2, format!("reportctl: error: reports.toml:17:9: report \"Daily Views\", key `query`: source \"db\": {why}; {ONLY_READ}\n")),
            "{query}"
        );
    }
    // A command source's query goes to an engine reportctl does not know.
    let cmd = "kind = \"command\"\nprogram = \"cat\"";
    assert_eq!(
        validate_db("", cmd, "query = \"delete from t\""),
        (0, String::new())
    );
}
