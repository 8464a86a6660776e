//! The seam between the ledger's statements (`statements.rs`, written once) and its two
//! back-ends. A back-end offers `Sql` on its connection and its transactions (run a
//! statement with parameters, get rows of plain values) and `Backend` around them (how a
//! read and a write transaction are had, retried and locked).
//!
//! Statements are spelled as PostgreSQL reads them: parameters are `$1`, `$2`, …; text
//! compared or ordered as timestamps or names says `COLLATE "C"` (byte order, whatever
//! the database's collation); a row read in order to write it says `FOR UPDATE`. SQLite
//! compares text bytewise already and holds the whole file for a write, so it reads the
//! last two as nothing (`sqlite::spelled`). No statement holds a `$` of its own.

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};

use super::parse_ts;

/// A parameter or a cell. The ledger stores only text and integers; a `Null` parameter is
/// a text one (every column that may be NULL holds text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(s.clone())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

/// One row of a result, its cells in the order of the statement's columns.
#[derive(Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| anyhow!("the ledger answered without column {i}"))
    }

    fn opt_str(&self, i: usize) -> Result<Option<&str>> {
        match self.cell(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s)),
            Value::Int(n) => Err(anyhow!(
                "the ledger holds a number ({n}) where text belongs"
            )),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.opt_str(i)?.map(str::to_owned))
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| anyhow!("the ledger holds NULL where text belongs"))
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        match self.cell(i)? {
            Value::Int(n) => Ok(*n),
            other => Err(anyhow!("the ledger holds {other:?} where a number belongs")),
        }
    }

    pub fn opt_ts(&self, i: usize) -> Result<Option<DateTime<Utc>>> {
        self.opt_str(i)?.map(parse_ts).transpose()
    }

    pub fn ts(&self, i: usize) -> Result<DateTime<Utc>> {
        self.opt_ts(i)?
            .ok_or_else(|| anyhow!("the ledger holds NULL where a time belongs"))
    }
}

/// Runs statements on a connection or in a transaction. Errors are the database
/// driver's own, unwrapped, so that the back-end can explain or retry them.
pub trait Sql {
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>>;

    /// Runs a statement that returns no rows; the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64>;

    /// Runs statements separated by `;`, without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<()>;

    fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row> {
        self.query_opt(sql, args)?
            .ok_or_else(|| anyhow!("the ledger answered no row"))
    }

    /// `query_one` with each of `keys` as `$1` in turn; a back-end may prepare the
    /// statement once.
    fn query_each(&mut self, sql: &str, keys: &[&str]) -> Result<Vec<Row>> {
        keys.iter()
            .map(|key| self.query_one(sql, &[(*key).into()]))
            .collect()
    }
}

/// A ledger back-end: how a `Store` method gets its transaction. Every `Backend` is a
/// `Store` (`statements.rs`).
pub trait Backend: Send {
    /// Runs `f` in a transaction that only reads (or none, when each statement sees the
    /// latest data anyway); errors come back explained for the user.
    fn read<T>(&mut self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T>;

    /// Runs `f` in a transaction that writes, under the back-end's locking; `f` may be
    /// run again when the database asks for a retry. Errors come back explained.
    fn write<T>(&mut self, f: impl FnMut(&mut dyn Sql) -> Result<T>) -> Result<T>;

    /// Within a write: makes the send-test checks of `report` wait for each other,
    /// across processes and hosts. Nothing to do where a write holds the whole ledger.
    fn lock_send_tests(_db: &mut dyn Sql, _report: &str) -> Result<()> {
        Ok(())
    }
}
