//! The ledger in a SQLite file: WAL mode so readers never wait, a busy timeout so that
//! writers from overlapping cron jobs queue up (for at most `lock_timeout_seconds`), and
//! `BEGIN IMMEDIATE` for every write so that a claim's check and update happen under one
//! write lock.
//!
//! The file is only ever created where none exists (built under a temporary name and
//! linked into place), owner-only; an existing file that is empty, not SQLite, or
//! another program's database is refused and left alone. Readers (`history`, `list`,
//! `status`) open it read-only, take no lock and create nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{
    params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior,
};

use super::schema::{MIGRATIONS, VERSION};
use super::*;
use crate::exit::RateLimited;

/// How long a command waits for the ledger by default (`[settings] lock_timeout_seconds`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    timeout: Duration,
}

/// The conditions under which a run may be claimed; `?w` is the wall clock, `?n` the
/// logical now.
const CLAIMABLE: &str = "(status = 'queued'
     OR (status = 'running' AND lease_until < :wall AND attempts < max_attempts)
     OR (status = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= :now
         AND attempts < max_attempts))";

/// The latest scheduled slot of report `?1`.
const LAST_SLOT: &str = "SELECT max(slot_at) FROM runs WHERE report = ?1 AND slot_at IS NOT NULL";

const RUN_COLUMNS: &str =
    "token, report, kind, slot_at, run_at, window_from, window_to, status, detail,
     attempts, max_attempts, next_attempt_at, owner, created_at, updated_at, finished_at";

/// What every refusal of a file that is not (or no longer) a usable ledger advises.
const LEAVE_IT: &str = "reportctl will not touch it: move it aside (reportctl then starts a new, empty ledger there; the runs recorded in it are not seen any more) or point [settings] state at another file";

