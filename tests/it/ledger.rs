//! The ledger behaviour suite against the SQLite back-end, plus what only a file can
//! show: schema versions, a damaged file.

use crate::common;

use reportctl::ledger::{sqlite::SqliteStore, Ledger};

#[test]
fn sqlite_ledger_behaviour() {
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite");
    let open = || -> Ledger { Box::new(SqliteStore::open(&path).unwrap()) };
    common::ledger_suite::run_all(&open);
}

#[test]
fn damaged_ledger_is_refused_with_advice() {
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite");
    std::fs::write(&path, b"this is not a database, just bytes ".repeat(200)).unwrap();
    let err = SqliteStore::open(&path).err().expect("refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("is damaged or not a reportctl ledger"),
        "{msg}"
    );
    assert!(msg.contains("move it aside"), "{msg}");
}

#[test]
fn newer_schema_is_refused() {
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let msg = format!("{:#}", SqliteStore::open(&path).err().unwrap());
    assert!(
        msg.contains("written by a newer reportctl (schema version 99"),
        "{msg}"
    );
}

/// A ledger of schema version 1 is upgraded in place (see the suite's
/// `version_1_upgrade_keeps_each_report_s_latest_slot`).
#[test]
fn version_1_ledger_is_upgraded_with_each_report_s_latest_slot() {
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(common::ledger_suite::version_1_ledger().as_str())
        .unwrap();
    drop(conn);
    let mut ledger: Ledger = Box::new(SqliteStore::open(&path).unwrap());
    common::ledger_suite::version_1_upgrade_keeps_each_report_s_latest_slot(&mut ledger);
    let version: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, reportctl::ledger::schema::VERSION.to_string());
}
