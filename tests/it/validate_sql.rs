//! `validate` checks the SQL: a query that is not one read-only statement is refused
//! from its text; each query is prepared on its source (SQLite read-only, PostgreSQL in
//! a read-only transaction that is rolled back) to find unknown tables, columns and
//! parameters, with the place in the file; `--offline` opens no source; every unknown
//! key of a table in one pass, with "did you mean"; no follow-up errors.

use crate::common::pg;
use crate::common::{run, tempdir, write, Output};

const ONLY_READ: &str = "a report's query must only read: SELECT, WITH … SELECT, VALUES or TABLE";

/// A configuration with `source` as source "db", a directory destination "local" and
/// one daily report "Daily" whose query is the line `query` (line 12 of the file).
fn config(source: &str, query: &str) -> String {
    format!(
        "[sources.db]\n{source}\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Daily\"\ntype = \"VIEWS\"\n{query}\nsource = \"db\"\ndestinations = [\"local\"]\n[reports.schedule]\nfrequency = \"daily\"\n"
    )
}

/// One more daily report `name` on `source` with `query`, to append to `config`.
fn another(name: &str, source: &str, query: &str) -> String {
    format!("\n[[reports]]\nname = \"{name}\"\ntype = \"VIEWS\"\nquery = \"{query}\"\nsource = \"{source}\"\ndestinations = [\"local\"]\n[reports.schedule]\nfrequency = \"daily\"\n")
}

const SQLITE: &str = "kind = \"sqlite\"\npath = \"data.db\"";

/// Runs `args` on `text` in a directory holding `data.db` (table `t(x, at)`).
fn validate(text: &str, args: &[&str]) -> Output {
    let dir = tempdir();
    let conn = rusqlite::Connection::open(dir.path().join("data.db")).unwrap();
    conn.execute_batch("create table t(x, at);").unwrap();
    drop(conn);
    write(dir.path(), "reports.toml", text);
    let out = run(dir.path(), args);
    assert_eq!(out.stdout, "");
    out
}

fn stderr(source: &str, query: &str, args: &[&str]) -> (i32, String) {
    let out = validate(&config(source, query), args);
    (out.code, out.stderr)
}

fn error(at: &str, key: &str, message: &str) -> (i32, String) {
    (
        2,
        format!("reportctl: error: reports.toml:{at}: report \"Daily\", key `{key}`: source \"db\": {message}\n"),
    )
}

#[test]
fn sqlite_unknown_columns_tables_and_parameters_are_found_where_they_are() {
    let v = |q: &str| stderr(SQLITE, q, &["validate"]);
    assert_eq!(
        v("query = \"select x from t where at >= :from\""),
        (0, String::new())
    );
    assert_eq!(
        v("query = \"select y from t\""),
        error(
            "12:17",
            "query",
            "SQLite: no such column: y (at line 1, column 8 of the query)"
        )
    );
    assert_eq!(
        v("query = \"select x from nope\""),
        error("12:9", "query", "SQLite: no such table: nope")
    );
    assert_eq!(
        v("query = '''\nselect x\nfrom t where at >= :form'''"),
        error("14:20", "query", "the query uses the unknown parameter :form (at line 2, column 20 of the query); did you mean :from? allowed: :from, :to, :from_local, :to_local, :from_date, :to_date, :from_epoch, :to_epoch")
    );
    assert_eq!(
        v("query = \"delete from t\""),
        error(
            "12:9",
            "query",
            &format!("`DELETE` is not a read-only statement; {ONLY_READ}")
        )
    );
    assert_eq!(
        v("query = \"select x from t; delete from t\""),
        error(
            "12:9",
            "query",
            &format!("the query holds 2 statements; give one; {ONLY_READ}")
        )
    );
    assert_eq!(
        v("query = \"with d as (delete from t returning *) select * from d\""),
        error(
            "12:9",
            "query",
            &format!("the query holds a DELETE; {ONLY_READ}")
        )
    );
}

/// PostgreSQL text checks need no server: they come before it is asked.
#[test]
fn postgres_queries_that_do_not_only_read_are_refused_from_their_text() {
    let pg = "kind = \"postgres\"\nurl = \"postgres://reporter@127.0.0.1:9/db\"";
    for (query, why) in [
        ("delete from t", "`DELETE` is not a read-only statement"),
        (
            "with d as (delete from t returning *) select * from d",
            "the query holds a DELETE",
        ),
        (
            "select 1; select 2",
            "the query holds 2 statements; give one",
        ),
        (
            "select * from (select * from t for update) s",
            "`FOR UPDATE` locks rows",
        ),
        ("copy t to stdout", "`COPY` is not a read-only statement"),
        ("call p()", "`CALL` is not a read-only statement"),
    ] {
        assert_eq!(
            stderr(pg, &format!("query = \"{query}\""), &["validate"]),
            error("12:9", "query", &format!("{why}; {ONLY_READ}")),
            "{query}"
        );
    }
}

