//! The ledger's file and its lock, through the binary: first sight never later than the
//! machine's clock (and `list` telling what `run-due` will run next), a bounded wait for
//! the ledger's lock, refusing an empty or foreign file, a read-only ledger, owner-only
//! permissions.
//!
//! Dates are computed from the real clock (a year after now, ...), never written in.
//!
//! Read-only ledgers: root ignores permission bits, and CI runs as root, so the tests
//! that need a ledger this user may not write make the files root-owned and `0644`
//! (directories `0755`) and run reportctl as `nobody` through `setpriv` (util-linux)
//! when they run as root, or directly otherwise.
//!
//! `postgres_ledger_lock_wait_is_bounded` needs the test PostgreSQL server
//! (`scripts/test-servers/start.sh DIR postgres`).

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{run, run_at, tempdir, write};
use chrono::{DateTime, Utc};

const CONFIG: &str = r#"[settings]
timezone = "UTC"
catch_up = 1
lock_timeout_seconds = 1

[sources.db]
kind = "sqlite"
path = "events.db"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Daily Counts"
type = "COUNTS"
source = "db"
destinations = ["out"]
query = "SELECT kind, count(*) AS events FROM events WHERE event_time >= :from AND event_time < :to GROUP BY kind"
[reports.schedule]
frequency = "daily"
at = "06:00"
"#;

fn workspace() -> tempfile::TempDir {
    let dir = tempdir();
    let conn = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
    conn.execute_batch("CREATE TABLE events (event_time TEXT NOT NULL, kind TEXT NOT NULL);")
        .unwrap();
    write(dir.path(), "reports.toml", CONFIG);
    dir
}

