//! The ledger's statements and the logic around them, written once for SQLite and
//! PostgreSQL: every `Backend` is a `Store` through the one implementation here. The
//! back-ends differ only in how they open, migrate, lock and retry (`sql.rs` says how
//! the statements are spelled so that both read them).
//!
//! Status and kind words are formatted into the statements from their enums.

use chrono::Duration;

use super::records::{load, runs, RUN_COLUMNS};
use super::sql::{Backend, Row};
pub(super) use super::writes::insert_claimed;
use super::writes::{finish_run, insert_run, owned};
use super::RunStatus::{Cancelled, Failed, Queued, Running};
use super::*;

/// The latest scheduled slot of report `$1`. `slot_at IS NOT NULL` lets SQLite take the
/// maximum from the index `runs_slot` instead of reading every run of the report.
const LAST_SLOT: &str =
    "SELECT max(slot_at COLLATE \"C\") FROM runs WHERE report = $1 AND slot_at IS NOT NULL";

const FIRST_SEEN: &str = "SELECT first_seen FROM reports WHERE name = $1";

/// A run still owed: the condition of the partial index `runs_open` (schema version 2),
/// written the same way so that both databases answer from that index.
pub(super) const OPEN: &str =
    "status IN ('queued', 'running') OR (status = 'failed' AND next_attempt_at IS NOT NULL)";