/// An unreachable source is one error, however many reports use it; `--offline` does
/// not try it, and skips the SQLite files, but still judges the text.
#[test]
fn unreachable_sources_once_and_offline_not_at_all() {
    let pg = "kind = \"postgres\"\nurl = \"postgres://reporter@127.0.0.1:9/db\"";
    let text = config(pg, "query = \"select 1\"")
        + &another("Other", "db", "select 2")
        + &another("Same", "db", "select 1");
    let out = validate(&text, &["validate"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("reportctl: error: reports.toml:12:9: source \"db\": the queries on this source cannot be checked: connecting to PostgreSQL at 127.0.0.1:9/db as reporter: "),
        "{}",
        out.stderr
    );
    let out = validate(&text, &["validate", "--offline"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    // Offline, a PostgreSQL query's parameters are still read from its text.
    assert_eq!(
        stderr(pg, "query = \"select 1 where now() > :form\"", &["validate", "--offline"]),
        error("12:33", "query", "the query uses the unknown parameter :form (at line 1, column 24 of the query); did you mean :from? allowed: :from, :to, :from_local, :to_local, :from_date, :to_date, :from_epoch, :to_epoch")
    );
    // Offline, SQLite is not opened (the unknown column goes unseen) but a DELETE is
    // refused from its text.
    assert_eq!(
        stderr(
            SQLITE,
            "query = \"select y from t\"",
            &["validate", "--offline"]
        ),
        (0, String::new())
    );
    assert_eq!(
        stderr(
            SQLITE,
            "query = \"delete from t\"",
            &["validate", "--offline"]
        ),
        error(
            "12:9",
            "query",
            &format!("`DELETE` is not a read-only statement; {ONLY_READ}")
        )
    );
}

#[test]
fn command_sources_are_skipped_and_verbose_says_so() {
    let cmd = "kind = \"command\"\nprogram = \"cat\"";
    assert_eq!(
        stderr(cmd, "query = \"delete from t\"", &["validate"]),
        (0, String::new())
    );
    assert_eq!(
        stderr(cmd, "query = \"delete from t\"", &["validate", "-v"]).1,
        "reportctl: report \"Daily\": query not checked: command sources run an outside program\nreportctl: reports.toml: 1 reports, 1 sources, 1 destinations: no problems found\n"
    );
    // Each report is named, also when several share the query.
    let text = config(cmd, "query = \"delete from t\"") + &another("Again", "db", "delete from t");
    assert_eq!(
        validate(&text, &["validate", "-v"]).stderr,
        "reportctl: report \"Daily\": query not checked: command sources run an outside program\nreportctl: report \"Again\": query not checked: command sources run an outside program\nreportctl: reports.toml: 2 reports, 1 sources, 1 destinations: no problems found\n"
    );
}

/// Every unknown key of a table, each with its "did you mean"; and nothing that follows
/// from them.
#[test]
fn every_unknown_key_with_did_you_mean() {
    let text = format!(
        "[settings]\ncatchup = 3\nlease = 30\ncolour = \"red\"\n\n{}",
        config(
            SQLITE,
            "query = \"select x from t\"\nfile_nam = \"x.csv\"\nstatu = \"draft\""
        )
    );
    let out = validate(&text, &["validate"]);
    let settings = "`timezone`, `state`, `state_password`, `spool`, `spool_keep_days`, `keep_runs_days`, `max_range_days`, `catch_up`, `lease_seconds`, `max_parallel`, `lock_timeout_seconds`, `max_attempts`, `retry_delay_seconds`, `delivery_retries`, `delivery_backoff_seconds`, `allow_plain_secrets`, `check_grace_minutes`, `notify_on`, `ping_url`, `metrics_file`, `file_name`, `date_format`, `csv`, `parquet`, `smtp`";
    let report = "`name`, `type`, `source`, `query`, `query_file`, `destinations`, `notify`, `notify_on`, `ping_url`, `timezone`, `status`, `backfill`, `file_name`, `date_format`, `max_attempts`, `send_empty`, `condition`, `format`, `outputs`, `csv`, `parquet`, `schedule`, `events`, `recipients`";
    assert_eq!(
        (out.code, out.stderr),
        (2, format!(
            "reportctl: error: reports.toml:2:1: [settings], key `catchup`: unknown key `catchup`; did you mean `catch_up`? allowed: {settings}\n\
             reportctl: error: reports.toml:3:1: [settings], key `lease`: unknown key `lease`; did you mean `lease_seconds`? allowed: {settings}\n\
             reportctl: error: reports.toml:4:1: [settings], key `colour`: unknown key `colour`; allowed: {settings}\n\
             reportctl: error: reports.toml:18:1: report \"Daily\", key `file_nam`: unknown key `file_nam`; did you mean `file_name`? allowed: {report}\n\
             reportctl: error: reports.toml:19:1: report \"Daily\", key `statu`: unknown key `statu`; did you mean `status`? allowed: {report}\n"
        ))
    );
}

/// Names of sources, destinations and reports get a "did you mean" too.
#[test]
fn did_you_mean_for_names() {
    let text = config(SQLITE, "query = \"select x from t\"")
        .replace("source = \"db\"", "source = \"dv\"")
        .replace("[\"local\"]", "[\"locl\"]");
    let out = validate(&text, &["validate"]);
    assert_eq!(
        (out.code, out.stderr),
        (2, "reportctl: error: reports.toml:13:10: report \"Daily\", key `source`: unknown source \"dv\"; did you mean \"db\"? defined: db\n\
             reportctl: error: reports.toml:14:17: report \"Daily\", key `destinations`: unknown destination \"locl\"; did you mean \"local\"? defined: local\n".to_string())
    );
    let dir = tempdir();
    rusqlite::Connection::open(dir.path().join("data.db")).unwrap();
    write(
        dir.path(),
        "reports.toml",
        &config(SQLITE, "query = \"select 1\""),
    );
    let out = run(dir.path(), &["run", "Dayly", "-o", "-"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "reportctl: error: no report named \"Dayly\" in reports.toml; did you mean \"Daily\"? reports: Daily\n");
}

/// A value of the wrong type is one error: no "unknown destination" after it, no
/// query errors for a report whose source is unknown.
#[test]
fn no_cascading_errors() {
    let text = config(SQLITE, "query = \"select nothing from nowhere\"")
        .replace("[\"local\"]", "\"local\"");
    let out = validate(&text, &["validate"]);
    assert_eq!(
        (out.code, out.stderr),
        (2, "reportctl: error: reports.toml:14:16: report \"Daily\", key `destinations`: expected an array, found string \"local\"\n".to_string())
    );
    let text = config(SQLITE, "query = \"select nothing from nowhere\"")
        .replace("source = \"db\"", "source = \"other\"");
    let out = validate(&text, &["validate"]);
    assert_eq!(
        (out.code, out.stderr),
        (2, "reportctl: error: reports.toml:13:10: report \"Daily\", key `source`: unknown source \"other\"; defined: db\n".to_string())
    );
    // A source or destination that cannot be read is reported there only, not again
    // as "unknown" at the reports naming it.
    let text = config(
        &format!("{SQLITE}\nbusy = 3"),
        "query = \"select x from t\"",
    )
    .replace("path = \"out\"", "path = \"out\"\nkeep = 3");
    let out = validate(&text, &["validate"]);
    assert_eq!(
        (out.code, out.stderr),
        (2, "reportctl: error: reports.toml:4:1: source \"db\", key `busy`: unknown key `busy`; did you mean `busy_timeout_ms`? allowed: `kind`, `path`, `init`, `busy_timeout_ms`, `time_format`, `events`, `max_concurrent_queries`\n\
             reportctl: error: reports.toml:9:1: destination \"local\", key `keep`: unknown key `keep`; did you mean `keep_days`? allowed: `kind`, `path`, `keep_days`, `max_concurrent`\n".to_string())
    );
    // [settings] that cannot be read: its error, not also "no SMTP server" at an email
    // destination and a report's `notify`.
    let smtp = "[settings.smtp]\nhost = \"localhost\"\ntls = \"none\"\nfrom = \"r@example.com\"\nprot = 25\n\n";
    let text = config(
        SQLITE,
        "query = \"select x from t\"\nnotify = [\"ops@example.com\"]",
    ) + "\n[destinations.mail]\nkind = \"email\"\nto = [\"a@example.com\"]\n";
    let out = validate(&format!("{smtp}{text}"), &["validate"]);
    assert_eq!(
        (out.code, out.stderr),
        (2, "reportctl: error: reports.toml:5:1: [settings], key `smtp.prot`: unknown key `prot`; did you mean `port`? allowed: `host`, `port`, `tls`, `user`, `password`, `from`, `ca_file`, `timeout_seconds`\n".to_string())
    );
    let mail = "\n[destinations.mail]\nkind = \"email\"\nto = \"a@example.com\"\n";
    let out = validate(
        &(config(SQLITE, "query = \"select x from t\"") + mail),
        &["validate"],
    );
    assert_eq!(
        (out.code, out.stderr),
        (2, "reportctl: error: reports.toml:20:6: destination \"mail\", key `to`: expected an array, found string \"a@example.com\"\n".to_string())
    );
    // An [settings.smtp] whose password cannot be read: that error, not also "no SMTP
    // server" at the email destination and the report's `notify`.
    let smtp = "[settings.smtp]\nhost = \"smtp.example.com\"\nuser = \"r\"\npassword = { env = \"RCTL_TEST_UNSET_SMTP_PASSWORD\" }\nfrom = \"r@example.com\"\n\n";
    let out = validate(&format!("{smtp}{text}"), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr.contains("RCTL_TEST_UNSET_SMTP_PASSWORD")
            && !out.stderr.contains("no SMTP server"),
        "{out:?}"
    );
}

/// The same on a real PostgreSQL server: prepared in a read-only transaction that is
/// rolled back, never run.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn postgres_unknown_columns_tables_and_parameters() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_validate_sql");
    pg.client(&db)
        .batch_execute("CREATE TABLE t (x int, at timestamptz)")
        .unwrap();
    // One line more than SQLite's: the query is on line 13.
    let source = format!(
        "kind = \"postgres\"\nurl = \"{}\"\npassword = {{ env = \"RCTL_TEST_PG_PASSWORD\" }}",
        pg.url(&db)
    );
    let v = |q: &str| {
        let dir = tempdir();
        write(dir.path(), "reports.toml", &config(&source, q));
        let out = crate::common::command(dir.path(), &["validate"])
            .env("RCTL_TEST_PG_PASSWORD", &pg.password)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    assert_eq!(
        v("query = \"select x from t where at >= :from\""),
        (0, String::new())
    );
    assert_eq!(
        v("query = \"select y from t\""),
        error("13:17", "query", "PostgreSQL: column \"y\" does not exist (at line 1, column 8 of the query) [SQLSTATE 42703]")
    );
    assert_eq!(
        v("query = \"select x from nope\""),
        error("13:24", "query", "PostgreSQL: relation \"nope\" does not exist (at line 1, column 15 of the query) [SQLSTATE 42P01]")
    );
    assert_eq!(
        v("query = \"select x from t where at > :form\""),
        error("13:37", "query", "the query uses the unknown parameter :form (at line 1, column 28 of the query); did you mean :from? allowed: :from, :to, :from_local, :to_local, :from_date, :to_date, :from_epoch, :to_epoch")
    );
    assert_eq!(
        v("query = \"delete from t\""),
        error(
            "13:9",
            "query",
            &format!("`DELETE` is not a read-only statement; {ONLY_READ}")
        )
    );
    // Nothing ran: the table is as it was.
    let rows: i64 = pg
        .client(&db)
        .query_one("select count(*) from t", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

/// An output's query, inline or in a file, is named by its output's key.
#[test]
fn output_queries_are_named_by_their_output() {
    let text = "[sources.db]\nkind = \"sqlite\"\npath = \"data.db\"\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Pair\"\nsource = \"db\"\ndestinations = [\"local\"]\nfile_name = \"{type}_{from}.csv\"\n[[reports.outputs]]\ntype = \"VIEWS\"\nquery = \"select x from t where x = :to_dat\"\n[[reports.outputs]]\ntype = \"CLICKS\"\nquery_file = \"q.sql\"\n[reports.schedule]\nfrequency = \"daily\"\n";
    let dir = tempdir();
    rusqlite::Connection::open(dir.path().join("data.db"))
        .unwrap()
        .execute_batch("create table t(x);")
        .unwrap();
    write(dir.path(), "q.sql", "select x,\n  zz from t\n");
    write(dir.path(), "reports.toml", text);
    let out = run(dir.path(), &["validate"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "reportctl: error: reports.toml:16:36: report \"Pair\", key `outputs[0].query`: source \"db\": the query uses the unknown parameter :to_dat (at line 1, column 27 of the query); did you mean :to_date? allowed: :from, :to, :from_local, :to_local, :from_date, :to_date, :from_epoch, :to_epoch\n\
             reportctl: error: reports.toml:19:14: report \"Pair\", key `outputs[1].query_file`: source \"db\": SQLite: no such column: zz (at line 2, column 3 of the query)\n")
    );
}

/// A query the SQL parser cannot read is not refused for that: the database judges it,
/// and `-v` says so.
#[test]
fn what_the_parser_cannot_read_is_said_under_verbose() {
    let pg = "kind = \"postgres\"\nurl = \"postgres://reporter@127.0.0.1:9/db\"";
    let query = "query = \"select * from t tablesample bernoulli(10) repeatable (1) ???\"";
    assert_eq!(
        stderr(pg, query, &["validate", "--offline"]),
        (0, String::new())
    );
    let (code, err) = stderr(pg, query, &["validate", "--offline", "-v"]);
    assert_eq!(code, 0);
    assert!(
        err.starts_with(
            "reportctl: report \"Daily\": the SQL parser cannot read the query (sql parser error: "
        ) && err.contains("); the database judges it\n"),
        "{err}"
    );
}
