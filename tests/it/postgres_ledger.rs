//! The ledger behaviour suite against the PostgreSQL back-end (the same suite the
//! SQLite ledger passes), plus what only a shared server can show: hosts opening a
//! new ledger together, schema versions.

use crate::common;

use reportctl::config::secret::Secret;
use reportctl::ledger::{postgres::PostgresStore, Ledger};

fn password() -> Secret {
    common::servers::env("PostgreSQL", "PG_PASSWORD");
    Secret::Env("RCTL_TEST_PG_PASSWORD".into())
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn postgres_ledger_behaviour() {
    let pg = common::pg::server();
    let url = pg.url(&pg.fresh_db("rctl_ledger"));
    let secret = password();
    let open = || -> Ledger { Box::new(PostgresStore::open(&url, Some(&secret)).unwrap()) };
    common::ledger_suite::run_all(&open);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn hosts_creating_a_ledger_together_migrate_it_once() {
    let pg = common::pg::server();
    let url = pg.url(&pg.fresh_db("rctl_ledger_new"));
    let secret = password();
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| PostgresStore::open(&url, Some(&secret)).unwrap());
        }
    });
    let mut c = pg.client(url.rsplit('/').next().unwrap());
    let v: String = c
        .query_one("SELECT value FROM meta WHERE key = 'schema_version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, reportctl::ledger::schema::VERSION.to_string());
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn newer_schema_is_refused() {
    let pg = common::pg::server();
    let db = pg.fresh_db("rctl_ledger_newer");
    let url = pg.url(&db);
    let secret = password();
    drop(PostgresStore::open(&url, Some(&secret)).unwrap());
    pg.client(&db)
        .execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
    let msg = format!(
        "{:#}",
        PostgresStore::open(&url, Some(&secret)).err().unwrap()
    );
    assert!(
        msg.contains("written by a newer reportctl (schema version 99"),
        "{msg}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_wrong_password_is_a_clear_error() {
    let pg = common::pg::server();
    let url = pg.url(&pg.fresh_db("rctl_ledger_pw"));
    let msg = format!(
        "{:#}",
        PostgresStore::open(&url, Some(&Secret::Plain("wrong".into())))
            .err()
            .unwrap()
    );
    assert!(
        msg.contains("password authentication failed for user \"reportctl\" [SQLSTATE 28P01]"),
        "{msg}"
    );
    assert!(msg.contains(&format!("{}:{}", pg.host, pg.port)), "{msg}");
    assert!(!msg.contains("wrong"), "{msg}");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn tls_settings_in_the_url() {
    let pg = common::pg::server();
    let db = pg.fresh_db("rctl_ledger_tls");
    let secret = password();
    let ssl = |q: &str| -> Result<bool, String> {
        let url = format!("{}?{q}", pg.url(&db));
        PostgresStore::open(&url, Some(&secret)).map_err(|e| format!("{e:#}"))?;
        let mut c = pg.client(&db);
        // The ledger's own connection shows up in pg_stat_ssl while it is open.
        let store = PostgresStore::open(&url, Some(&secret)).map_err(|e| format!("{e:#}"))?;
        let on: bool = c
            .query_one(
                "SELECT bool_or(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.application_name = 'reportctl ledger' AND a.datname = $1",
                &[&db],
            )
            .unwrap()
            .get(0);
        drop(store);
        Ok(on)
    };
    assert_eq!(ssl("sslmode=disable"), Ok(false));
    assert_eq!(
        ssl(&format!("sslmode=verify-full&sslrootcert={}", pg.ca)),
        Ok(true)
    );
    let dir = common::tempdir();
    let other = common::pg::other_ca(dir.path());
    let err = ssl(&format!(
        "sslmode=verify-full&sslrootcert={}",
        other.display()
    ))
    .unwrap_err();
    assert!(err.contains("certificate was refused"), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://reportctl@127.0.0.1:{port}/db?connect_timeout=1");
    let started = std::time::Instant::now();
    let msg = format!("{:#}", PostgresStore::open(&url, None).err().unwrap());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        msg,
        format!("opening the ledger: connecting to PostgreSQL at 127.0.0.1:{port}/db as reportctl: no answer within 1 seconds")
    );
}

/// A ledger of schema version 1 on the server is upgraded in place, as the SQLite one.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn version_1_ledger_is_upgraded_with_each_report_s_latest_slot() {
    let pg = common::pg::server();
    let db = pg.fresh_db("rctl_ledger_v1");
    pg.client(&db)
        .batch_execute(&common::ledger_suite::version_1_ledger())
        .unwrap();
    let secret = password();
    let mut ledger: Ledger = Box::new(PostgresStore::open(&pg.url(&db), Some(&secret)).unwrap());
    common::ledger_suite::version_1_upgrade_keeps_each_report_s_latest_slot(&mut ledger);
}