impl SqliteStore {
    /// Opens the ledger at `path`, creating or migrating it, waiting at most a minute for
    /// another process setting it up.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_within(path, DEFAULT_LOCK_TIMEOUT)
    }

    /// Opens the ledger at `path` for writing, creating or migrating it. Waits at most
    /// `timeout` for the setup lock and, later, for each write lock; then gives up with a
    /// `RateLimited` error (exit code 75) naming the holder when known.
    pub fn open_within(path: &Path, timeout: Duration) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use std::os::unix::fs::DirBuilderExt as _;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("creating the ledger's directory {}", dir.display()))?;
        }
        // Setting up a ledger (WAL mode, migrations) takes the file to itself, which SQLite
        // does not queue for; several processes opening one at once take turns here.
        let lock_path = path.with_file_name(format!(
            "{}.lock",
            path.file_name()
                .map_or("ledger".into(), |n| n.to_string_lossy())
        ));
        let lock = match crate::fsutil::lock_file_within(&lock_path, timeout)
            .map_err(|e| explain(path, timeout, e))?
        {
            Ok(lock) => lock,
            Err(busy) => {
                return Err(anyhow!(RateLimited {
                    message: format!(
                        "the ledger {} is locked by another process ({}) and stayed locked for lock_timeout_seconds = {}; try again later (the lock is {})",
                        path.display(),
                        busy.holder.as_deref().unwrap_or("it did not write who it is"),
                        timeout.as_secs(),
                        lock_path.display()
                    ),
                }))
            }
        };
        let opened = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path, timeout),
            _ => {
                Self::existing(path, timeout, OpenFlags::default(), false).and_then(|mut store| {
                    store.prepare()?;
                    Ok(store)
                })
            }
        };
        drop(lock);
        opened.map_err(|e| named(path, explain(path, timeout, e)))
    }

    /// Opens the ledger at `path` read-only, without taking its lock: `None` when there is
    /// no ledger yet (nothing is created). A ledger of an older schema is migrated first
    /// (which does take the lock).
    pub fn open_read(path: &Path, timeout: Duration) -> Result<Option<Self>> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("opening the ledger {}", path.display()))
            }
            Ok(_) => {}
        }
        let read = || -> Result<Option<Self>> {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
            let store = match Self::existing(path, timeout, flags, false) {
                // SQLite cannot make the shared-memory file of a WAL ledger in a directory
                // it may not write. With no -wal file left, the ledger file holds every
                // committed run and can be read as it is.
                Err(e) if cannot_write(&e) && !wal_of(path).exists() => {
                    Self::existing(path, timeout, flags, true)?
                }
                other => other?,
            };
            let version = store.version()?;
            if version > VERSION {
                bail!(newer(version));
            }
            Ok((version == VERSION).then_some(store))
        };
        match read().map_err(|e| named(path, explain(path, timeout, e)))? {
            Some(store) => Ok(Some(store)),
            None => Self::open_within(path, timeout).map(Some),
        }
    }

    /// An existing file, checked to be a reportctl ledger before SQLite may write to it;
    /// `unchanging`: opened as a file nobody changes (see `open_read`).
    fn existing(
        path: &Path,
        timeout: Duration,
        flags: OpenFlags,
        unchanging: bool,
    ) -> Result<Self> {
        use std::io::Read as _;
        let mut header = [0u8; 16];
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("opening the ledger {}", path.display()))?;
        let len = file.metadata()?.len();
        if len == 0 {
            bail!(
                "the ledger {} is empty (0 bytes), so it is not a reportctl ledger; {LEAVE_IT}",
                path.display()
            );
        }
        if file.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
            bail!(
                "the ledger {} is damaged or not a reportctl ledger: it is not a SQLite database; {LEAVE_IT}",
                path.display()
            );
        }
        let conn = if unchanging {
            Connection::open_with_flags(immutable(path), flags)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .with_context(|| format!("opening the ledger {}", path.display()))?;
        conn.busy_timeout(timeout)?;
        let store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            timeout,
        };
        let ours: bool = store.conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get(0),
        )?;
        if !ours || store.version()? == 0 {
            bail!(
                "the ledger {} is a SQLite database but not a reportctl ledger (it has no reportctl tables); {LEAVE_IT}",
                path.display()
            );
        }
        Ok(store)
    }

    /// A new ledger where there is no file: built under a temporary name, owner-only,
    /// and linked into place only if still nothing is there.
    fn create(path: &Path, timeout: Duration) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map_or("ledger".into(), |n| n.to_string_lossy());
        let tmp = crate::fsutil::temp_name(dir, &name, &format!("new-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("creating the ledger {}", tmp.display()))?;
        let built = (|| -> Result<()> {
            let mut store = SqliteStore {
                conn: Connection::open(&tmp)?,
                path: tmp.clone(),
                timeout,
            };
            store.prepare()?;
            store.conn.close().map_err(|(_, e)| e)?;
            std::fs::hard_link(&tmp, path).with_context(|| {
                format!(
                    "creating the ledger {} (something else created a file there meanwhile?)",
                    path.display()
                )
            })?;
            crate::fsutil::fsync_dir(dir)?;
            Ok(())
        })();
        let _ = std::fs::remove_file(&tmp);
        built?;
        let mut store = Self::existing(path, timeout, OpenFlags::default(), false)?;
        store.prepare()?;
        Ok(store)
    }

    /// An in-memory ledger, for tests.
    pub fn memory() -> Result<Self> {
        let mut store = SqliteStore {
            conn: Connection::open_in_memory()?,
            path: PathBuf::from(":memory:"),
            timeout: DEFAULT_LOCK_TIMEOUT,
        };
        store.prepare()?;
        Ok(store)
    }

    /// The schema version in `meta` (0: none).
    fn version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|v| v.parse().unwrap_or(i64::MAX))
            .unwrap_or(0))
    }

    fn prepare(&mut self) -> Result<()> {
        self.conn.busy_timeout(self.timeout)?;
        // journal_mode answers with a row, so it is read rather than executed.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            bail!("cannot switch it to WAL mode (it stays in {mode} mode)");
        }
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        self.migrate()
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        )?;
        let version: i64 = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|v| v.parse().unwrap_or(i64::MAX))
            .unwrap_or(0);
        if version > VERSION {
            bail!(newer(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)
                .with_context(|| format!("migrating the ledger to schema version {}", i + 1))?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [VERSION.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// `explain` for this ledger.
    fn explained<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| explain(&self.path, self.timeout, e))
    }

    fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let out = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        self.explained(out)
    }

    fn load(conn: &Connection, token: &str) -> Result<Option<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE token = ?1");
        let run = conn.query_row(&sql, [token], run_row).optional()?;
        match run {
            None => Ok(None),
            Some(r) => Ok(Some(Self::details(conn, r?)?)),
        }
    }

    fn details(conn: &Connection, mut run: RunRecord) -> Result<RunRecord> {
        let mut stmt = conn.prepare(
            "SELECT kind, name, rows, bytes, sha256 FROM files WHERE token = ?1 ORDER BY seq",
        )?;
        run.files = stmt
            .query_map([&run.token], |r| {
                Ok(FileRecord {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    rows: r.get::<_, i64>(2)? as u64,
                    bytes: r.get::<_, i64>(3)? as u64,
                    sha256: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = conn.prepare(
            "SELECT destination, status, attempts, detail, updated_at FROM receipts
             WHERE token = ?1 ORDER BY destination",
        )?;
        let rows: Vec<(String, String, i64, String, String)> = stmt
            .query_map([&run.token], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut links_stmt = conn.prepare(
            "SELECT file, url, expires_at FROM links WHERE token = ?1 AND destination = ?2 ORDER BY file",
        )?;
        for (destination, status, attempts, detail, updated_at) in rows {
            let links = links_stmt
                .query_map(params![&run.token, &destination], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .map(|(file, url, expires)| {
                    Ok(Link {
                        file,
                        url,
                        expires: parse_ts(&expires)?,
                    })
                })
                .collect::<Result<_>>()?;
            run.receipts.push(ReceiptRecord {
                destination,
                status: ReceiptStatus::parse(&status)
                    .ok_or_else(|| anyhow!("unknown receipt status {status:?} in the ledger"))?,
                attempts: attempts as u32,
                detail,
                updated_at: parse_ts(&updated_at)?,
                links,
            });
        }
        Ok(run)
    }

    fn owned(tx: &Connection, token: &str, owner: &str) -> Result<()> {
        let current: Option<Option<String>> = tx
            .query_row("SELECT owner FROM runs WHERE token = ?1", [token], |r| {
                r.get(0)
            })
            .optional()?;
        match current {
            Some(Some(o)) if o == owner => Ok(()),
            Some(_) => bail!("lost the claim on run {token}: another process took it over after the lease expired"),
            None => bail!("no run with token {token} in the ledger"),
        }
    }
}

/// `e`, said to be about opening the ledger at `path` unless it names it already.
fn named(path: &Path, e: anyhow::Error) -> anyhow::Error {
    if e.to_string().contains(&path.display().to_string()) {
        e
    } else {
        e.context(format!("opening the ledger {}", path.display()))
    }
}

fn not_writable(path: &Path, dir: &Path, e: anyhow::Error) -> anyhow::Error {
    anyhow!(
        "reportctl cannot write the ledger {} ({e:#}): it writes that file, its -wal, -shm and .lock files and their directory {}; fix their owner or permissions (ls -l {}) or run reportctl as the user who owns them",
        path.display(),
        dir.display(),
        dir.display()
    )
}

/// Whether SQLite failed because it may not write the ledger or its directory.
fn cannot_write(e: &anyhow::Error) -> bool {
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<rusqlite::Error>())
        .and_then(rusqlite::Error::sqlite_error_code);
    matches!(
        code,
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied)
    )
}

fn wal_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

/// The URI that opens `path` as a file nobody changes (no locks, no -shm).
fn immutable(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for c in abs.to_string_lossy().chars() {
        match c {
            '?' | '#' | '%' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    PathBuf::from(uri)
}

fn newer(version: i64) -> String {
    format!("it was written by a newer reportctl (schema version {version}; this one knows up to {VERSION}); upgrade reportctl")
}

/// Turns SQLite's terse errors about the ledger file into messages that name the file
/// and say what to do: damaged, not writable, or locked past the timeout (exit code 75).
fn explain(path: &Path, timeout: Duration, e: anyhow::Error) -> anyhow::Error {
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<rusqlite::Error>())
        .and_then(rusqlite::Error::sqlite_error_code);
    let io_denied = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
    });
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match code {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            let says = match e.chain().find_map(|c| c.downcast_ref::<rusqlite::Error>()) {
                Some(rusqlite::Error::SqliteFailure(_, Some(m))) => m.clone(),
                Some(other) => other.to_string(),
                None => e.to_string(),
            };
            anyhow!(
                "the ledger {} is damaged (SQLite: {says}); {LEAVE_IT}, or restore it from a backup",
                path.display()
            )
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => anyhow!(RateLimited {
            message: format!(
                "the ledger {} is busy: another process kept it locked for more than lock_timeout_seconds = {}; try again later ({e:#})",
                path.display(),
                timeout.as_secs()
            ),
        }),
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            not_writable(path, dir, e)
        }
        _ if io_denied => not_writable(path, dir, e),
        _ => e,
    }
}

/// First seen, latest slot, and whether any run is open (see `ReportState`), of report `?1`.
fn report_state_sql() -> String {
    format!(
        "SELECT (SELECT first_seen FROM reports WHERE name = ?1), ({LAST_SLOT}),
                EXISTS (SELECT 1 FROM runs WHERE report = ?1 AND status = 'queued')
                OR EXISTS (SELECT 1 FROM runs WHERE report = ?1 AND status = 'running')
                OR EXISTS (SELECT 1 FROM runs WHERE report = ?1 AND status = 'failed'
                           AND next_attempt_at IS NOT NULL)"
    )
}

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

/// A `runs` row (files and receipts are filled in by `details`).
fn run_row(r: &Row<'_>) -> rusqlite::Result<Result<RunRecord>> {
    let get = |i| r.get::<_, String>(i);
    let kind = get(2)?;
    let status = get(7)?;
    let (slot_at, next, finished): (Option<String>, Option<String>, Option<String>) =
        (r.get(3)?, r.get(11)?, r.get(15)?);
    let (run_at, from, to, created, updated) = (get(4)?, get(5)?, get(6)?, get(13)?, get(14)?);
    let token = get(0)?;
    let report = get(1)?;
    let detail = get(8)?;
    let attempts: i64 = r.get(9)?;
    let max_attempts: i64 = r.get(10)?;
    let owner: Option<String> = r.get(12)?;
    Ok((|| {
        Ok(RunRecord {
            token,
            report,
            kind: RunKind::parse(&kind).ok_or_else(|| anyhow!("unknown run kind {kind:?}"))?,
            slot_at: opt_ts(slot_at)?,
            run_at: parse_ts(&run_at)?,
            window_from: parse_ts(&from)?,
            window_to: parse_ts(&to)?,
            status: RunStatus::parse(&status)
                .ok_or_else(|| anyhow!("unknown status {status:?}"))?,
            detail,
            attempts: attempts as u32,
            max_attempts: max_attempts as u32,
            next_attempt_at: opt_ts(next)?,
            owner,
            created_at: parse_ts(&created)?,
            updated_at: parse_ts(&updated)?,
            finished_at: opt_ts(finished)?,
            files: Vec::new(),
            receipts: Vec::new(),
        })
    })())
}

fn insert_claimed(tx: &Connection, run: &NewRun, claim: &Claim, wall: DateTime<Utc>) -> Result<()> {
    if insert_run(tx, run, wall)? == 0 {
        bail!("a run with token {} already exists", run.token);
    }
    tx.execute(
        "UPDATE runs SET status = 'running', owner = ?2, lease_until = ?3, attempts = 1,
                         started_at = ?4
         WHERE token = ?1",
        params![run.token, claim.owner, ts(claim.until(wall)), ts(wall)],
    )?;
    Ok(())
}

fn insert_run(tx: &Connection, run: &NewRun, wall: DateTime<Utc>) -> Result<usize> {
    Ok(tx.execute(
        "INSERT INTO runs (token, report, kind, slot_at, run_at, window_from, window_to, status,
                           detail, max_attempts, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT DO NOTHING",
        params![
            run.token,
            run.report,
            run.kind.name(),
            run.slot_at.map(ts),
            ts(run.run_at),
            ts(run.window_from),
            ts(run.window_to),
            run.status.name(),
            run.detail,
            run.max_attempts,
            ts(wall),
        ],
    )?)
}

impl Store for SqliteStore {
    fn first_seen(
        &mut self,
        report: &str,
        record: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>> {
        let read = |c: &Connection| -> Result<Option<DateTime<Utc>>> {
            let s: Option<String> = c
                .query_row(
                    "SELECT first_seen FROM reports WHERE name = ?1",
                    [report],
                    |r| r.get(0),
                )
                .optional()?;
            opt_ts(s)
        };
        match record {
            None => {
                let r = read(&self.conn);
                self.explained(r)
            }
            Some(now) => self.write(|tx| {
                tx.execute(
                    "INSERT INTO reports (name, first_seen) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![report, ts(now)],
                )?;
                read(tx)
            }),
        }
    }

    fn correct_first_seen(
        &mut self,
        report: &str,
        wall: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        self.write(|tx| {
            let s: Option<String> = tx
                .query_row(
                    "SELECT first_seen FROM reports WHERE name = ?1 AND first_seen > ?2",
                    params![report, ts(wall)],
                    |r| r.get(0),
                )
                .optional()?;
            if s.is_some() {
                tx.execute(
                    "UPDATE reports SET first_seen = ?2 WHERE name = ?1",
                    params![report, ts(wall)],
                )?;
            }
            opt_ts(s)
        })
    }

    fn last_slot(&mut self, report: &str) -> Result<Option<DateTime<Utc>>> {
        // `slot_at IS NOT NULL` lets SQLite take the maximum from the index `runs_slot`
        // instead of reading every run of the report.
        let s = self
            .conn
            .query_row(LAST_SLOT, [report], |r| r.get::<_, Option<String>>(0));
        let r = s.map_err(anyhow::Error::from).and_then(opt_ts);
        self.explained(r)
    }

    fn report_states(&mut self, reports: &[&str]) -> Result<Vec<ReportState>> {
        // One statement, prepared once, and one indexed read per report: run-due over
        // many reports with nothing due stays flat in the size of the history (probes
        // of `runs_slot` and `runs_report_status`, never a scan of past runs).
        let r = (|| {
            // One read transaction for all: one snapshot, not one per report.
            let tx = self.conn.unchecked_transaction()?;
            let mut stmt = tx.prepare(&report_state_sql())?;
            let states = reports
                .iter()
                .map(|report| {
                    let (first_seen, last_slot, open): (Option<String>, Option<String>, bool) =
                        stmt.query_row([report], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    Ok(ReportState {
                        first_seen: opt_ts(first_seen)?,
                        last_slot: opt_ts(last_slot)?,
                        open,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            drop(stmt);
            tx.commit()?;
            Ok(states)
        })();
        self.explained(r)
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
            let last: Option<String> = tx.query_row(
                "SELECT max(created_at) FROM runs WHERE report = ?1 AND kind = 'test'",
                [&run.report],
                |r| r.get(0),
            )?;
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
            let mut stmt = tx.prepare(
                "UPDATE runs SET status = 'failed', owner = NULL, lease_until = NULL,
                    next_attempt_at = NULL, updated_at = :wall, finished_at = :wall,
                    detail = 'abandoned: the process running it stopped (its lease expired) and all '
                             || max_attempts || ' attempts are used'
                 WHERE report = :report AND status = 'running' AND lease_until < :wall
                   AND attempts >= max_attempts
                 RETURNING token",
            )?;
            let tokens = stmt
                .query_map(
                    rusqlite::named_params! { ":report": report, ":wall": ts(wall) },
                    |row| row.get(0),
                )?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(tokens)
        })
    }

    fn pending(
        &mut self,
        report: &str,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE report = :report AND {CLAIMABLE}
             ORDER BY run_at, token"
        );
        let r = (|| {
            let mut stmt = self.conn.prepare(&sql)?;
            let runs = stmt
                .query_map(
                    rusqlite::named_params! { ":report": report, ":wall": ts(wall), ":now": ts(now) },
                    run_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            runs.into_iter()
                .map(|r| Self::details(&self.conn, r?))
                .collect()
        })();
        self.explained(r)
    }

    fn claim(
        &mut self,
        token: &str,
        claim: &Claim,
        now: DateTime<Utc>,
        wall: DateTime<Utc>,
    ) -> Result<Option<RunRecord>> {
        self.write(|tx| {
            let sql = format!(
                "UPDATE runs SET status = 'running', owner = :owner, lease_until = :until,
                    attempts = attempts + 1, started_at = :wall, updated_at = :wall,
                    next_attempt_at = NULL
                 WHERE token = :token AND {CLAIMABLE}"
            );
            let n = tx.execute(
                &sql,
                rusqlite::named_params! {
                    ":owner": claim.owner,
                    ":until": ts(claim.until(wall)),
                    ":wall": ts(wall),
                    ":now": ts(now),
                    ":token": token,
                },
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
                "UPDATE runs SET lease_until = ?3 WHERE token = ?1 AND owner = ?2 AND status = 'running'",
                params![token, claim.owner, ts(claim.until(wall))],
            )?;
            Ok(n == 1)
        })
    }

    fn set_files(&mut self, token: &str, owner: &str, files: &[FileRecord]) -> Result<()> {
        self.write(|tx| {
            Self::owned(tx, token, owner)?;
            tx.execute("DELETE FROM files WHERE token = ?1", [token])?;
            for (seq, f) in files.iter().enumerate() {
                tx.execute(
                    "INSERT INTO files (token, seq, kind, name, rows, bytes, sha256)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        token,
                        seq as i64,
                        f.kind,
                        f.name,
                        f.rows as i64,
                        f.bytes as i64,
                        f.sha256
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
            Self::owned(tx, token, owner)?;
            let delivered = (status == ReceiptStatus::Delivered).then(|| ts(wall));
            let attempted = i64::from(status != ReceiptStatus::Pending);
            tx.execute(
                "INSERT INTO receipts (token, destination, status, attempts, detail, updated_at, delivered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (token, destination) DO UPDATE SET
                    status = excluded.status, attempts = receipts.attempts + excluded.attempts,
                    detail = excluded.detail, updated_at = excluded.updated_at,
                    delivered_at = coalesce(excluded.delivered_at, receipts.delivered_at)",
                params![token, destination, status.name(), attempted, detail, ts(wall), delivered],
            )?;
            if !links.is_empty() {
                tx.execute(
                    "DELETE FROM links WHERE token = ?1 AND destination = ?2",
                    params![token, destination],
                )?;
                for l in links {
                    tx.execute(
                        "INSERT INTO links (token, destination, file, url, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![token, destination, l.file, l.url, ts(l.expires)],
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
        self.write(|tx| {
            Self::owned(tx, token, owner)?;
            let (status, detail, retry) = match finish {
                Finish::Completed { detail } => ("completed", detail.as_str(), None),
                Finish::Failed { detail, retry_at } => {
                    ("failed", detail.as_str(), retry_at.map(ts))
                }
            };
            tx.execute(
                "UPDATE runs SET status = ?2, detail = ?3, next_attempt_at = ?4, owner = NULL,
                    lease_until = NULL, updated_at = ?5, finished_at = ?5
                 WHERE token = ?1",
                params![token, status, detail, retry, ts(wall)],
            )?;
            Ok(())
        })
    }

    fn cancel(&mut self, token: &str, wall: DateTime<Utc>) -> Result<CancelOutcome> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE runs SET status = 'cancelled', detail = 'cancelled by request',
                    updated_at = ?2, finished_at = ?2
                 WHERE token = ?1 AND status = 'queued'",
                params![token, ts(wall)],
            )?;
            if n == 1 {
                return Ok(CancelOutcome::Cancelled);
            }
            let status: Option<String> = tx
                .query_row("SELECT status FROM runs WHERE token = ?1", [token], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(match status.as_deref().and_then(RunStatus::parse) {
                None => CancelOutcome::NotFound,
                Some(s) => CancelOutcome::NotQueued(s),
            })
        })
    }

    fn get(&mut self, token: &str) -> Result<Option<RunRecord>> {
        let r = Self::load(&self.conn, token);
        self.explained(r)
    }

    fn history(&mut self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE (?1 IS NULL OR report = ?1)
             ORDER BY run_at DESC, created_at DESC, token DESC LIMIT ?2"
        );
        let r = (|| {
            let mut stmt = self.conn.prepare(&sql)?;
            let runs = stmt
                .query_map(params![report, limit as i64], run_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            runs.into_iter()
                .map(|r| Self::details(&self.conn, r?))
                .collect()
        })();
        self.explained(r)
    }

    fn delivered_files(
        &mut self,
        destination: &str,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.name, max(r.delivered_at) FROM receipts r JOIN files f ON f.token = r.token
             WHERE r.destination = ?1 AND r.delivered_at IS NOT NULL
             GROUP BY f.name HAVING max(r.delivered_at) < ?2",
        )?;
        let rows = stmt
            .query_map(params![destination, ts(before)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(name, at)| Ok((name, parse_ts(&at)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_ts(s).unwrap()
    }

    fn slot(report: &str, t: &str) -> NewRun {
        NewRun {
            token: format!("{report}-{t}"),
            report: report.into(),
            kind: RunKind::Scheduled,
            slot_at: Some(at(t)),
            run_at: at(t),
            window_from: at(t) - chrono::Duration::days(1),
            window_to: at(t),
            max_attempts: 2,
            status: RunStatus::Queued,
            detail: String::new(),
        }
    }

    #[test]
    fn report_state_follows_first_sight_slots_and_open_runs() {
        let mut l = SqliteStore::memory().unwrap();
        let wall = at("2026-11-25T00:00:00Z");
        let state = |l: &mut SqliteStore| l.report_states(&["A"]).unwrap().remove(0);
        let closed = ReportState {
            first_seen: None,
            last_slot: None,
            open: false,
        };
        assert_eq!(state(&mut l), closed);
        l.first_seen("A", Some(wall)).unwrap();
        l.enqueue(
            &[
                slot("A", "2026-11-23T06:00:00Z"),
                slot("A", "2026-11-24T06:00:00Z"),
            ],
            wall,
        )
        .unwrap();
        // Another report's runs do not count.
        l.enqueue(&[slot("B", "2026-11-26T06:00:00Z")], wall)
            .unwrap();
        let open = ReportState {
            first_seen: Some(wall),
            last_slot: Some(at("2026-11-24T06:00:00Z")),
            open: true,
        };
        assert_eq!(state(&mut l), open);
        let claim = Claim {
            owner: "me".into(),
            lease: std::time::Duration::from_secs(60),
        };
        for (token, finish) in [
            (
                "A-2026-11-23T06:00:00Z",
                Finish::Completed {
                    detail: String::new(),
                },
            ),
            (
                "A-2026-11-24T06:00:00Z",
                Finish::Failed {
                    detail: "x".into(),
                    retry_at: Some(wall),
                },
            ),
        ] {
            l.claim(token, &claim, wall, wall).unwrap().unwrap();
            l.finish(token, "me", &finish, wall).unwrap();
        }
        // A failed run with a retry time is open; given up, it is not.
        assert_eq!(state(&mut l), open);
        let token = "A-2026-11-24T06:00:00Z";
        l.claim(token, &claim, wall, wall).unwrap().unwrap();
        let given_up = Finish::Failed {
            detail: "x".into(),
            retry_at: None,
        };
        l.finish(token, "me", &given_up, wall).unwrap();
        assert_eq!(
            state(&mut l),
            ReportState {
                open: false,
                ..open
            }
        );
    }

    /// run-due reads this for every report: it must probe indexes, never scan the runs
    /// (the history can hold millions).
    #[test]
    fn report_state_reads_indexes_only() {
        let l = SqliteStore::memory().unwrap();
        let mut stmt = l
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", report_state_sql()))
            .unwrap();
        let plan: Vec<String> = stmt
            .query_map(["A"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter()
                .all(|p| !p.starts_with("SCAN runs") && !p.starts_with("SCAN reports")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|p| p.contains("USING INDEX runs_report_status (report=? AND status=?)")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|p| p.contains("USING COVERING INDEX runs_slot")),
            "{plan:?}"
        );
    }
}
