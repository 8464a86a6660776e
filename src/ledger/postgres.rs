//! The ledger in a PostgreSQL database, shared by several hosts running `run-due`.
//! Same schema and semantics as the SQLite file (`schema.rs` holds the migrations of
//! both); what differs is how exclusion is had:
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
use ::postgres::{Client, GenericClient, Row, Transaction};
use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};

use super::schema::{MIGRATIONS, VERSION};
use super::*;
use crate::config::secret::Secret;
use crate::pgconn;

pub struct PostgresStore {
    client: Client,
}

/// The conditions under which a run may be claimed; `$w` is the wall clock, `$n` the
/// logical now (given as the parameter numbers of the statement using it).
fn claimable(wall: &str, now: &str) -> String {
    format!(
        "(status = 'queued'
          OR (status = 'running' AND lease_until < {wall} COLLATE \"C\" AND attempts < max_attempts)
          OR (status = 'failed' AND next_attempt_at IS NOT NULL
              AND next_attempt_at <= {now} COLLATE \"C\" AND attempts < max_attempts))"
    )
}

const RUN_COLUMNS: &str =
    "token, report, kind, slot_at, run_at, window_from, window_to, status, detail,
     attempts, max_attempts, next_attempt_at, owner, created_at, updated_at, finished_at";

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
        let current = self
            .client
            .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[]);
        if let Ok(Some(row)) = current {
            if row.get::<_, String>(0) == VERSION.to_string() {
                return Ok(());
            }
        }
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        )?;
        let version: i64 = tx
            .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
            .map(|r| r.get::<_, String>(0).parse().unwrap_or(i64::MAX))
            .unwrap_or(0);
        if version > VERSION {
            bail!("it was written by a newer reportctl (schema version {version}; this one knows up to {VERSION}); upgrade reportctl");
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql)
                .with_context(|| format!("migrating the ledger to schema version {}", i + 1))?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&VERSION.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` in a transaction, again if PostgreSQL aborts it as a deadlock or a
    /// serialization failure.
    fn write<T>(&mut self, mut f: impl FnMut(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut tries = 0;
        loop {
            tries += 1;
            let result = (|| {
                let mut tx = self.client.transaction()?;
                let out = f(&mut tx)?;
                tx.commit()?;
                Ok(out)
            })();
            match result {
                Err(e) if tries < 5 && retryable(&e) => continue,
                other => return other.map_err(explain),
            }
        }
    }

    fn load(c: &mut impl GenericClient, token: &str) -> Result<Option<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE token = $1");
        match c.query_opt(&sql, &[&token])? {
            None => Ok(None),
            Some(r) => Ok(Some(Self::details(c, run_row(&r)?)?)),
        }
    }

    fn details(c: &mut impl GenericClient, mut run: RunRecord) -> Result<RunRecord> {
        for r in c.query(
            "SELECT kind, name, rows, bytes, sha256 FROM files WHERE token = $1 ORDER BY seq",
            &[&run.token],
        )? {
            run.files.push(FileRecord {
                kind: r.get(0),
                name: r.get(1),
                rows: r.get::<_, i64>(2) as u64,
                bytes: r.get::<_, i64>(3) as u64,
                sha256: r.get(4),
            });
        }
        let receipts = c.query(
            "SELECT destination, status, attempts, detail, updated_at FROM receipts
             WHERE token = $1 ORDER BY destination COLLATE \"C\"",
            &[&run.token],
        )?;
        for r in receipts {
            let destination: String = r.get(0);
            let status: String = r.get(1);
            let mut links = Vec::new();
            for l in c.query(
                "SELECT file, url, expires_at FROM links WHERE token = $1 AND destination = $2
                 ORDER BY file COLLATE \"C\"",
                &[&run.token, &destination],
            )? {
                links.push(Link {
                    file: l.get(0),
                    url: l.get(1),
                    expires: parse_ts(l.get(2))?,
                });
            }
            run.receipts.push(ReceiptRecord {
                destination,
                status: ReceiptStatus::parse(&status)
                    .ok_or_else(|| anyhow!("unknown receipt status {status:?} in the ledger"))?,
                attempts: r.get::<_, i64>(2) as u32,
                detail: r.get(3),
                updated_at: parse_ts(r.get(4))?,
                links,
            });
        }
        Ok(run)
    }

    fn runs(
        &mut self,
        sql: &str,
        params: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Result<Vec<RunRecord>> {
        let rows = self
            .client
            .query(sql, params)
            .map_err(|e| explain(e.into()))?;
        rows.iter()
            .map(|r| Self::details(&mut self.client, run_row(r)?))
            .collect()
    }
}

/// Fails unless `owner` holds the run, locking its row until the transaction ends.
fn owned(tx: &mut Transaction<'_>, token: &str, owner: &str) -> Result<()> {
    let current = tx.query_opt(
        "SELECT owner FROM runs WHERE token = $1 FOR UPDATE",
        &[&token],
    )?;
    match current.map(|r| r.get::<_, Option<String>>(0)) {
        Some(Some(o)) if o == owner => Ok(()),
        Some(_) => bail!(
            "lost the claim on run {token}: another process took it over after the lease expired"
        ),
        None => bail!("no run with token {token} in the ledger"),
    }
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

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

/// A `runs` row (files and receipts are filled in by `details`).
fn run_row(r: &Row) -> Result<RunRecord> {
    let kind: String = r.get(2);
    let status: String = r.get(7);
    Ok(RunRecord {
        token: r.get(0),
        report: r.get(1),
        kind: RunKind::parse(&kind).ok_or_else(|| anyhow!("unknown run kind {kind:?}"))?,
        slot_at: opt_ts(r.get(3))?,
        run_at: parse_ts(r.get(4))?,
        window_from: parse_ts(r.get(5))?,
        window_to: parse_ts(r.get(6))?,
        status: RunStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
        detail: r.get(8),
        attempts: r.get::<_, i64>(9) as u32,
        max_attempts: r.get::<_, i64>(10) as u32,
        next_attempt_at: opt_ts(r.get(11))?,
        owner: r.get(12),
        created_at: parse_ts(r.get(13))?,
        updated_at: parse_ts(r.get(14))?,
        finished_at: opt_ts(r.get(15))?,
        files: Vec::new(),
        receipts: Vec::new(),
    })
}

fn insert_run(tx: &mut Transaction<'_>, run: &NewRun, wall: DateTime<Utc>) -> Result<u64> {
    Ok(tx.execute(
        "INSERT INTO runs (token, report, kind, slot_at, run_at, window_from, window_to, status,
                           detail, max_attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         ON CONFLICT DO NOTHING",
        &[
            &run.token,
            &run.report,
            &run.kind.name(),
            &run.slot_at.map(ts),
            &ts(run.run_at),
            &ts(run.window_from),
            &ts(run.window_to),
            &run.status.name(),
            &run.detail,
            &i64::from(run.max_attempts),
            &ts(wall),
        ],
    )?)
}

fn insert_claimed(
    tx: &mut Transaction<'_>,
    run: &NewRun,
    claim: &Claim,
    wall: DateTime<Utc>,
) -> Result<()> {
    if insert_run(tx, run, wall)? == 0 {
        bail!("a run with token {} already exists", run.token);
    }
    tx.execute(
        "UPDATE runs SET status = 'running', owner = $2, lease_until = $3, attempts = 1,
                         started_at = $4
         WHERE token = $1",
        &[&run.token, &claim.owner, &ts(claim.until(wall)), &ts(wall)],
    )?;
    Ok(())
}

impl Store for PostgresStore {
    fn first_seen(
        &mut self,
        report: &str,
        record: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>> {
        const READ: &str = "SELECT first_seen FROM reports WHERE name = $1";
        match record {
            None => opt_ts(
                self.client
                    .query_opt(READ, &[&report])
                    .map_err(|e| explain(e.into()))?
                    .map(|r| r.get(0)),
            ),
            Some(now) => self.write(|tx| {
                tx.execute(
                    "INSERT INTO reports (name, first_seen) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&report, &ts(now)],
                )?;
                opt_ts(tx.query_opt(READ, &[&report])?.map(|r| r.get(0)))
            }),
        }
    }

    fn correct_first_seen(
        &mut self,
        report: &str,
        wall: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        self.write(|tx| {
            let old = tx
                .query_opt(
                    "SELECT first_seen FROM reports WHERE name = $1
                     AND first_seen COLLATE \"C\" > $2 FOR UPDATE",
                    &[&report, &ts(wall)],
                )?
                .map(|r| r.get::<_, String>(0));
            if old.is_some() {
                tx.execute(
                    "UPDATE reports SET first_seen = $2 WHERE name = $1",
                    &[&report, &ts(wall)],
                )?;
            }
            opt_ts(old)
        })
    }

    fn last_slot(&mut self, report: &str) -> Result<Option<DateTime<Utc>>> {
        let row = self
            .client
            .query_one(
                "SELECT max(slot_at COLLATE \"C\") FROM runs WHERE report = $1",
                &[&report],
            )
            .map_err(|e| explain(e.into()))?;
        opt_ts(row.get(0))
    }

    fn enqueue(&mut self, runs: &[NewRun], wall: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            for run in runs {
                insert_run(tx, run, wall)?;
            }
            Ok(())
        })
    }

    fn insert_claimed(&mut self, run: &NewRun, claim: &Claim, wall: DateTime<Utc>) -> Result<()> {
        self.write(|tx| insert_claimed(tx, run, claim, wall))
    }

    fn insert_test(
        &mut self,
        run: &NewRun,
        claim: &Claim,
        wall: DateTime<Utc>,
        interval: chrono::Duration,
    ) -> Result<std::result::Result<(), DateTime<Utc>>> {
        self.write(|tx| {
            // One send-test of a report at a time, across hosts.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext('reportctl send-test ' || $1))",
                &[&run.report],
            )?;
            let last: Option<String> = tx
                .query_one(
                    "SELECT max(created_at COLLATE \"C\") FROM runs WHERE report = $1 AND kind = 'test'",
                    &[&run.report],
                )?
                .get(0);
            if let Some(last) = opt_ts(last)? {
                if wall - last < interval {
                    return Ok(Err(last));
                }
            }
            insert_claimed(tx, run, claim, wall)?;
            Ok(Ok(()))
        })
    }

    fn abandon_expired(&mut self, report: &str, wall: DateTime<Utc>) -> Result<Vec<String>> {
        self.write(|tx| {
            let rows = tx.query(
                "UPDATE runs SET status = 'failed', owner = NULL, lease_until = NULL,
                    next_attempt_at = NULL, updated_at = $2, finished_at = $2,
                    detail = 'abandoned: the process running it stopped (its lease expired) and all '
                             || max_attempts || ' attempts are used'
                 WHERE report = $1 AND status = 'running' AND lease_until < $2 COLLATE \"C\"
                   AND attempts >= max_attempts
                 RETURNING token",
                &[&report, &ts(wall)],
            )?;
            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
        })
    }

    fn pending(
        &mut self,
        report: &str,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE report = $1 AND {}
             ORDER BY run_at COLLATE \"C\", token COLLATE \"C\"",
            claimable("$2", "$3")
        );
        self.runs(&sql, &[&report, &ts(wall), &ts(now)])
    }

    fn claim(
        &mut self,
        token: &str,
        claim: &Claim,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Option<RunRecord>> {
        let sql = format!(
            "UPDATE runs SET status = 'running', owner = $2, lease_until = $3,
                attempts = attempts + 1, started_at = $4, updated_at = $4,
                next_attempt_at = NULL
             WHERE token = $1 AND {}",
            claimable("$4", "$5")
        );
        self.write(|tx| {
            let n = tx.execute(
                &sql,
                &[
                    &token,
                    &claim.owner,
                    &ts(claim.until(wall)),
                    &ts(wall),
                    &ts(now),
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            Self::load(tx, token)
        })
    }

    fn renew(&mut self, token: &str, claim: &Claim, wall: DateTime<Utc>) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE runs SET lease_until = $3 WHERE token = $1 AND owner = $2 AND status = 'running'",
                &[&token, &claim.owner, &ts(claim.until(wall))],
            )?;
            Ok(n == 1)
        })
    }

    fn set_files(&mut self, token: &str, owner: &str, files: &[FileRecord]) -> Result<()> {
        self.write(|tx| {
            owned(tx, token, owner)?;
            tx.execute("DELETE FROM files WHERE token = $1", &[&token])?;
            for (seq, f) in files.iter().enumerate() {
                tx.execute(
                    "INSERT INTO files (token, seq, kind, name, rows, bytes, sha256)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &token,
                        &(seq as i64),
                        &f.kind,
                        &f.name,
                        &(f.rows as i64),
                        &(f.bytes as i64),
                        &f.sha256,
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn set_receipt(
        &mut self,
        token: &str,
        owner: &str,
        destination: &str,
        status: ReceiptStatus,
        detail: &str,
        links: &[Link],
        wall: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            owned(tx, token, owner)?;
            let delivered = (status == ReceiptStatus::Delivered).then(|| ts(wall));
            let attempted = i64::from(status != ReceiptStatus::Pending);
            tx.execute(
                "INSERT INTO receipts (token, destination, status, attempts, detail, updated_at, delivered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (token, destination) DO UPDATE SET
                    status = excluded.status, attempts = receipts.attempts + excluded.attempts,
                    detail = excluded.detail, updated_at = excluded.updated_at,
                    delivered_at = coalesce(excluded.delivered_at, receipts.delivered_at)",
                &[&token, &destination, &status.name(), &attempted, &detail, &ts(wall), &delivered],
            )?;
            if !links.is_empty() {
                tx.execute(
                    "DELETE FROM links WHERE token = $1 AND destination = $2",
                    &[&token, &destination],
                )?;
                for l in links {
                    tx.execute(
                        "INSERT INTO links (token, destination, file, url, expires_at) VALUES ($1, $2, $3, $4, $5)",
                        &[&token, &destination, &l.file, &l.url, &ts(l.expires)],
                    )?;
                }
            }
            Ok(())
        })
    }

    fn finish(
        &mut self,
        token: &str,
        owner: &str,
        finish: &Finish,
        wall: DateTime<Utc>,
    ) -> Result<()> {
        let (status, detail, retry) = match finish {
            Finish::Completed { detail } => ("completed", detail.as_str(), None),
            Finish::Failed { detail, retry_at } => ("failed", detail.as_str(), retry_at.map(ts)),
        };
        self.write(|tx| {
            owned(tx, token, owner)?;
            tx.execute(
                "UPDATE runs SET status = $2, detail = $3, next_attempt_at = $4, owner = NULL,
                    lease_until = NULL, updated_at = $5, finished_at = $5
                 WHERE token = $1",
                &[&token, &status, &detail, &retry, &ts(wall)],
            )?;
            Ok(())
        })
    }

    fn cancel(&mut self, token: &str, wall: DateTime<Utc>) -> Result<CancelOutcome> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE runs SET status = 'cancelled', detail = 'cancelled by request',
                    updated_at = $2, finished_at = $2
                 WHERE token = $1 AND status = 'queued'",
                &[&token, &ts(wall)],
            )?;
            if n == 1 {
                return Ok(CancelOutcome::Cancelled);
            }
            let status: Option<String> = tx
                .query_opt("SELECT status FROM runs WHERE token = $1", &[&token])?
                .map(|r| r.get(0));
            Ok(match status.as_deref().and_then(RunStatus::parse) {
                None => CancelOutcome::NotFound,
                Some(s) => CancelOutcome::NotQueued(s),
            })
        })
    }

    fn get(&mut self, token: &str) -> Result<Option<RunRecord>> {
        Self::load(&mut self.client, token).map_err(explain)
    }

    fn history(&mut self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE ($1::text IS NULL OR report = $1)
             ORDER BY run_at COLLATE \"C\" DESC, created_at COLLATE \"C\" DESC,
                      token COLLATE \"C\" DESC
             LIMIT $2"
        );
        self.runs(&sql, &[&report, &(limit as i64)])
    }

    fn delivered_files(
        &mut self,
        destination: &str,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        let rows = self
            .client
            .query(
                "SELECT f.name, max(r.delivered_at COLLATE \"C\") FROM receipts r
             JOIN files f ON f.token = r.token
             WHERE r.destination = $1 AND r.delivered_at IS NOT NULL
             GROUP BY f.name HAVING max(r.delivered_at COLLATE \"C\") < $2 COLLATE \"C\"",
                &[&destination, &ts(before)],
            )
            .map_err(|e| explain(e.into()))?;
        rows.iter()
            .map(|r| Ok((r.get(0), parse_ts(r.get(1))?)))
            .collect()
    }
}
