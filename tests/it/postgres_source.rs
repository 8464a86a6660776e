//! The postgres source against a real PostgreSQL server: the same month of events in
//! PostgreSQL and in SQLite gives the same CSV; every common type renders as the table
//! in `src/source/postgres/cells.rs` says; bad passwords, unreachable servers, SQL
//! errors and statement timeouts fail the run with a clear message; TLS by sslmode.

use std::path::Path;

use crate::common::pg::{self, Pg};
use crate::common::{run, tempdir, write};

fn pg_source(pg: &Pg, db: &str, extra: &str) -> String {
    format!(
        "[sources.db]\nkind = \"postgres\"\nurl = \"{}\"\npassword = {{ env = \"RCTL_TEST_PG_PASSWORD\" }}\n{extra}\n",
        pg.url(db)
    )
}

/// A configuration with one source and one report (`query`, run by hand).
fn config(source: &str, query: &str, csv: &str) -> String {
    format!(
        "[settings]\ntimezone = \"America/New_York\"\n\n{source}\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Month\"\ntype = \"EVENTS\"\nsource = \"db\"\ndestinations = [\"local\"]\nquery = '''\n{query}\n'''\n[reports.csv]\n{csv}\n[reports.schedule]\nfrequency = \"monthly\"\n"
    )
}

const OCTOBER: [&str; 6] = ["run", "Month", "--from", "2026-10-01", "--to", "2026-10-31"];

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_month_in_postgresql_gives_the_same_csv_as_in_sqlite() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_src_month");
    pg.load_events(&db);
    let events_sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/events.sql");
    let sqlite_source = format!(
        "[sources.db]\nkind = \"sqlite\"\ninit = [\"{}\"]\n",
        events_sql.display()
    );
    let queries = [
        "SELECT id, event_time, event_type, event_name, network, country, revenue
         FROM events WHERE event_time >= :from AND event_time < :to ORDER BY event_time, id",
        "SELECT network, count(*) AS events, count(revenue) AS with_revenue
         FROM events WHERE event_time >= :from AND event_time < :to
         GROUP BY network ORDER BY network",
    ];
    for query in queries {
        let mut outputs = Vec::new();
        for source in [sqlite_source.clone(), pg_source(&pg, &db, "")] {
            let dir = tempdir();
            write(dir.path(), "reports.toml", &config(&source, query, ""));
            let mut args = OCTOBER.to_vec();
            args.extend(["--output", "-"]);
            let out = run(dir.path(), &args);
            assert_eq!(out.code, 0, "{out:?}");
            outputs.push(out.stdout);
        }
        assert_eq!(outputs[0], outputs[1], "{query}");
        assert!(outputs[0].lines().count() > 5, "{}", outputs[0]);
    }
    // The detail rows: a month of the example's ~9,000 events, local month bounds.
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config(&pg_source(&pg, &db, ""), queries[0], ""),
    );
    let mut args = OCTOBER.to_vec();
    args.extend(["--output", "-"]);
    let out = run(dir.path(), &args);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() > 8000, "{}", lines.len());
    assert_eq!(
        lines[0],
        "id,event_time,event_type,event_name,network,country,revenue"
    );
    assert!(lines[1].split(',').nth(1).unwrap() >= "2026-10-01T04:00:00Z");
    assert!(lines.last().unwrap().split(',').nth(1).unwrap() < "2026-11-01T04:00:00Z");
}

