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