fn ledger_path(dir: &Path) -> std::path::PathBuf {
    dir.join(".reportctl/ledger.sqlite")
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn first_seen(dir: &Path) -> DateTime<Utc> {
    let conn = rusqlite::Connection::open(ledger_path(dir)).unwrap();
    let s: String = conn
        .query_row(
            "SELECT first_seen FROM reports WHERE name = 'Daily Counts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    DateTime::parse_from_rfc3339(&s)
        .unwrap()
        .with_timezone(&Utc)
}

fn list_next_run(dir: &Path, wall: &str) -> Option<DateTime<Utc>> {
    let out = run_at(dir, wall, &["--json", "list"]);
    assert_eq!(out.code, 0, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    doc["reports"][0]["next_run"]
        .as_str()
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

// ---------------------------------------------------------------------------------
// A future --now

/// The wall clock the tests of a future `--now` stand still at (`run_at`).
const WALL: &str = "2026-11-30T12:00:00Z";

fn wall() -> DateTime<Utc> {
    WALL.parse().unwrap()
}

#[test]
fn future_now_records_first_sight_no_later_than_the_clock() {
    let dir = workspace();
    let future = wall() + chrono::Duration::days(365);
    let out = run_at(dir.path(), WALL, &["run-due", "--now", &rfc(future)]);
    // catch_up = 1: a year of slots is due at once; all but the latest are skipped.
    assert_eq!(out.code, 1, "{out:?}");
    // And it is said that those slots will not run again at their time.
    assert!(
        out.stderr.starts_with(&format!(
            "reportctl: warning: --now {} is ahead of this machine's clock ({WALL}): ",
            rfc(future)
        )) && out
            .stderr
            .contains("run-due will not run them again when that time comes"),
        "{out:?}"
    );
    assert_eq!(first_seen(dir.path()), wall(), "first sight is the clock's");
    // list says what run-due will run next: the slot after the last one recorded (a
    // year from now), not tomorrow's, which run-due will never run.
    let next = list_next_run(dir.path(), WALL).expect("a next run");
    assert!(
        next > future,
        "list shows {next}, run-due runs nothing before {future}"
    );
}

#[test]
fn first_sight_in_the_future_is_corrected_with_a_warning() {
    let dir = workspace();
    // An older reportctl recorded first sight a year ahead (run-due --now in the future).
    let out = run_at(dir.path(), WALL, &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    let future = wall() + chrono::Duration::days(365);
    let conn = rusqlite::Connection::open(ledger_path(dir.path())).unwrap();
    conn.execute(
        "UPDATE reports SET first_seen = ?1",
        [future.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)],
    )
    .unwrap();
    drop(conn);
    // list does not believe it either: the next run is within a day.
    let next = list_next_run(dir.path(), WALL).expect("a next run");
    assert!(next <= wall() + chrono::Duration::days(1), "{next}");

    let later = wall() + chrono::Duration::days(2);
    let out = run_at(
        dir.path(),
        WALL,
        &["--json", "run-due", "--now", &rfc(later)],
    );
    assert!(
        out.stderr
            .contains("reportctl: warning: report \"Daily Counts\": first seen")
            && out.stderr.contains("in the future"),
        "{out:?}"
    );
    assert_eq!(first_seen(dir.path()), wall(), "corrected to the clock");
    // The two daily slots since the correction ran (catch_up = 1: one ran, one skipped).
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
}

// ---------------------------------------------------------------------------------
// The ledger's lock

/// Holds the ledger's setup lock as another process would (`flock` on the lock file).
fn hold_lock(dir: &Path, content: &str) -> std::fs::File {
    std::fs::create_dir_all(dir.join(".reportctl")).unwrap();
    let path = dir.join(".reportctl/ledger.sqlite.lock");
    std::fs::write(&path, content).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.try_lock().unwrap();
    f
}

#[test]
fn run_due_gives_up_on_a_held_lock_with_exit_75_naming_the_holder() {
    let dir = workspace();
    assert_eq!(run(dir.path(), &["run-due"]).code, 0);
    let _held = hold_lock(dir.path(), "pid 4242 on host cronbox\n");
    let started = Instant::now();
    let out = run(dir.path(), &["run-due"]);
    let took = started.elapsed();
    assert_eq!(out.code, 75, "{out:?}");
    assert!(took < Duration::from_secs(5), "waited {took:?}");
    assert!(took >= Duration::from_millis(900), "did not wait: {took:?}");
    assert!(out.stderr.starts_with("reportctl: error: "), "{out:?}");
    assert!(out.stderr.contains("ledger.sqlite"), "{out:?}");
    assert!(out.stderr.contains("pid 4242 on host cronbox"), "{out:?}");
    assert!(out.stderr.contains("lock_timeout_seconds = 1"), "{out:?}");
}

#[test]
fn run_due_gives_up_on_a_held_sqlite_write_lock_with_exit_75() {
    let dir = workspace();
    assert_eq!(run(dir.path(), &["run-due"]).code, 0);
    let conn = rusqlite::Connection::open(ledger_path(dir.path())).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value;")
        .unwrap();
    let started = Instant::now();
    let out = run(dir.path(), &["run-due"]);
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        out.stderr.starts_with(
            "reportctl: error: the ledger .reportctl/ledger.sqlite is busy: another process kept it locked for more than lock_timeout_seconds = 1; try again later"
        ),
        "{out:?}"
    );
    conn.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_lock_held_by_a_silent_process_says_so() {
    let dir = workspace();
    assert_eq!(run(dir.path(), &["run-due"]).code, 0);
    // The last reportctl erased its note when it let go: no stale holder is named.
    let lock = dir.path().join(".reportctl/ledger.sqlite.lock");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), "");
    let f = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    f.try_lock().unwrap();
    let out = run(dir.path(), &["run-due"]);
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        out.stderr.contains("(it did not write who it is)"),
        "{out:?}"
    );
}

#[test]
fn readers_answer_while_the_lock_is_held() {
    let dir = workspace();
    let yesterday = Utc::now() - chrono::Duration::days(1);
    assert_eq!(
        run(dir.path(), &["run-due", "--now", &rfc(yesterday)]).code,
        0
    );
    assert_eq!(run(dir.path(), &["run-due"]).code, 0);
    let _held = hold_lock(dir.path(), "pid 4242 on host cronbox\n");
    // A writer also holding SQLite's write lock.
    let conn = rusqlite::Connection::open(ledger_path(dir.path())).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value;")
        .unwrap();
    let started = Instant::now();
    let out = run(dir.path(), &["history"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Daily Counts"), "{out:?}");
    let out = run(dir.path(), &["list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    conn.execute_batch("ROLLBACK").unwrap();
}

// ---------------------------------------------------------------------------------
// An empty or foreign file

#[test]
fn an_empty_ledger_file_is_refused_and_left_alone() {
    let dir = workspace();
    std::fs::create_dir_all(dir.path().join(".reportctl")).unwrap();
    std::fs::write(ledger_path(dir.path()), b"").unwrap();
    for args in [&["run-due"][..], &["history"][..]] {
        let out = run(dir.path(), args);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.starts_with("reportctl: error: "), "{out:?}");
        assert!(
            out.stderr.contains(".reportctl/ledger.sqlite is empty"),
            "{out:?}"
        );
        assert!(out.stderr.contains("not a reportctl ledger"), "{out:?}");
        assert!(out.stderr.contains("[settings] state"), "{out:?}");
    }
    assert_eq!(std::fs::read(ledger_path(dir.path())).unwrap(), b"");
    assert!(!dir.path().join("out").exists(), "a run was delivered");
}

#[test]
fn another_sqlite_database_is_refused_and_left_alone() {
    let dir = workspace();
    std::fs::create_dir_all(dir.path().join(".reportctl")).unwrap();
    let conn = rusqlite::Connection::open(ledger_path(dir.path())).unwrap();
    conn.execute_batch("CREATE TABLE photos (name TEXT); INSERT INTO photos VALUES ('cat');")
        .unwrap();
    drop(conn);
    let before = std::fs::read(ledger_path(dir.path())).unwrap();
    let out = run(dir.path(), &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("is a SQLite database but not a reportctl ledger"),
        "{out:?}"
    );
    assert!(out.stderr.contains("will not touch it"), "{out:?}");
    assert_eq!(std::fs::read(ledger_path(dir.path())).unwrap(), before);
}

#[test]
fn random_bytes_are_refused() {
    let dir = workspace();
    write(
        dir.path(),
        ".reportctl/ledger.sqlite",
        &"not a database ".repeat(300),
    );
    let out = run(dir.path(), &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("is not a SQLite database"), "{out:?}");
    assert!(out.stderr.contains("move it aside"), "{out:?}");
}

#[test]
fn a_damaged_page_names_the_file_with_advice() {
    let dir = workspace();
    let before = Utc::now() - chrono::Duration::days(3);
    assert_eq!(run(dir.path(), &["run-due", "--now", &rfc(before)]).code, 0);
    // Three daily slots since; catch_up = 1 runs the last and skips the others.
    assert_eq!(run(dir.path(), &["run-due"]).code, 1);
    let path = ledger_path(dir.path());
    // Scribble over the data page of the runs table; the header, the schema and the
    // ledger's meta table stay readable, so the ledger opens and the damage shows when
    // the runs are read.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (page_size, root): (usize, usize) = conn
        .query_row(
            "SELECT (SELECT page_size FROM pragma_page_size), rootpage
             FROM sqlite_master WHERE name = 'runs'",
            [],
            |r| Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as usize)),
        )
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[(root - 1) * page_size..root * page_size] {
        *b = 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();
    // history reads the runs; run-due with nothing due reads only indexes (flat in the
    // history's size), so it meets the damage when the next slot is recorded (a --now
    // ahead of the clock also gets a warning first).
    let tomorrow = rfc(Utc::now() + chrono::Duration::days(1));
    for args in [&["history"][..], &["run-due", "--now", &tomorrow][..]] {
        let out = run(dir.path(), args);
        assert_eq!(out.code, 1, "{out:?}");
        let error = out.stderr.lines().last().unwrap_or_default();
        assert!(
            error.starts_with("reportctl: error: the ledger .reportctl/ledger.sqlite is damaged ("),
            "{out:?}"
        );
        assert!(out.stderr.contains("malformed"), "{out:?}");
        assert!(out.stderr.contains("move it aside"), "{out:?}");
    }
}

// ---------------------------------------------------------------------------------
// Read-only ledgers, and readers that create nothing

#[test]
fn readers_on_a_fresh_config_create_nothing() {
    let dir = workspace();
    let out = run(dir.path(), &["history"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("no runs yet"), "{out:?}");
    let out = run(dir.path(), &["list"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(dir.path(), &["status", "0123456789abcdef"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("no run with token"), "{out:?}");
    assert!(!dir.path().join(".reportctl").exists());
}

/// Runs reportctl as an unprivileged user when the tests run as root (root ignores
/// permission bits, so a read-only file would not be read-only to it).
fn run_unprivileged(dir: &Path, args: &[&str]) -> common::Output {
    let mut c = if unsafe { libc::geteuid() } == 0 {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(common::bin());
        c
    } else {
        std::process::Command::new(common::bin())
    };
    c.current_dir(dir)
        .args(args)
        .env_remove("REPORTCTL_CONFIG")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1");
    let out = c.output().expect("run reportctl");
    common::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Makes `dir` readable (not writable) by everybody, the ledger's directory included.
fn read_only_for_others(dir: &Path) {
    for p in [dir.to_path_buf(), dir.join(".reportctl")] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for e in std::fs::read_dir(dir.join(".reportctl")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    std::fs::set_permissions(
        dir.join("reports.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
}

#[test]
fn readers_work_on_a_read_only_ledger() {
    let dir = workspace();
    let yesterday = Utc::now() - chrono::Duration::days(1);
    assert_eq!(
        run(dir.path(), &["run-due", "--now", &rfc(yesterday)]).code,
        0
    );
    // One daily slot since yesterday: one run.
    assert_eq!(run(dir.path(), &["run-due"]).code, 0);
    read_only_for_others(dir.path());
    let listing = |d: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(d.join(".reportctl"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing(dir.path());
    let out = run_unprivileged(dir.path(), &["history"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Daily Counts"), "{out:?}");
    let token = out
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let out = run_unprivileged(dir.path(), &["status", token]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run_unprivileged(dir.path(), &["list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn run_due_on_a_read_only_ledger_names_the_file_to_fix() {
    let dir = workspace();
    let yesterday = Utc::now() - chrono::Duration::days(1);
    assert_eq!(
        run(dir.path(), &["run-due", "--now", &rfc(yesterday)]).code,
        0
    );
    // One daily slot since yesterday: one run.
    assert_eq!(run(dir.path(), &["run-due"]).code, 0);
    read_only_for_others(dir.path());
    let out = run_unprivileged(dir.path(), &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("reportctl: error: "), "{out:?}");
    assert!(out.stderr.contains("ledger.sqlite"), "{out:?}");
    assert!(out.stderr.contains("cannot write"), "{out:?}");
    assert!(out.stderr.contains("permissions"), "{out:?}");
}

// ---------------------------------------------------------------------------------
// Permissions

#[test]
fn ledger_files_are_owner_only_whatever_the_umask() {
    let dir = workspace();
    // The shell sets the umask a login shell would, then runs reportctl.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" run-due")
        .arg(common::bin())
        .current_dir(dir.path())
        .env_remove("REPORTCTL_CONFIG")
        .env("TZ", "UTC")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join(".reportctl")), 0o700);
    assert_eq!(mode(&ledger_path(dir.path())), 0o600);
    assert_eq!(
        mode(&dir.path().join(".reportctl/ledger.sqlite.lock")),
        0o600
    );
    // -wal and -shm while a connection has them open.
    let conn = rusqlite::Connection::open(ledger_path(dir.path())).unwrap();
    conn.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))
        .unwrap();
    for suffix in ["-wal", "-shm"] {
        let p = dir.path().join(format!(".reportctl/ledger.sqlite{suffix}"));
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

// ---------------------------------------------------------------------------------
// The PostgreSQL ledger (needs the test PostgreSQL server)

#[test]
#[ignore = "needs test servers: scripts/test"]
fn postgres_ledger_lock_wait_is_bounded() {
    let pg = common::pg::server();
    let db = pg.fresh_db("rctl_ledger_lock");
    let dir = workspace();
    let config = CONFIG.replace(
        "[settings]\n",
        &format!(
            "[settings]\nstate = \"{}\"\nstate_password = {{ env = \"RCTL_TEST_PG_PASSWORD\" }}\n",
            pg.url(&db)
        ),
    );
    write(dir.path(), "reports.toml", &config);
    let out = run(dir.path(), &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    // Another host holds a lock on the table run-due writes first.
    let mut other = pg.client(&db);
    let mut tx = other.transaction().unwrap();
    tx.batch_execute("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let started = Instant::now();
    let out = run(dir.path(), &["run-due"]);
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        out.stderr
            .contains("the PostgreSQL ledger is busy: another process held a lock it needs for more than lock_timeout_seconds"),
        "{out:?}"
    );
    tx.rollback().unwrap();
    assert!(!dir.path().join(".reportctl/ledger.sqlite").exists());
}
