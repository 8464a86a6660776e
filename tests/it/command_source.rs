//! The command source with real command-line clients (psql --csv, sqlite3 -csv) and
//! with commands that fail: a non-zero exit, malformed CSV, a hang past the timeout.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::pg;
use crate::common::{run, tempdir, write};

fn events_sql() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/data/events.sql")
        .display()
        .to_string()
}

/// One source `[sources.src]` and one report "Month" using it.
fn config(source: &str, query: &str, csv: &str) -> String {
    format!(
        "[settings]\ntimezone = \"America/New_York\"\n\n{source}\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Month\"\ntype = \"EVENTS\"\nsource = \"src\"\ndestinations = [\"local\"]\nquery = '''\n{query}\n'''\n[reports.csv]\n{csv}\n[reports.schedule]\nfrequency = \"monthly\"\n"
    )
}

fn command(program: &str, args: &[&str], extra: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| format!("'''{a}'''")).collect();
    format!(
        "[sources.src]\nkind = \"command\"\nprogram = \"{program}\"\nargs = [{}]\n{extra}\n",
        args.join(", ")
    )
}

const OCTOBER: [&str; 8] = [
    "run",
    "Month",
    "--from",
    "2026-10-01",
    "--to",
    "2026-10-31",
    "--output",
    "-",
];

fn output(source: &str, query: &str, csv: &str) -> common::Output {
    let dir = tempdir();
    write(dir.path(), "reports.toml", &config(source, query, csv));
    run(dir.path(), &OCTOBER)
}

#[test]
#[ignore = "needs the test PostgreSQL and psql: scripts/test"]
fn psql_csv_gives_the_same_rows_as_the_sqlite_source() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_cmd_psql");
    pg.load_events(&db);
    // psql takes the window from the environment (\getenv) and quotes it itself; the
    // query comes on stdin (-f -), where psql expands variables.
    let psql = command(
        "psql",
        &[
            "--csv",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "\\getenv from REPORTCTL_FROM",
            "-c",
            "\\getenv to REPORTCTL_TO",
            "-f",
            "-",
        ],
        &format!(
            "env = {{ PGHOST = \"{}\", PGPORT = \"{}\", PGUSER = \"{}\", PGDATABASE = \"{db}\", PGPASSWORD = {{ env = \"RCTL_TEST_PG_PASSWORD\" }} }}\ntimeout_seconds = 60",
            pg.host, pg.port, pg.user
        ),
    );
    let from_psql = output(
        &psql,
        "SELECT id, to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS event_time,
                event_type, event_name, network, country
         FROM events WHERE event_time >= :'from' AND event_time < :'to' ORDER BY event_time, id",
        "",
    );
    assert_eq!(from_psql.code, 0, "{from_psql:?}");
    let sqlite = format!(
        "[sources.src]\nkind = \"sqlite\"\ninit = [\"{}\"]\n",
        events_sql()
    );
    let from_sqlite = output(
        &sqlite,
        "SELECT id, event_time, event_type, event_name, network, country
         FROM events WHERE event_time >= :from AND event_time < :to ORDER BY event_time, id",
        "",
    );
    assert_eq!(from_sqlite.code, 0, "{from_sqlite:?}");
    assert!(from_psql.stdout.lines().count() > 8000);
    assert_eq!(from_psql.stdout, from_sqlite.stdout);
}

#[test]
#[ignore = "needs the sqlite3 program: scripts/test"]
fn sqlite3_csv_is_rerendered_with_the_reports_options() {
    let sqlite3 = command(
        "sqlite3",
        &[
            "-csv",
            "-header",
            ":memory:",
            &format!(".read {}", events_sql()),
            "{query}",
        ],
        "",
    );
    let query = "SELECT network || ', ' || country AS place, count(*) AS events,
                 '=' || country AS formula FROM events
                 GROUP BY network, country ORDER BY network, country LIMIT 3";
    let out = output(&sqlite3, query, "delimiter = \";\"\nformula_guard = true");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "place;events;formula\nAdNet North, au;1502;'=au\nAdNet North, ca;1502;'=ca\nAdNet North, de;1495;'=de\n"
    );
}

#[test]
fn the_window_reaches_the_command_in_env_and_whole_arguments() {
    let secrets = tempdir();
    let token = write(secrets.path(), "token", "s3cr3t\n");
    let script = "printf 'from,to,to_date,epoch,report,type,arg1,arg2,token,query\\n%s,%s,%s,%s,%s,%s,%s,%s,%s,\"%s\"\\n' \
        \"$REPORTCTL_FROM\" \"$REPORTCTL_TO\" \"$REPORTCTL_TO_DATE\" \"$REPORTCTL_FROM_EPOCH\" \
        \"$REPORTCTL_REPORT\" \"$REPORTCTL_TYPE\" \"$1\" \"$2\" \"$TOKEN\" \"$REPORTCTL_QUERY\"";
    let source = command(
        "sh",
        &["-c", script, "sh", "{from_local}", "--to={to}"],
        &format!("env = {{ TOKEN = {{ file = \"{}\" }} }}", token.display()),
    );
    let out = output(&source, "anything, really", "formula_guard = false");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "from,to,to_date,epoch,report,type,arg1,arg2,token,query\n\
         2026-10-01T04:00:00Z,2026-11-01T04:00:00Z,2026-10-31,1790827200,Month,EVENTS,2026-10-01 00:00:00,--to={to},s3cr3t,\"anything, really\n\"\n"
    );
}

#[test]
fn a_non_zero_exit_fails_the_run_with_its_stderr() {
    let source = command(
        "sh",
        &[
            "-c",
            "echo 'a,b'; echo '1,2'; echo 'ERROR: relation \"x\" does not exist' >&2; exit 3",
        ],
        "",
    );
    let out = output(&source, "q", "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "source \"src\": the command sh exited with status 3; its stderr ends with:\nERROR: relation \"x\" does not exist"
        ),
        "{out:?}"
    );
    let source = command("no-such-program-here", &[], "");
    let out = output(&source, "q", "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("starting the command no-such-program-here: No such file or directory"),
        "{out:?}"
    );
}

#[test]
fn malformed_csv_fails_the_run_naming_the_line() {
    let source = command("sh", &["-c", "printf 'a,b\\n1,2\\n3\\n4,5\\n'"], "");
    let out = output(&source, "q", "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "source \"src\": the command sh: its output is not valid CSV: line 3 has 1 fields, the header has 2"
        ),
        "{out:?}"
    );
    let source = command("sh", &["-c", "true"], "");
    let out = output(&source, "q", "");
    assert!(
        out.stderr
            .contains("it printed nothing; its output must be CSV with a header row"),
        "{out:?}"
    );
}

#[test]
fn a_hanging_command_is_killed_at_its_timeout() {
    // The shell waits for a child: both are killed, as the whole process group.
    let marker = format!("{}.25", 30 + std::process::id() % 1000);
    let source = command(
        "sh",
        &[
            "-c",
            &format!("echo a; echo 1; echo waiting >&2; sleep {marker} & wait"),
        ],
        "timeout_seconds = 1",
    );
    let started = Instant::now();
    let out = output(&source, "q", "");
    assert!(started.elapsed() < Duration::from_secs(10), "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "the command sh ran longer than timeout_seconds = 1 and was killed; its stderr ends with:\nwaiting"
        ),
        "{out:?}"
    );
    let left: Vec<_> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(&format!("sleep\0{marker}")))
        .collect();
    assert!(left.is_empty(), "the sleep outlived the timeout");
}
