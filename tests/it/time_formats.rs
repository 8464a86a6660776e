//! A sqlite source's `time_format`: the window's `:from` and `:to` bind in the form the
//! database stores its times in. SQLite's own `CURRENT_TIMESTAMP` text, local text,
//! Unix seconds and milliseconds, each across two days in Paris, against the rows
//! picked by hand; the default (RFC 3339) on `CURRENT_TIMESTAMP` text shows the wrong
//! rows, and `validate` warns where an events mapping's time column does not match.

use crate::common::{run, tempdir, write};

/// Rows around the Paris day 2026-11-29 (UTC 2026-11-28 23:00 to 2026-11-29 23:00),
/// each table in one form. Rows 2 to 4 (text) or 2 and 3 (the others) are that day.
const DATA: &str = "\
CREATE TABLE t_sqlite(id INTEGER PRIMARY KEY, ts TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
INSERT INTO t_sqlite(id, ts) VALUES (1, '2026-11-28 22:59:59'), (2, '2026-11-28 23:00:00'),
  (3, '2026-11-29 12:00:00'), (4, '2026-11-29 22:59:59'), (5, '2026-11-29 23:00:00'),
  (6, '2026-11-30 08:00:00');
CREATE TABLE t_local(id INTEGER PRIMARY KEY, ts TEXT);
INSERT INTO t_local VALUES (1, '2026-11-28 23:59:59'), (2, '2026-11-29 00:00:00'),
  (3, '2026-11-29 23:59:59'), (4, '2026-11-30 00:00:00');
CREATE TABLE t_unix(id INTEGER PRIMARY KEY, ts INTEGER);
INSERT INTO t_unix VALUES (1, 1795906799), (2, 1795906800), (3, 1795993199), (4, 1795993200);
CREATE TABLE t_ms(id INTEGER PRIMARY KEY, ts INTEGER);
INSERT INTO t_ms VALUES (1, 1795906799999), (2, 1795906800000), (3, 1795993199999),
  (4, 1795993200000);
";

/// A source per form over the same data, and a daily "yesterday" report per source.
fn config(sources: &[(&str, &str, &str)]) -> String {
    let mut s = String::from(
        "[settings]\ntimezone = \"Europe/Paris\"\n\n[destinations.out]\nkind = \"directory\"\npath = \"out\"\n",
    );
    for (name, format, table) in sources {
        let format = match *format {
            "" => String::new(),
            f => format!("time_format = \"{f}\"\n"),
        };
        s.push_str(&format!(
            "\n[sources.{name}]\nkind = \"sqlite\"\ninit = [\"data.sql\"]\n{format}\n[[reports]]\nname = \"{name}\"\ntype = \"V\"\nsource = \"{name}\"\ndestinations = [\"out\"]\nquery = \"SELECT id FROM {table} WHERE ts >= :from AND ts < :to ORDER BY id\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"7:00\"\nwindow = \"yesterday\"\n"
        ));
    }
    s
}

#[test]
fn each_format_returns_exactly_yesterdays_rows() {
    let dir = tempdir();
    write(dir.path(), "data.sql", DATA);
    write(
        dir.path(),
        "reports.toml",
        &config(&[
            ("sqlite", "sqlite", "t_sqlite"),
            ("default", "", "t_sqlite"),
            ("rfc3339", "rfc3339", "t_sqlite"),
            ("local", "local", "t_local"),
            ("unix", "unix", "t_unix"),
            ("unix_ms", "unix_ms", "t_ms"),
        ]),
    );
    let out = run(dir.path(), &["validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let rows = |report: &str| {
        let out = run(
            dir.path(),
            &["run", report, "-o", "-", "--now", "2026-11-30T07:30"],
        );
        assert_eq!(out.code, 0, "{report}: {out:?}");
        out.stdout
    };
    assert_eq!(rows("sqlite"), "id\n2\n3\n4\n");
    assert_eq!(rows("local"), "id\n2\n3\n");
    assert_eq!(rows("unix"), "id\n2\n3\n");
    assert_eq!(rows("unix_ms"), "id\n2\n3\n");
    // The default compares `…T…Z` text with `… …` text: the first hour of the day is
    // lost and the first second of the next day counted (a space sorts before `T`).
    assert_eq!(rows("default"), "id\n3\n4\n5\n");
    assert_eq!(rows("rfc3339"), rows("default"));
}

#[test]
fn a_bad_time_format_is_refused() {
    let dir = tempdir();
    write(dir.path(), "data.sql", DATA);
    write(
        dir.path(),
        "reports.toml",
        &config(&[("s", "sqlite3", "t_sqlite")]),
    );
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml:11:15: source \"s\", key `time_format`: \"sqlite3\" is not allowed; did you mean \"sqlite\"? allowed: rfc3339, sqlite, local, unix, unix_ms\n"
    );
}