/// The conditions under which a run may be claimed; `$2` is the wall clock, `$3` the
/// logical now.
fn claimable() -> String {
    format!(
        "(status = '{Queued}'
          OR (status = '{Running}' AND lease_until < $2 COLLATE \"C\" AND attempts < max_attempts)
          OR (status = '{Failed}' AND next_attempt_at IS NOT NULL
              AND next_attempt_at <= $3 COLLATE \"C\" AND attempts < max_attempts))"
    )
}

/// First seen, latest slot, and whether any run is open (see `ReportState`), of report
/// `$1`: the report's row and a probe of the small index `runs_open`; nothing that
/// grows with the history.
pub(super) fn report_state_sql() -> String {
    format!(
        "SELECT ({FIRST_SEEN}), (SELECT last_slot FROM reports WHERE name = $1),
                EXISTS (SELECT 1 FROM runs WHERE report = $1 AND ({OPEN}))"
    )
}

fn first_ts(row: Option<Row>) -> Result<Option<DateTime<Utc>>> {
    Ok(row.map(|r| r.opt_ts(0)).transpose()?.flatten())
}

impl<B: Backend> Store for B {
    fn first_seen(
        &mut self,
        report: &str,
        record: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>> {
        match record {
            None => self.read(|db| first_ts(db.query_opt(FIRST_SEEN, &[report.into()])?)),
            Some(at) => self.write(|db| {
                db.execute(
                    "INSERT INTO reports (name, first_seen) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[report.into(), ts(at).into()],
                )?;
                first_ts(db.query_opt(FIRST_SEEN, &[report.into()])?)
            }),
        }
    }

    fn correct_first_seen(
        &mut self,
        report: &str,
        wall: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        self.write(|db| {
            let args = [report.into(), ts(wall).into()];
            let old = db.query_opt(
                "SELECT first_seen FROM reports
                 WHERE name = $1 AND first_seen COLLATE \"C\" > $2 FOR UPDATE",
                &args,
            )?;
            if old.is_some() {
                db.execute("UPDATE reports SET first_seen = $2 WHERE name = $1", &args)?;
            }
            first_ts(old)
        })
    }

    fn last_slot(&mut self, report: &str) -> Result<Option<DateTime<Utc>>> {
        self.read(|db| db.query_one(LAST_SLOT, &[report.into()])?.opt_ts(0))
    }

    fn report_states(&mut self, reports: &[&str]) -> Result<Vec<ReportState>> {
        // One read transaction for all (one snapshot), and one indexed read per report:
        // run-due over many reports with nothing due stays flat in the size of the history.
        self.read(|db| {
            db.query_each(&report_state_sql(), reports)?
                .iter()
                .map(|row| {
                    Ok(ReportState {
                        first_seen: row.opt_ts(0)?,
                        last_slot: row.opt_ts(1)?,
                        open: row.int(2)? != 0,
                    })
                })
                .collect()
        })
    }

    fn enqueue(&mut self, runs: &[NewRun], wall: DateTime<Utc>) -> Result<()> {
        self.write(|db| {
            for run in runs {
                insert_run(db, run, wall)?;
            }
            Ok(())
        })
    }

    fn enqueue_settled(&mut self, runs: &[NewRun], by: &str, wall: DateTime<Utc>) -> Result<()> {
        let settle = "UPDATE runs SET settled_at = $2, settled_by = $3 WHERE token = $1";
        self.write(|db| {
            for run in runs {
                if insert_run(db, run, wall)? == 1 {
                    db.execute(settle, &[(&run.token).into(), ts(wall).into(), by.into()])?;
                }
            }
            Ok(())
        })
    }

    fn insert_claimed(&mut self, run: &NewRun, claim: &Claim, wall: DateTime<Utc>) -> Result<()> {
        self.write(|db| insert_claimed(db, run, claim, wall))
    }

    fn abandon_expired(&mut self, report: &str, wall: DateTime<Utc>) -> Result<Vec<String>> {
        let sql = format!(
            "UPDATE runs SET status = '{Failed}', owner = NULL, lease_until = NULL,
                next_attempt_at = NULL, updated_at = $2, finished_at = $2,
                detail = 'abandoned: the process running it stopped (its lease expired) and all '
                         || max_attempts || ' attempts are used'
             WHERE report = $1 AND status = '{Running}' AND lease_until < $2 COLLATE \"C\"
               AND attempts >= max_attempts
             RETURNING token"
        );
        self.write(|db| {
            let rows = db.query(&sql, &[report.into(), ts(wall).into()])?;
            rows.iter().map(|r| r.text(0)).collect()
        })
    }

    fn pending(
        &mut self,
        report: &str,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Vec<PendingRun>> {
        // Read in pages (keyset on the order), so that a slot of many recipients is
        // never held as rows and runs at once; a page is a few hundred KB.
        const PAGE: i64 = 1000;
        let sql = format!(
            "SELECT token, run_at, window_from, window_to, recipient FROM runs
             WHERE report = $1 AND {}
               AND (run_at COLLATE \"C\" > $4 COLLATE \"C\"
                    OR (run_at = $4 AND token COLLATE \"C\" > $5 COLLATE \"C\"))
             ORDER BY run_at COLLATE \"C\", token COLLATE \"C\" LIMIT {PAGE}",
            claimable()
        );
        self.read(|db| {
            let mut out: Vec<PendingRun> = Vec::new();
            // The last row's run_at and token as stored: where the next page starts.
            let mut after = (String::new(), String::new());
            loop {
                let args = [
                    report.into(),
                    ts(wall).into(),
                    ts(now).into(),
                    (&after.0).into(),
                    (&after.1).into(),
                ];
                let rows = db.query(&sql, &args)?;
                if let Some(last) = rows.last() {
                    after = (last.text(1)?, last.text(0)?);
                }
                for r in &rows {
                    out.push(PendingRun {
                        token: r.text(0)?,
                        run_at: r.ts(1)?,
                        window_from: r.ts(2)?,
                        window_to: r.ts(3)?,
                        recipient: Some(r.text(4)?).filter(|k| !k.is_empty()),
                    });
                }
                if (rows.len() as i64) < PAGE {
                    return Ok(out);
                }
            }
        })
    }

    fn insert_test(
        &mut self,
        run: &NewRun,
        claim: &Claim,
        wall: DateTime<Utc>,
        interval: Duration,
    ) -> Result<std::result::Result<(), DateTime<Utc>>> {
        // A failed test that no destination accepted (a wrong port, a bad query)
        // released its window: it does not count.
        let last_test = format!(
            "SELECT max(created_at COLLATE \"C\") FROM runs WHERE report = $1 AND kind = '{}'
               AND NOT (status = '{Failed}' AND NOT EXISTS (SELECT 1 FROM receipts r
                 WHERE r.token = runs.token AND r.status = '{}'))",
            RunKind::Test,
            ReceiptStatus::Delivered
        );
        self.write(|db| {
            B::lock_send_tests(db, &run.report)?;
            let last = db.query_one(&last_test, &[(&run.report).into()])?;
            if let Some(last) = last.opt_ts(0)? {
                if wall - last < interval {
                    return Ok(Err(last));
                }
            }
            insert_claimed(db, run, claim, wall)?;
            Ok(Ok(()))
        })
    }

    fn claim(
        &mut self,
        token: &str,
        claim: &Claim,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Option<RunRecord>> {
        let sql = format!(
            "UPDATE runs SET status = '{Running}', owner = $4, lease_until = $5,
                attempts = attempts + 1, started_at = $2, updated_at = $2,
                next_attempt_at = NULL
             WHERE token = $1 AND {}",
            claimable()
        );
        self.write(|db| {
            let args = [
                token.into(),
                ts(wall).into(),
                ts(now).into(),
                (&claim.owner).into(),
                ts(claim.until(wall)).into(),
            ];
            if db.execute(&sql, &args)? == 0 {
                return Ok(None);
            }
            load(db, token)
        })
    }

    fn renew(&mut self, token: &str, claim: &Claim, wall: DateTime<Utc>) -> Result<bool> {
        let sql = format!(
            "UPDATE runs SET lease_until = $3 WHERE token = $1 AND owner = $2 AND status = '{Running}'"
        );
        self.write(|db| {
            let args = [
                token.into(),
                (&claim.owner).into(),
                ts(claim.until(wall)).into(),
            ];
            Ok(db.execute(&sql, &args)? == 1)
        })
    }

    fn set_files(&mut self, token: &str, owner: &str, files: &[FileRecord]) -> Result<()> {
        self.write(|db| {
            owned(db, token, owner)?;
            db.execute("DELETE FROM files WHERE token = $1", &[token.into()])?;
            for (seq, f) in files.iter().enumerate() {
                db.execute(
                    "INSERT INTO files (token, seq, kind, name, rows, bytes, sha256)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        token.into(),
                        (seq as i64).into(),
                        (&f.kind).into(),
                        (&f.name).into(),
                        (f.rows as i64).into(),
                        (f.bytes as i64).into(),
                        (&f.sha256).into(),
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
        self.write(|db| {
            owned(db, token, owner)?;
            let delivered = (status == ReceiptStatus::Delivered).then(|| ts(wall));
            let attempted = i64::from(status != ReceiptStatus::Pending);
            db.execute(
                "INSERT INTO receipts (token, destination, status, attempts, detail, updated_at, delivered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (token, destination) DO UPDATE SET
                    status = excluded.status, attempts = receipts.attempts + excluded.attempts,
                    detail = excluded.detail, updated_at = excluded.updated_at,
                    delivered_at = coalesce(excluded.delivered_at, receipts.delivered_at)",
                &[
                    token.into(),
                    destination.into(),
                    status.name().into(),
                    attempted.into(),
                    detail.into(),
                    ts(wall).into(),
                    delivered.into(),
                ],
            )?;
            super::metrics::count_delivery(db, destination, status)?;
            if !links.is_empty() {
                let args = [token.into(), destination.into()];
                db.execute(
                    "DELETE FROM links WHERE token = $1 AND destination = $2",
                    &args,
                )?;
                for l in links {
                    db.execute(
                        "INSERT INTO links (token, destination, file, url, expires_at)
                         VALUES ($1, $2, $3, $4, $5)",
                        &[
                            token.into(),
                            destination.into(),
                            (&l.file).into(),
                            (&l.url).into(),
                            ts(l.expires).into(),
                        ],
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
        self.write(|db| finish_run(db, token, owner, finish, wall))
    }

    fn cancel(&mut self, token: &str, wall: DateTime<Utc>) -> Result<CancelOutcome> {
        let sql = format!(
            "UPDATE runs SET status = '{Cancelled}', detail = 'cancelled by request',
                updated_at = $2, finished_at = $2
             WHERE token = $1 AND status = '{Queued}'"
        );
        self.write(|db| {
            if db.execute(&sql, &[token.into(), ts(wall).into()])? == 1 {
                return Ok(CancelOutcome::Cancelled);
            }
            let row = db.query_opt("SELECT status FROM runs WHERE token = $1", &[token.into()])?;
            let status = row.map(|r| r.text(0)).transpose()?;
            Ok(match status.as_deref().and_then(RunStatus::parse) {
                None => CancelOutcome::NotFound,
                Some(s) => CancelOutcome::NotQueued(s),
            })
        })
    }

    fn get(&mut self, token: &str) -> Result<Option<RunRecord>> {
        self.read(|db| load(db, token))
    }

    fn tokens_starting(&mut self, prefix: &str, limit: usize) -> Result<Vec<String>> {
        // A range on the primary key: `~` sorts after every hex digit.
        let end = format!("{prefix}~");
        self.read(|db| {
            let rows = db.query(
                "SELECT token FROM runs
                 WHERE token >= $1 COLLATE \"C\" AND token < $2 COLLATE \"C\"
                 ORDER BY token COLLATE \"C\" LIMIT $3",
                &[prefix.into(), end.as_str().into(), (limit as i64).into()],
            )?;
            rows.iter().map(|r| r.text(0)).collect()
        })
    }

    fn history(&mut self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE (CAST($1 AS TEXT) IS NULL OR report = $1)
             ORDER BY run_at COLLATE \"C\" DESC, created_at COLLATE \"C\" DESC,
                      token COLLATE \"C\" DESC
             LIMIT $2"
        );
        self.read(|db| {
            let rows = db.query(&sql, &[report.into(), (limit as i64).into()])?;
            runs(db, &rows)
        })
    }

    fn prune_runs(&mut self, before: DateTime<Utc>, limit: usize) -> Result<u64> {
        self.write(|db| super::retention::prune_batch(db, OPEN, before, limit))
    }

    fn delivered_files(
        &mut self,
        destination: &str,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        self.read(|db| {
            let rows = db.query(
                "SELECT f.name, max(r.delivered_at COLLATE \"C\") FROM receipts r
                 JOIN files f ON f.token = r.token
                 WHERE r.destination = $1 AND r.delivered_at IS NOT NULL
                 GROUP BY f.name HAVING max(r.delivered_at COLLATE \"C\") < $2 COLLATE \"C\"",
                &[destination.into(), ts(before).into()],
            )?;
            rows.iter().map(|r| Ok((r.text(0)?, r.ts(1)?))).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_condition_is_the_partial_index_s_in_the_status_words() {
        let words = format!(
            "status IN ('{Queued}', '{Running}') OR (status = '{Failed}' AND next_attempt_at IS NOT NULL)"
        );
        assert_eq!(OPEN, words);
        assert!(super::super::schema::MIGRATIONS[1].contains(OPEN));
    }
}