/// (SQL expression, CSV text of its value) — the type rendering contract.
const TYPES: &[(&str, &str)] = &[
    ("1::int2", "1"),
    ("(-2147483648)::int4", "-2147483648"),
    ("9223372036854775807::int8", "9223372036854775807"),
    (
        "12345678901234567890.123456789012345678901234567890::numeric",
        "12345678901234567890.123456789012345678901234567890",
    ),
    ("(-5.50)::numeric", "-5.50"),
    ("1e-20::numeric", "0.00000000000000000001"),
    ("'NaN'::numeric", "NaN"),
    ("'Infinity'::numeric", "Infinity"),
    ("1.5::price", "1.50"),
    ("0.1::float8", "0.1"),
    ("5::float8", "5.0"),
    ("1e300::float8", "1e300"),
    ("'-Infinity'::float8", "-Infinity"),
    ("0.1::float4", "0.1"),
    ("true", "true"),
    ("false", "false"),
    ("NULL::int", "NULL"),
    ("'café, \"bar\"'::text", "\"café, \"\"bar\"\"\""),
    ("'x'::varchar(3)", "x"),
    ("'ab'::char(4)", "ab  "),
    ("'=1+2'::text", "'=1+2"),
    ("'ok'::mood", "ok"),
    ("'2026-11-01'::date", "2026-11-01"),
    (
        "'2026-11-01 01:30:00-04'::timestamptz",
        "2026-11-01T05:30:00Z",
    ),
    (
        "'2026-11-01 01:30:00.25+05:30'::timestamptz",
        "2026-10-31T20:00:00.25Z",
    ),
    ("'2026-11-01'::date::timestamptz", "2026-11-01T04:00:00Z"),
    ("'infinity'::timestamptz", "infinity"),
    (
        "'2026-11-01 01:30:00.25'::timestamp",
        "2026-11-01T01:30:00.25",
    ),
    ("'12:34:56'::time", "12:34:56"),
    (
        "interval '1 year 2 mons 3 days 04:05:06.5'",
        "1 year 2 mons 3 days 04:05:06.5",
    ),
    (
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ),
    (
        "'{\"b\": 1, \"a\": [true, null]}'::json",
        "\"{\"\"b\"\": 1, \"\"a\"\": [true, null]}\"",
    ),
    (
        "'{\"b\": 1, \"a\": [true, null]}'::jsonb",
        "\"{\"\"a\"\": [true, null], \"\"b\"\": 1}\"",
    ),
    ("ARRAY[1, 2, NULL]", "\"{1,2,NULL}\""),
    ("ARRAY['a b', 'c,d']", "\"{\"\"a b\"\",\"\"c,d\"\"}\""),
    ("'[1,5)'::int4range", "\"[1,5)\""),
    ("'192.168.0.1/24'::inet", "192.168.0.1/24"),
    ("decode('00ff', 'hex')", "00ff"),
    ("current_setting('TimeZone')", "America/New_York"),
    (":from", "2026-11-01T04:00:00Z"),
    (":to", "2026-11-02T05:00:00Z"),
    (":from_local", "2026-11-01T00:00:00"),
    (":to_date", "2026-11-01"),
    (":to_epoch", "1793595600"),
    ("pg_typeof(:from)::text", "timestamp with time zone"),
    (
        "pg_typeof(:from_local)::text",
        "timestamp without time zone",
    ),
    ("pg_typeof(:from_date)::text", "date"),
    ("pg_typeof(:from_epoch)::text", "bigint"),
];

#[test]
#[ignore = "needs test servers: scripts/test"]
fn types_render_faithfully() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_src_types");
    pg.client(&db)
        .batch_execute(
            "CREATE DOMAIN price AS numeric(10, 2); CREATE TYPE mood AS ENUM ('ok', 'sad');",
        )
        .unwrap();
    let columns: Vec<String> = TYPES
        .iter()
        .enumerate()
        .map(|(i, (sql, _))| format!("{sql} AS c{i}"))
        .collect();
    let query = format!("SELECT {}", columns.join(",\n       "));
    let dir = tempdir();
    let csv = "blob = \"hex\"\nformula_guard = true\nnull = \"NULL\"";
    write(
        dir.path(),
        "reports.toml",
        &config(&pg_source(&pg, &db, ""), &query, csv),
    );
    let out = run(
        dir.path(),
        &[
            "run",
            "Month",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-01",
            "--output",
            "-",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let mut lines = out.stdout.lines();
    lines.next();
    let row = lines.next().expect("one row");
    // Split the row back into its CSV fields, keeping each field's quoting as written.
    let mut fields = Vec::new();
    let (mut field, mut quoted) = (String::new(), false);
    for c in row.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                field.push(c);
            }
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    assert_eq!(fields.len(), TYPES.len(), "{row}");
    for ((sql, want), got) in TYPES.iter().zip(&fields) {
        assert_eq!(got, want, "{sql}");
    }
}

