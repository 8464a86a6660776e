//! Several hosts, one PostgreSQL ledger: each "host" is a `reportctl run-due` process
//! with its own directory, its own copy of the configuration, its own spool and its own
//! directory destination, as separate machines would have. Exactly once is observed
//! twice over: in the ledger (one run per slot, claimed once: attempts = 1) and in the
//! delivered files (one file per slot across all hosts' destinations).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::pg::{self, Pg};
use crate::common::{tempdir, write};

/// One host's configuration: an hourly report from `start`, on the shared ledger.
pub(crate) fn host_config(
    pg: &Pg,
    ledger_db: &str,
    source_db: &str,
    query: &str,
    extra: &str,
) -> String {
    format!(
        r#"[settings]
timezone = "UTC"
state = "{ledger}"
state_password = {{ env = "RCTL_TEST_PG_PASSWORD" }}
catch_up = 100
{extra}

[sources.db]
kind = "postgres"
url = "{source}"
password = {{ env = "RCTL_TEST_PG_PASSWORD" }}

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Hourly"
type = "HOURLY"
source = "db"
destinations = ["out"]
backfill = true
file_name = "{{name}}_{{from}}.csv"
date_format = "%Y%m%dT%H%M"
query = "{query}"
[reports.schedule]
frequency = "hourly"
start = 2026-11-02T00:00:00
"#,
        ledger = pg.url(ledger_db),
        source = pg.url(source_db),
    )
}

pub(crate) fn spawn_host(dir: &Path, now: &str) -> Child {
    spawn_host_at(dir, now, None)
}

/// `run-due --now now` on a host, its wall clock standing still at `wall` if given.
pub(crate) fn spawn_host_at(dir: &Path, now: &str, wall: Option<&str>) -> Child {
    let args = ["run-due", "--now", now];
    match wall {
        Some(wall) => common::command_at(dir, wall, &args),
        None => common::command(dir, &args),
    }
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start reportctl run-due")
}

