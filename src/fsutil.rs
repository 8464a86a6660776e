//! File system helpers for never leaving a half-written file visible: write under a
//! hidden temporary name in the target directory, fsync, rename, fsync the directory.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The hidden temporary name `name` is written under in its directory.
pub fn temp_name(dir: &Path, name: &str, tag: &str) -> PathBuf {
    dir.join(format!(".{name}.{tag}.tmp"))
}

/// Whether a directory entry is one of our temporary files.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

// Directories reportctl made (spool runs, pickup runs) hold a marker file naming their
// token; nothing without it is ever removed.

/// The marker file that says reportctl created a run directory.
pub const MARKER: &str = ".reportctl-run";

/// Writes the marker that makes `path`, a directory reportctl just created for
/// `token`, removable by reportctl later (see `is_ours`).
pub fn mark(path: &Path, token: &str) -> io::Result<()> {
    use std::io::Write as _;
    let tmp = temp_name(path, MARKER, "marker");
    let mut f = create_private(&tmp)?;
    f.write_all(format!("{token}\n").as_bytes())?;
    f.sync_all()?;
    commit(&tmp, &path.join(MARKER))
}

/// Whether `path` is a run directory reportctl created for `token`: a real directory
/// (not a link) holding the marker, a regular file that names the token.
pub fn is_ours(path: &Path, token: &str) -> bool {
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir());
    let marker = path.join(MARKER);
    is_dir
        && std::fs::symlink_metadata(&marker).is_ok_and(|m| m.file_type().is_file())
        && std::fs::read_to_string(&marker).is_ok_and(|s| s.trim_end() == token)
}

pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Moves the finished `tmp` over `target` (same directory) and makes it durable.
pub fn commit(tmp: &Path, target: &Path) -> io::Result<()> {
    std::fs::rename(tmp, target)?;
    if let Some(dir) = target.parent() {
        fsync_dir(dir)?;
    }
    Ok(())
}

/// Creates (or truncates) `path` readable and writable by its owner only (0600),
/// whatever the umask: the files reportctl writes hold customer data.
pub fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode through `open`; a strict umask may have taken
    // the owner's bits: set them either way.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Creates `dir` and its missing parents, each directory it creates accessible to its
/// owner only (0700) whatever the umask; directories that exist are left as they are.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)),
        // Another process created it in the meantime.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// An exclusive lock on `path` (created if missing, never removed), held until the
/// returned file is dropped. The operating system releases it when the process dies, so
/// a killed process never leaves a stale lock behind.
pub fn lock_file(path: &Path) -> anyhow::Result<File> {
    use anyhow::Context as _;
    let file = open_lock_file(path)?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

/// Opens a lock file for writing, creating it owner-only (0600) if missing; its
/// contents are kept.
fn open_lock_file(path: &Path) -> anyhow::Result<File> {
    use anyhow::Context as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// How `lock_file_within` ended when it did not get the lock.
#[derive(Debug)]
pub struct LockBusy {
    /// What the holder wrote into the lock file ("pid 123 on host db1"), if anything.
    pub holder: Option<String>,
}

/// A lock taken by `lock_file_within`; released (its note erased first) when dropped.
pub struct NamedLock(File);

impl Drop for NamedLock {
    fn drop(&mut self) {
        // Still locked: nobody reads a half-erased note as the next holder's.
        let _ = self.0.set_len(0);
    }
}

/// An exclusive lock on `path` like `lock_file`, but waiting at most `timeout`: `Ok(Err)`
/// when another process still holds it then. The file is created owner-only (0600) if
/// missing; while locked, it names this process (`pid N on host H`), so a process that
/// gives up can say who holds it.
pub fn lock_file_within(
    path: &Path,
    timeout: std::time::Duration,
) -> anyhow::Result<Result<NamedLock, LockBusy>> {
    use anyhow::Context as _;
    let mut file = open_lock_file(path)?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let now = std::time::Instant::now();
                if now >= deadline {
                    let holder = std::fs::read_to_string(path)
                        .ok()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty());
                    return Ok(Err(LockBusy { holder }));
                }
                std::thread::sleep((deadline - now).min(std::time::Duration::from_millis(50)));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
    // Best effort: the lock works without the note.
    let note = format!("pid {} on host {}\n", std::process::id(), hostname());
    let _ = file
        .set_len(0)
        .and_then(|()| file.write_all(note.as_bytes()));
    Ok(Ok(NamedLock(file)))
}

/// This machine's name, for messages and claim owners.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A writer that counts bytes and hashes them on the way through.
pub struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// (inner writer, bytes written, hex SHA-256).
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 and size of a file, read in bounded memory.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = Hashing::new(io::sink());
    io::copy(&mut f, &mut h)?;
    let (_, bytes, sha) = h.finish();
    Ok((bytes, sha))
}