/// Runs the report through the ledger (recorded as a failed run when it fails).
fn failing_run(source: &str, query: &str) -> String {
    let dir = tempdir();
    write(dir.path(), "reports.toml", &config(source, query, ""));
    let out = run(dir.path(), &OCTOBER);
    assert_eq!(out.code, 1, "{out:?}");
    let history = run(dir.path(), &["history", "--json"]);
    let run: serde_json::Value =
        serde_json::from_str(history.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(run["status"], "failed", "{history:?}");
    let detail = run["detail"].as_str().unwrap().to_string();
    assert!(out.stderr.contains(&detail), "{out:?}");
    detail
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn connection_failures_are_clear_failed_runs() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_src_conn");
    let q = "SELECT 1 AS one";
    // Wrong password: PostgreSQL's message; never the password.
    let secrets = tempdir();
    let wrong = write(secrets.path(), "pw", "not-the-password\n");
    let source = pg_source(&pg, &db, "").replace(
        "{ env = \"RCTL_TEST_PG_PASSWORD\" }",
        &format!("{{ file = \"{}\" }}", wrong.display()),
    );
    let d = failing_run(&source, q);
    assert!(!d.contains("not-the-password"));
    assert_eq!(
        d,
        format!("report \"Month\", output EVENTS: source \"db\": connecting to PostgreSQL at {}:{}/{db} as reportctl: PostgreSQL: password authentication failed for user \"reportctl\" [SQLSTATE 28P01]", pg.host, pg.port)
    );
    // Nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let source = pg_source(&pg, &db, "").replace(&format!(":{}/", pg.port), &format!(":{port}/"));
    let d = failing_run(&source, q);
    assert!(
        d.ends_with(&format!("connecting to PostgreSQL at 127.0.0.1:{port}/{db} as reportctl: error connecting to server: Connection refused (os error 111)")),
        "{d}"
    );
    // Something listens but never answers: connect_timeout_seconds.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let source = pg_source(&pg, &db, "connect_timeout_seconds = 1")
        .replace(&format!(":{}/", pg.port), &format!(":{port}/"));
    let d = failing_run(&source, q);
    assert!(
        d.ends_with("no answer within 1 seconds (connect_timeout_seconds)"),
        "{d}"
    );
    drop(silent);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn query_failures_are_clear_failed_runs() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_src_query");
    let source = pg_source(&pg, &db, "statement_timeout_seconds = 1");
    let cases = [
        (
            "SELECT 1 AS a,\n       missing_column\nFROM pg_class WHERE relname > :from_date::text",
            "PostgreSQL: column \"missing_column\" does not exist (at line 2, column 8 of the query) [SQLSTATE 42703]",
        ),
        (
            "SELECT x FROM no_such_table",
            "PostgreSQL: relation \"no_such_table\" does not exist (at line 1, column 15 of the query) [SQLSTATE 42P01]",
        ),
        (
            "SELECT :from_epoch + 'abc'::int AS n",
            "PostgreSQL: invalid input syntax for type integer: \"abc\" (at line 1, column 22 of the query) [SQLSTATE 22P02]",
        ),
        (
            "SELECT 1 AS n WHERE :from > 'x'",
            "PostgreSQL: invalid input syntax for type timestamp with time zone: \"x\" (at line 1, column 29 of the query) [SQLSTATE 22007]",
        ),
        (
            "SELECT n FROM generate_series(1, 3) n WHERE 1 / (n - 2) > 0",
            "PostgreSQL: division by zero [SQLSTATE 22012]",
        ),
        (
            "SELECT upper(1, 2)",
            "PostgreSQL: function upper(integer, integer) does not exist (at line 1, column 8 of the query); HINT: No function matches the given name and argument types. You might need to add explicit type casts. [SQLSTATE 42883]",
        ),
        (
            "SELECT 1 AS n FROM pg_sleep(3)",
            "the query ran longer than the source's statement_timeout_seconds = 1: PostgreSQL: canceling statement due to statement timeout [SQLSTATE 57014]",
        ),
        (
            "SELECT 1 AS n WHERE :since IS NULL",
            "the query uses the unknown parameter :since (at line 1, column 21 of the query); allowed: :from, :to, :from_local, :to_local, :from_date, :to_date, :from_epoch, :to_epoch",
        ),
        (
            "CREATE TABLE t (x int)",
            "the query returns no columns; a report query must be a SELECT",
        ),
        (
            "SELECT 1 AS n FROM (SELECT nextval('s')) s",
            "PostgreSQL: relation \"s\" does not exist (at line 1, column 36 of the query) [SQLSTATE 42P01]",
        ),
    ];
    for (query, want) in cases {
        let d = failing_run(&source, query);
        assert_eq!(
            d,
            format!("report \"Month\", output EVENTS: source \"db\": {want}"),
            "{query}"
        );
    }
    // The session is read-only.
    pg.client(&db).batch_execute("CREATE SEQUENCE s").unwrap();
    let d = failing_run(&source, "SELECT nextval('s') AS n");
    assert!(
        d.contains("cannot execute nextval() in a read-only transaction [SQLSTATE 25006]"),
        "{d}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn tls_follows_sslmode() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_src_tls");
    let q = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let ssl = |extra: &str, host: &str| {
        let dir = tempdir();
        let source = pg_source(&pg, &db, extra).replace("@127.0.0.1:", &format!("@{host}:"));
        write(dir.path(), "reports.toml", &config(&source, q, ""));
        let mut args = OCTOBER.to_vec();
        args.extend(["--output", "-"]);
        let out = run(dir.path(), &args);
        match out.code {
            0 => Ok(out.stdout.lines().nth(1).unwrap().to_string()),
            _ => Err(out.stderr),
        }
    };
    let ca = format!("ca_file = \"{}\"", pg.ca);
    assert_eq!(
        ssl("sslmode = \"disable\"", "127.0.0.1"),
        Ok("false".into())
    );
    assert_eq!(
        ssl("", "127.0.0.1"),
        Ok("true".into()),
        "prefer is the default"
    );
    assert_eq!(ssl("sslmode = \"require\"", "127.0.0.1"), Ok("true".into()));
    let full = format!("sslmode = \"verify-full\"\n{ca}");
    assert_eq!(ssl(&full, "127.0.0.1"), Ok("true".into()));
    assert_eq!(ssl(&full, "localhost"), Ok("true".into()));
    // A CA that did not sign the server's certificate.
    let dir = tempdir();
    let other = pg::other_ca(dir.path());
    let wrong = format!(
        "sslmode = \"verify-full\"\nca_file = \"{}\"",
        other.display()
    );
    let e = ssl(&wrong, "127.0.0.1").unwrap_err();
    assert!(
        e.contains("the server's certificate was refused: check ca_file"),
        "{e}"
    );
    // require with ca_file checks the certificate too.
    let e = ssl(
        &format!("sslmode = \"require\"\nca_file = \"{}\"", other.display()),
        "127.0.0.1",
    )
    .unwrap_err();
    assert!(e.contains("certificate was refused"), "{e}");
    // A server that answers "no TLS here": require fails, prefer goes on in plain text
    // (which this fake server cannot do, so it fails later, differently).
    let fake = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fake.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut c, _) = fake.accept().unwrap();
        let mut request = [0u8; 8];
        c.read_exact(&mut request).unwrap();
        c.write_all(b"N").unwrap();
    });
    let dir = tempdir();
    let source = pg_source(&pg, &db, "sslmode = \"require\"")
        .replace(&format!(":{}/", pg.port), &format!(":{port}/"));
    write(dir.path(), "reports.toml", &config(&source, q, ""));
    let out = run(dir.path(), &OCTOBER);
    server.join().unwrap();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "connecting to PostgreSQL at 127.0.0.1:{port}/{db} as reportctl: the server does not offer TLS, and sslmode = require requires it"
        )),
        "{out:?}"
    );
}
