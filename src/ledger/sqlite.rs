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
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, ErrorCode, OpenFlags, ToSql, TransactionBehavior};

use super::schema::{self, newer, VERSION};
use super::sql::{Backend, Row, Sql, Value};
use crate::exit::RateLimited;

/// How long a command waits for the ledger by default (`[settings] lock_timeout_seconds`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    timeout: Duration,
}

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
        schema::version(&mut Lite(&self.conn))
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        schema::upgrade(&mut Lite(&tx))?;
        tx.commit()?;
        Ok(())
    }

    /// `explain` for this ledger.
    fn explained<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| explain(&self.path, self.timeout, e))
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

/// Reads take a snapshot (a deferred transaction); writes take the write lock up front
/// (`BEGIN IMMEDIATE`), so a claim's check and update happen under one lock.
impl Backend for SqliteStore {
    fn read<T>(&mut self, f: impl FnOnce(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let out = (|| {
            let tx = self.conn.transaction()?;
            let out = f(&mut Lite(&tx))?;
            tx.commit()?;
            Ok(out)
        })();
        self.explained(out)
    }

    fn write<T>(&mut self, mut f: impl FnMut(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let out = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&mut Lite(&tx))?;
            tx.commit()?;
            Ok(out)
        })();
        self.explained(out)
    }
}

/// A connection (or a transaction on it) running the ledger's statements.
struct Lite<'c>(&'c Connection);

impl Sql for Lite<'_> {
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        rows(&mut self.0.prepare(&spelled(sql))?, args)
    }

    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64> {
        Ok(self.0.execute(&spelled(sql), params_from_iter(args))? as u64)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.execute_batch(&spelled(sql))?)
    }

    fn query_each(&mut self, sql: &str, keys: &[&str]) -> Result<Vec<Row>> {
        let mut stmt = self.0.prepare(&spelled(sql))?;
        keys.iter()
            .map(|key| {
                let mut rows = stmt.query([key])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| anyhow!("the ledger answered no row"))?;
                cells(row)
            })
            .collect()
    }
}

/// The rows `stmt` answers with `args`.
fn rows(stmt: &mut rusqlite::Statement<'_>, args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(cells(row)?);
    }
    Ok(out)
}

/// A row's cells as plain values.
fn cells(row: &rusqlite::Row<'_>) -> Result<Row> {
    (0..row.as_ref().column_count())
        .map(|i| {
            Ok(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Text(s) => Value::Text(std::str::from_utf8(s)?.to_owned()),
                other => bail!("the ledger holds a value of an unexpected type ({other:?})"),
            })
        })
        .collect::<Result<_>>()
        .map(Row)
}

/// A statement as SQLite reads it (see `sql.rs`): `?1` for `$1`; no `COLLATE "C"`
/// (SQLite compares text bytewise) and no `FOR UPDATE` (a write holds the whole file).
fn spelled(sql: &str) -> String {
    sql.replace(" COLLATE \"C\"", "")
        .replace(" FOR UPDATE", "")
        .replace('$', "?")
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
