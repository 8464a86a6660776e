//! The ledger in a PostgreSQL database, shared by several hosts running `run-due`.
//! Same schema, statements and semantics as the SQLite file (`schema.rs` holds the
//! migrations of both, `statements.rs` the statements); what differs is how exclusion
//! is had:
//!
//! - migrations run under a transaction-scoped advisory lock, so hosts starting
//!   together apply them once, one after the other;
//! - a claim is one `UPDATE … WHERE token = $1 AND <claimable>`: PostgreSQL's row lock
//!   makes a second, concurrent claim wait for the first and then re-check the
//!   condition against the row the first one wrote, so it finds the run taken;
//! - writes that check ownership first lock the run's row (`FOR UPDATE`);
//! - the send-test rate limit takes an advisory lock per report;
//! - a transaction that PostgreSQL aborts as a deadlock or serialization failure is
//!   retried.
//!
//! Timestamps are the same fixed-width UTC text as in SQLite, compared with
//! `COLLATE "C"` so that text order is time order whatever the database's collation.

use ::postgres::error::SqlState;
use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, GenericClient};
use anyhow::{anyhow, bail, Context, Result};

use super::schema::{self, VERSION};
use super::sql::{Backend, Row, Sql, Value};
use crate::config::secret::Secret;
use crate::pgconn;

pub struct PostgresStore {
    client: Client,
}

/// The advisory lock key of migrations ("reportctl" as a number).
const MIGRATION_LOCK: i64 = 0x7265_706f_7274_6374;

impl PostgresStore {
    /// Connects to the ledger at `url`, creating or migrating its tables.
    pub fn open(url: &str, password: Option<&Secret>) -> Result<Self> {
        Self::open_within(url, password, super::sqlite::DEFAULT_LOCK_TIMEOUT)
    }

    /// `open`, with lock waits (the migrations' advisory lock, the row locks of claims)
    /// ending after `lock_timeout` with exit code 75.
    pub fn open_within(
        url: &str,
        password: Option<&Secret>,
        lock_timeout: std::time::Duration,
    ) -> Result<Self> {
        let target = pgconn::for_ledger(url, password)?;
        let describe = target.describe.clone();
        let mut config = ::postgres::Config::from(target.config.clone());
        config.application_name("reportctl ledger");
        // The client's own timeout covers only the TCP connect; a server that accepts and
        // then says nothing must not hang a cron job, so the whole handshake is timed.
        let (tx, rx) = std::sync::mpsc::channel();
        let tls = target.tls.clone();
        std::thread::spawn(move || {
            let _ = tx.send(config.connect(tls));
        });
        let client = match rx.recv_timeout(target.connect_timeout) {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                return Err(pgconn::connect_error(&target, &e)).context("opening the ledger")
            }
            Err(_) => bail!(
                "opening the ledger: connecting to PostgreSQL at {describe}: no answer within {} seconds",
                target.connect_timeout.as_secs()
            ),
        };
        let mut store = PostgresStore { client };
        // PostgreSQL reads 0 as "wait forever": the shortest wait is a millisecond.
        let ms = lock_timeout.as_millis().clamp(1, i32::MAX as u128);
        store
            .client
            .batch_execute(&format!("SET lock_timeout = {ms}"))
            .map_err(anyhow::Error::from)
            .map_err(explain)
            .with_context(|| format!("opening the ledger at {describe}"))?;
        store
            .migrate()
            .map_err(explain)
            .with_context(|| format!("opening the ledger at {describe}"))?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        // Already at this version (the usual case, e.g. each lease keeper's connection):
        // no lock needed. (On a new database the table is missing and this fails.)
        if let Ok(VERSION) = schema::version(&mut Pg(&mut self.client)) {
            return Ok(());
        }
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        schema::upgrade(&mut Pg(&mut tx))?;
        tx.commit()?;
        Ok(())
    }
}

/// Reads run on the connection as they come (each statement sees the latest commit);
/// a write that PostgreSQL aborts as a deadlock or a serialization failure is run again.
impl Backend for PostgresStore {
    fn read<T>(&mut self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        f(&mut Pg(&mut self.client)).map_err(explain)
    }

    fn write<T>(&mut self, mut f: impl FnMut(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut tries = 0;
        loop {
            tries += 1;
            let result = (|| {
                let mut tx = self.client.transaction()?;
                let out = f(&mut Pg(&mut tx))?;
                tx.commit()?;
                Ok(out)
            })();
            match result {
                Err(e) if tries < 5 && retryable(&e) => continue,
                other => return other.map_err(explain),
            }
        }
    }

    /// One send-test of a report at a time, across hosts.
    fn lock_send_tests(db: &mut dyn Sql, report: &str) -> Result<()> {
        db.execute(
            "SELECT pg_advisory_xact_lock(hashtext('reportctl send-test ' || $1))",
            &[report.into()],
        )?;
        Ok(())
    }
}

/// A connection or a transaction running the ledger's statements.
struct Pg<'c, C>(&'c mut C);

impl<C: GenericClient> Sql for Pg<'_, C> {
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        let rows = self.0.query(sql, &params(args))?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| cell(r, i))
                    .collect::<Result<_>>()
                    .map(Row)
            })
            .collect()
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64> {
        Ok(self.0.execute(sql, &params(args))?)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.batch_execute(sql)?)
    }
}

/// A NULL parameter: always a text one (see `Value`).
static NULL_TEXT: Option<String> = None;

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter()
        .map(|v| -> &(dyn ToSql + Sync) {
            match v {
                Value::Null => &NULL_TEXT,
                Value::Int(i) => i,
                Value::Text(s) => s,
            }
        })
        .collect()
}

/// Cell `i` of `r` as a plain value (integers and booleans become `Int`).
fn cell(r: &::postgres::Row, i: usize) -> Result<Value> {
    Ok(match *r.columns()[i].type_() {
        Type::INT8 => r
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |n| Value::Int(n.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |b| Value::Int(b.into())),
        _ => r.try_get::<_, Option<String>>(i)?.into(),
    })
}

fn retryable(e: &anyhow::Error) -> bool {
    e.downcast_ref::<::postgres::Error>()
        .and_then(|e| e.code())
        .is_some_and(|c| {
            *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
        })
}

/// PostgreSQL's own words for a database error.
fn explain(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<::postgres::Error>() {
        Some(pg) if pg.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
            anyhow!(crate::exit::RateLimited {
                message: format!(
                    "the PostgreSQL ledger is busy: another process held a lock it needs for more than lock_timeout_seconds; try again later ({})",
                    pgconn::describe_error(pg, &|_| None)
                ),
            })
        }
        Some(pg) if pg.as_db_error().is_some() => {
            anyhow!("{}", pgconn::describe_error(pg, &|_| None))
        }
        _ => e,
    }
}