/// An events mapping's time column holding text or numbers of another form than its
/// `time_format` compares in: `validate` warns (exit 0), naming the column and a value.
#[test]
fn validate_warns_when_a_time_column_does_not_match() {
    let dir = tempdir();
    write(dir.path(), "data.sql", DATA);
    let mapping =
        |table: &str, format: &str| format!("table = \"{table}\"\ntime = \"ts\"\n{format}");
    let toml = format!(
        "[sources.a]\nkind = \"sqlite\"\ninit = [\"data.sql\"]\n[sources.a.events]\n{}\n\n[sources.b]\nkind = \"sqlite\"\ninit = [\"data.sql\"]\n[sources.b.events]\n{}\n\n[sources.c]\nkind = \"sqlite\"\ninit = [\"data.sql\"]\n[sources.c.events]\n{}\n\n[sources.d]\nkind = \"sqlite\"\ninit = [\"data.sql\"]\ntime_format = \"sqlite\"\n[sources.d.events]\n{}\n",
        mapping("t_sqlite", ""),
        mapping("t_ms", "time_format = \"epoch\""),
        mapping("t_unix", "time_format = \"epoch\""),
        mapping("t_sqlite", ""),
    );
    write(dir.path(), "reports.toml", &toml);
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: warning: reports.toml:4:1: source \"a\", key `events.time_format`: the time column \"ts\" of table t_sqlite holds values such as \"2026-11-28 22:59:59\" (SQLite's CURRENT_TIMESTAMP text, YYYY-MM-DD HH:MM:SS in UTC), but time_format = \"text\" compares it with RFC 3339 UTC text such as \"2026-11-30T06:00:00Z\", so a window would get the wrong rows; write the times as RFC 3339 UTC text (strftime('%Y-%m-%dT%H:%M:%SZ', …) in SQLite) or as Unix seconds with time_format = \"epoch\"\n\
         reportctl: warning: reports.toml:12:1: source \"b\", key `events.time_format`: the time column \"ts\" of table t_ms holds values such as 1795906799999 (Unix milliseconds), but time_format = \"epoch\" compares it with Unix seconds such as \"1796018400\", so a window would get the wrong rows; write the times as Unix seconds, or as RFC 3339 UTC text with time_format = \"text\"\n\
         reportctl: warning: reports.toml:29:1: source \"d\", key `events.time_format`: the time column \"ts\" of table t_sqlite holds values such as \"2026-11-28 22:59:59\" (SQLite's CURRENT_TIMESTAMP text, YYYY-MM-DD HH:MM:SS in UTC), but time_format = \"text\" compares it with RFC 3339 UTC text such as \"2026-11-30T06:00:00Z\", so a window would get the wrong rows; write the times as RFC 3339 UTC text (strftime('%Y-%m-%dT%H:%M:%SZ', …) in SQLite) or as Unix seconds with time_format = \"epoch\" (the source's time_format = \"sqlite\" is the form of :from and :to in its queries; structured outputs follow the mapping's)\n"
    );
    let out = run(dir.path(), &["validate", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["warnings"][0]["key"], "events.time_format");
    // `--offline` opens no source, so it samples nothing.
    let out = run(dir.path(), &["validate", "--offline"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}
