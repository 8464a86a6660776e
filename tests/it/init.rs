//! `reportctl init` through the binary: a starter configuration written from a SQLite
//! or PostgreSQL database, which `validate` accepts and whose report `run` returns
//! exactly the rows of its window; never an overwrite, never a password written.

use std::path::Path;

use crate::common::pg;
use crate::common::{command, output, run, tempdir, write};

/// A SQLite database `app.db` with a table `users` (no time column) and `orders`, whose
/// `created_at` holds `created` values as given (SQL literals).
fn sqlite_db(dir: &Path, created_type: &str, created: &[&str]) {
    let conn = rusqlite::Connection::open(dir.join("app.db")).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT,
                              created_at {created_type} DEFAULT CURRENT_TIMESTAMP);"
    ))
    .unwrap();
    for (i, c) in created.iter().enumerate() {
        conn.execute_batch(&format!(
            "INSERT INTO orders (customer, created_at) VALUES ('c{i}', {c})"
        ))
        .unwrap();
    }
}

/// `run "Daily orders" -o -` for the slot of 2026-11-30 07:00 UTC, whose window
/// (`yesterday`) is 2026-11-29.
fn rows(dir: &Path) -> String {
    let out = run(
        dir,
        &[
            "run",
            "Daily orders",
            "-o",
            "-",
            "--now",
            "2026-11-30T08:00:00Z",
        ],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    out.stdout
}

#[test]
fn sqlite_current_timestamp_text_gives_the_window_s_rows() {
    let dir = tempdir();
    let d = dir.path();
    sqlite_db(
        d,
        "TEXT",
        &[
            "'2026-11-28 23:59:59'",
            "'2026-11-29 00:00:00'",
            "'2026-11-29 23:59:59'",
            "'2026-11-30 00:00:00'",
        ],
    );
    let out = run(d, &["init", "--sqlite", "app.db", "--timezone", "UTC"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "wrote reports.toml: report \"Daily orders\" on table orders (time column created_at); next: reportctl validate\n",
            ""
        )
    );
    let text = std::fs::read_to_string(d.join("reports.toml")).unwrap();
    assert!(text.contains("timezone = \"UTC\"\n"), "{text}");
    assert!(text.contains("path = \"app.db\"\n"), "{text}");
    assert!(text.contains("\ntime_format = \"sqlite\"\n"), "{text}");
    assert!(
        text.contains("at = \"07:00\"\nwindow = \"yesterday\"\n"),
        "{text}"
    );
    let out = run(d, &["validate"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(
        rows(d),
        "id,customer,created_at\n2,c1,2026-11-29 00:00:00\n3,c2,2026-11-29 23:59:59\n"
    );
}

#[test]
fn sqlite_unix_seconds_milliseconds_and_rfc3339_text() {
    // 2026-11-29T00:00:00Z is 1795910400; 2026-11-30T00:00:00Z is 1795996800.
    let dir = tempdir();
    let d = dir.path();
    sqlite_db(
        d,
        "INTEGER",
        &["1795910399", "1795910400", "1795996799", "1795996800"],
    );
    assert_eq!(
        run(d, &["init", "--sqlite", "app.db", "--timezone", "UTC"]).code,
        0
    );
    assert_eq!(
        rows(d),
        "id,customer,created_at\n2,c1,1795910400\n3,c2,1795996799\n"
    );

    let text = std::fs::read_to_string(d.join("reports.toml")).unwrap();
    assert!(text.contains("time_format = \"unix\"\n"), "{text}");

    // Milliseconds.
    let dir = tempdir();
    let d = dir.path();
    sqlite_db(
        d,
        "INTEGER",
        &[
            "1795910399999",
            "1795910400000",
            "1795996799999",
            "1795996800000",
        ],
    );
    assert_eq!(
        run(d, &["init", "--sqlite", "app.db", "--timezone", "UTC"]).code,
        0
    );
    assert_eq!(
        rows(d),
        "id,customer,created_at\n2,c1,1795910400000\n3,c2,1795996799999\n"
    );

    let dir = tempdir();
    let d = dir.path();
    sqlite_db(
        d,
        "DATETIME",
        &[
            "'2026-11-28T23:00:00Z'",
            "'2026-11-29T12:00:00Z'",
            "'2026-11-30T00:00:00Z'",
        ],
    );
    assert_eq!(
        run(d, &["init", "--sqlite", "app.db", "--timezone", "UTC"]).code,
        0
    );
    assert_eq!(
        rows(d),
        "id,customer,created_at\n2,c1,2026-11-29T12:00:00Z\n"
    );
}

#[test]
fn never_overwrites_and_says_what_is_wrong() {
    let dir = tempdir();
    let d = dir.path();
    sqlite_db(d, "TEXT", &[]);
    write(d, "reports.toml", "# mine\n");
    let out = run(d, &["init", "--sqlite", "app.db"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "reportctl: error: reports.toml exists; init never overwrites a file: move it aside, or write another with --config FILE\n")
    );
    assert_eq!(
        std::fs::read_to_string(d.join("reports.toml")).unwrap(),
        "# mine\n"
    );

    let cases: [(&[&str], &str); 5] = [
        (
            &["--table", "nope"],
            "the SQLite database app.db has no table \"nope\"; its tables: orders, users",
        ),
        (
            &["--table", "users"],
            "table users has no column that looks like a time (declared DATE, DATETIME or TIMESTAMP, or holding such values); name the one the report's period applies to with --time-column",
        ),
        (
            &["--table", "users", "--time-column", "born"],
            "table users has no column \"born\"; its columns: id, name",
        ),
        (
            &["--timezone", "Europe/Pari"],
            "--timezone \"Europe/Pari\" is not an IANA time zone name (such as Europe/Paris or America/New_York)",
        ),
        (
            &["--sqlite", "missing.db"],
            "missing.db is not a file: give the path of your SQLite database",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["--config", "new.toml", "init"];
        if !args.contains(&"--sqlite") {
            all.extend(["--sqlite", "app.db"]);
        }
        all.extend(args);
        let out = run(d, &all);
        assert_eq!(
            (out.stderr.as_str(), out.stdout.as_str()),
            (format!("reportctl: error: {message}\n").as_str(), ""),
            "{args:?}"
        );
        assert!(out.code == 2 || out.code == 1, "{out:?}");
        assert!(!d.join("new.toml").exists());
    }
    let out = run(d, &["init"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--sqlite <PATH>|--postgres <URL>"),
        "{out:?}"
    );
}

#[test]
fn a_config_elsewhere_names_the_database_by_its_absolute_path() {
    let dir = tempdir();
    let d = dir.path();
    sqlite_db(d, "TEXT", &["'2026-11-29 12:00:00'"]);
    std::fs::create_dir(d.join("etc")).unwrap();
    let out = run(
        d,
        &[
            "--json",
            "--config",
            "etc/r.toml",
            "init",
            "--sqlite",
            "app.db",
            "--timezone",
            "UTC",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"config": "etc/r.toml", "report": "Daily orders", "table": "orders", "time_column": "created_at"})
    );
    let text = std::fs::read_to_string(d.join("etc/r.toml")).unwrap();
    let abs = std::fs::canonicalize(d.join("app.db")).unwrap();
    assert!(
        text.contains(&format!("path = \"{}\"\n", abs.display())),
        "{text}"
    );
    let out = run(d, &["--config", "etc/r.toml", "validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn postgres_then_validate_and_run_without_writing_the_password() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_init");
    pg.client(&db)
        .batch_execute(
            "CREATE TABLE customers (id int PRIMARY KEY, name text);
             CREATE TABLE orders (id int PRIMARY KEY, total numeric, placed timestamptz NOT NULL);
             INSERT INTO orders VALUES (1, 1.5, '2026-11-28 23:59:59+00'),
               (2, 2.5, '2026-11-29 00:00:00+00'), (3, 3.5, '2026-11-29 23:59:59+00'),
               (4, 4.5, '2026-11-30 00:00:00+00');",
        )
        .unwrap();
    let url = format!(
        "postgres://{}:{}@{}:{}/{db}?sslmode=verify-full&sslrootcert={}",
        pg.user, pg.password, pg.host, pg.port, pg.ca
    );
    let dir = tempdir();
    let d = dir.path();
    let out = run(d, &["init", "--postgres", &url, "--timezone", "UTC"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "wrote reports.toml: report \"Daily orders\" on table orders (time column placed); next: reportctl validate\n",
            ""
        )
    );
    let text = std::fs::read_to_string(d.join("reports.toml")).unwrap();
    assert!(
        !text.contains(&pg.password),
        "the password is never written"
    );
    assert!(
        text.contains(&format!(
            "url = \"postgres://{}@{}:{}/{db}\"\n",
            pg.user, pg.host, pg.port
        )),
        "{text}"
    );
    assert!(
        text.contains("password = { env = \"REPORTCTL_DB_PASSWORD\" }\n"),
        "{text}"
    );
    assert!(text.contains("sslmode = \"verify-full\"\n"), "{text}");
    let with_password = |args: &[&str]| {
        let mut c = command(d, args);
        c.env("REPORTCTL_DB_PASSWORD", &pg.password);
        output(c)
    };
    let out = with_password(&["validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let out = with_password(&[
        "run",
        "Daily orders",
        "-o",
        "-",
        "--now",
        "2026-11-30T08:00:00Z",
    ]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert_eq!(
        out.stdout,
        "id,total,placed\n2,2.5,2026-11-29T00:00:00Z\n3,3.5,2026-11-29T23:59:59Z\n"
    );
}