/// A file writer that hands full buffers to a background thread, which hashes and
/// writes them, so that hashing and I/O overlap with rendering. Memory is bounded and
/// allocated once: `POOL` buffers of `BUF` bytes go round between the two threads.
pub struct BackgroundWriter {
    buf: Vec<u8>,
    full: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    empty: std::sync::mpsc::Receiver<Vec<u8>>,
    worker: Option<std::thread::JoinHandle<io::Result<(File, u64, String)>>>,
}

const BUF: usize = 128 * 1024;
const POOL: usize = 3;

impl BackgroundWriter {
    pub fn new(file: File) -> Self {
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(POOL);
        let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(POOL);
        for _ in 1..POOL {
            empty_tx
                .send(Vec::with_capacity(BUF))
                .expect("the pool has room");
        }
        let worker = std::thread::spawn(move || {
            let mut out = Hashing::new(file);
            for mut chunk in full_rx {
                out.write_all(&chunk)?;
                chunk.clear();
                // The renderer may have stopped listening; then the buffer is dropped.
                let _ = empty_tx.send(chunk);
            }
            Ok(out.finish())
        });
        BackgroundWriter {
            buf: Vec::with_capacity(BUF),
            full: Some(full_tx),
            empty: empty_rx,
            worker: Some(worker),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        // Waits for the writer to hand a buffer back: that is the backpressure.
        let Ok(next) = self.empty.recv() else {
            return Err(self.fail());
        };
        let chunk = std::mem::replace(&mut self.buf, next);
        let sent = self.full.as_ref().map(|tx| tx.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            // The worker stopped: its error is reported by `finish`.
            _ => Err(self.fail()),
        }
    }

    fn fail(&mut self) -> io::Error {
        self.full = None;
        match self.worker.take().map(|w| w.join()) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the file writer thread stopped"),
        }
    }

    /// Writes what is left and returns the file, the bytes written and their SHA-256.
    pub fn finish(mut self) -> io::Result<(File, u64, String)> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        self.full = None;
        match self.worker.take().map(|w| w.join()) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other("the file writer thread panicked")),
        }
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > BUF && !self.buf.is_empty() {
            self.send()?;
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        self.full = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_lock_says_who_holds_it_and_forgets_when_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = lock_file_within(&path, std::time::Duration::ZERO)
            .unwrap()
            .unwrap();
        let note = format!("pid {} on host {}", std::process::id(), hostname());
        let busy = lock_file_within(&path, std::time::Duration::from_millis(120))
            .unwrap()
            .err()
            .expect("busy");
        assert_eq!(busy.holder.as_deref(), Some(note.as_str()));
        drop(held);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(lock_file_within(&path, std::time::Duration::ZERO)
            .unwrap()
            .is_ok());
    }

    #[test]
    fn background_writer_writes_and_hashes_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut w = BackgroundWriter::new(File::create(&path).unwrap());
        let mut expected = Vec::new();
        for i in 0..100_000u32 {
            let line = format!("{i},some text\n");
            w.write_all(line.as_bytes()).unwrap();
            expected.extend_from_slice(line.as_bytes());
        }
        w.write_all(&vec![b'x'; 3 * BUF]).unwrap();
        expected.extend(std::iter::repeat_n(b'x', 3 * BUF));
        let (_, bytes, sha) = w.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        assert_eq!(bytes, expected.len() as u64);
        assert_eq!(hash_file(&path).unwrap(), (bytes, sha));
    }
}