pub(crate) fn finish(child: Child) -> common::Output {
    let out = child.wait_with_output().unwrap();
    common::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// The delivered files of every host: name → how many hosts have it.
pub(crate) fn delivered(hosts: &[tempfile::TempDir]) -> BTreeMap<String, usize> {
    let mut files = BTreeMap::new();
    for h in hosts {
        let Ok(entries) = std::fs::read_dir(h.path().join("out")) else {
            continue;
        };
        for e in entries.flatten() {
            *files
                .entry(e.file_name().to_string_lossy().into_owned())
                .or_insert(0) += 1;
        }
    }
    files
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn three_hosts_run_every_slot_of_a_day_exactly_once() {
    let pg = pg::server();
    let ledger = pg.fresh_db("rctl_multi_ledger");
    let source = pg.fresh_db("rctl_multi_source");
    // Each run takes a moment, so that the hosts really overlap.
    let query = "SELECT :from AS slot_from, :to AS slot_to FROM pg_sleep(0.2)";
    let hosts: Vec<_> = (0..3).map(|_| tempdir()).collect();
    for h in &hosts {
        write(
            h.path(),
            "reports.toml",
            &host_config(&pg, &ledger, &source, query, ""),
        );
    }
    let now = "2026-11-02T23:59:00Z";
    let children: Vec<Child> = hosts.iter().map(|h| spawn_host(h.path(), now)).collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = finish(c);
        assert_eq!(out.code, 0, "host {i}: {out:?}");
    }

    // The ledger: 24 hourly slots, each one run, completed, claimed once, delivered once.
    let mut c = pg.client(&ledger);
    let runs = c
        .query(
            "SELECT slot_at, status, attempts, owner IS NULL,
                    (SELECT count(*) FROM receipts r WHERE r.token = runs.token AND r.status = 'delivered' AND r.attempts = 1)
             FROM runs ORDER BY slot_at",
            &[],
        )
        .unwrap();
    assert_eq!(runs.len(), 24);
    for (hour, r) in runs.iter().enumerate() {
        let slot: String = r.get(0);
        assert_eq!(slot, format!("2026-11-02T{hour:02}:00:00.000Z"));
        assert_eq!(r.get::<_, String>(1), "completed", "{slot}");
        assert_eq!(r.get::<_, i64>(2), 1, "{slot} was claimed more than once");
        assert!(r.get::<_, bool>(3));
        assert_eq!(r.get::<_, i64>(4), 1, "{slot}: one delivered receipt");
    }

    // The files: one per slot across the three hosts' destinations.
    let files = delivered(&hosts);
    assert_eq!(files.len(), 24, "{files:?}");
    assert!(
        files.values().all(|n| *n == 1),
        "a slot was delivered twice: {files:?}"
    );
    let per_host: Vec<usize> = hosts
        .iter()
        .map(|h| std::fs::read_dir(h.path().join("out")).map_or(0, |d| d.count()))
        .collect();
    eprintln!("slots delivered per host: {per_host:?}");

    // A later run-due on any host finds nothing to do.
    let again = finish(spawn_host(hosts[1].path(), now));
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(delivered(&hosts).len(), 24);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_host_killed_mid_run_is_taken_over_after_its_lease_once() {
    let pg = pg::server();
    let ledger = pg.fresh_db("rctl_kill_ledger");
    let source = pg.fresh_db("rctl_kill_source");
    let query = "SELECT n FROM generate_series(1, 3) n, pg_sleep(2)";
    let hosts: Vec<_> = (0..2).map(|_| tempdir()).collect();
    for h in &hosts {
        let cfg = host_config(&pg, &ledger, &source, query, "lease_seconds = 60")
            .replace("start = 2026-11-02T00:00:00", "start = 2026-11-02T05:00:00");
        write(h.path(), "reports.toml", &cfg);
    }
    let now = "2026-11-02T05:30:00Z";
    let status = |c: &mut postgres::Client| -> Option<(String, i64)> {
        let rows = c.query("SELECT status, attempts FROM runs", &[]).ok()?;
        rows.first().map(|r| (r.get(0), r.get(1)))
    };

    // Host A claims the slot and is killed while its query runs. The hosts' wall clocks
    // stand still, so "within the lease" and "after it" do not race the machine.
    let mut a = spawn_host_at(hosts[0].path(), now, Some(now));
    let mut c = pg.client(&ledger);
    let deadline = Instant::now() + Duration::from_secs(20);
    while status(&mut c) != Some(("running".into(), 1)) {
        assert!(Instant::now() < deadline, "host A never claimed the slot");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    a.kill().unwrap(); // SIGKILL
    let _ = a.wait();

    // Within the lease, host B leaves the slot alone.
    let b = finish(spawn_host_at(
        hosts[1].path(),
        now,
        Some("2026-11-02T05:30:59Z"),
    ));
    assert_eq!(b.code, 0, "{b:?}");
    assert_eq!(status(&mut c), Some(("running".into(), 1)));

    // After the lease, host B takes it over and completes it, once.
    let b = finish(spawn_host_at(
        hosts[1].path(),
        now,
        Some("2026-11-02T05:31:01Z"),
    ));
    assert_eq!(b.code, 0, "{b:?}");
    assert_eq!(status(&mut c), Some(("completed".into(), 2)));
    let receipts = c
        .query("SELECT destination, status, attempts FROM receipts", &[])
        .unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(
        (
            receipts[0].get::<_, String>(1),
            receipts[0].get::<_, i64>(2)
        ),
        ("delivered".into(), 1)
    );
    let files = delivered(&hosts);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files.values().sum::<usize>(), 1, "{files:?}");
    assert!(
        !hosts[0].path().join("out").exists(),
        "the killed host delivered nothing"
    );
    let csv = std::fs::read_to_string(hosts[1].path().join("out").join("Hourly_20261102T0400.csv"))
        .unwrap();
    assert_eq!(csv, "n\n1\n2\n3\n");
}
