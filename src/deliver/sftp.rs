//! The SFTP destination (ssh2, i.e. libssh2): connect with a timeout, check the server's
//! host key against known_hosts (see `known_hosts`), log in with a key file, the SSH
//! agent or a password, and upload each file under a hidden temporary name in the
//! remote directory, then rename it over any older file of the same name. A reader of
//! the remote directory never sees a partial file.
//!
//! Renaming over an existing file: SFTP version 3 (OpenSSH's) refuses to rename onto an
//! existing name and ignores overwrite flags, and libssh2 as wrapped by ssh2 offers no
//! `posix-rename@openssh.com`. So when the rename is refused because the older file is
//! there, the older file is removed and the rename done again: for that instant the
//! name is absent, but it never holds a partial file.
//!
//! Throughput: libssh2 sends at most 30,000 bytes per SFTP write request and returns
//! from a write as soon as the first request is acknowledged, but it keeps every request
//! made from the buffer it was given in flight. The upload therefore hands it a buffer
//! that slides over the file: the bytes acknowledged are dropped from its front and as
//! many read from the file are added at its back, so that up to `IN_FLIGHT` bytes are
//! always on their way, as OpenSSH's sftp keeps 64 requests of 32 KiB on their way.
//!
//! Sessions are reused within a process: after a delivery, its SSH session (and SFTP
//! channel) waits idle for the next delivery to the same server, user and login
//! (`run-due` delivering many runs to one partner logs in once). A libssh2 session is
//! used by one delivery at a time, so runs delivering to one server at the same moment
//! each have their own (a destination's `max_concurrent` caps them). Any failure on a
//! reused session drops it and the delivery is made again on a new one: the uploads are
//! idempotent (temporary name, then rename), and a session the server closed while it
//! was idle never fails a delivery. `close` ends the idle ones.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use ssh2::{ErrorCode, OpenFlags, OpenType, RenameFlags, Session, Sftp};

use super::{known_hosts, Delivered, Delivery, Transient};
use crate::config::{SftpAuth, SftpDest};
use crate::fsutil;
use crate::ledger::FileRecord;

/// Bytes handed to libssh2 at once: in flight on the network or queued to be sent.
const IN_FLIGHT: usize = 8 * 1024 * 1024;

/// SFTP status codes (draft-ietf-secsh-filexfer-02).
const FX_NO_SUCH_FILE: i32 = 2;
const FX_NO_CONNECTION: i32 = 6;
const FX_CONNECTION_LOST: i32 = 7;
const FX_NO_SUCH_PATH: i32 = 10;

/// A logged-in session and its SFTP channel (dropped first, as libssh2 wants).
struct Connection {
    sftp: Sftp,
    session: Session,
}

/// Idle connections by server, user and login (`server_key`).
static IDLE: Mutex<Option<HashMap<String, Vec<Connection>>>> = Mutex::new(None);

/// What decides whether a session may serve a destination: the server, the user and
/// how it logged in (Debug of a secret shows where it comes from, never its value).
fn server_key(dest: &SftpDest) -> String {
    format!(
        "{}@{}:{} {:?} {}",
        dest.user,
        dest.host,
        dest.port,
        dest.auth,
        dest.known_hosts.display()
    )
}

fn idle() -> std::sync::MutexGuard<'static, Option<HashMap<String, Vec<Connection>>>> {
    IDLE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ends the idle sessions (at the end of a command).
pub fn close() {
    let idle = idle().take().unwrap_or_default();
    for conn in idle.into_values().flatten() {
        drop(conn.sftp);
        let _ = conn.session.disconnect(None, "done", None);
    }
}

pub fn deliver(dest: &SftpDest, d: &Delivery<'_>) -> Result<Delivered> {
    let key = server_key(dest);
    let reused = idle().as_mut().and_then(|m| m.get_mut(&key)?.pop());
    if let Some(conn) = reused {
        match transfer(&conn, dest, d) {
            Ok(()) => return Ok(keep(key, conn, dest, d)),
            Err(e) => crate::ui::debug(format!(
                "sftp {}: the reused session failed ({e:#}); delivering on a new one",
                dest.host
            )),
        }
    }
    let session = connect(dest)?;
    let sftp = session
        .sftp()
        .map_err(|e| ssh_error(e, "starting the SFTP subsystem"))?;
    let conn = Connection { sftp, session };
    // A failed session is dropped as it is: the connection is often dead by then.
    transfer(&conn, dest, d).map(|()| keep(key, conn, dest, d))
}

/// Uploads the files into the destination's directory.
fn transfer(conn: &Connection, dest: &SftpDest, d: &Delivery<'_>) -> Result<()> {
    let dir = Path::new(&dest.path);
    remote_dir(&conn.sftp, dir, dest.create_dirs)?;
    for f in d.files {
        upload(
            &conn.session,
            &conn.sftp,
            dir,
            &d.spool.join(&f.name),
            f,
            d.token,
        )
        .with_context(|| format!("uploading {} to {}", f.name, dir.join(&f.name).display()))?;
    }
    Ok(())
}

/// Puts the connection back for the next delivery; the delivery's receipt.
fn keep(key: String, conn: Connection, dest: &SftpDest, d: &Delivery<'_>) -> Delivered {
    let mut idle = idle();
    (idle
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_default())
    .push(conn);
    Delivered {
        detail: format!(
            "{} in sftp://{}@{}:{}/{}",
            crate::ui::count(d.files.len() as u64, "file", "files"),
            dest.user,
            dest.host,
            dest.port,
            dest.path.trim_start_matches('/')
        ),
        links: Vec::new(),
    }
}

/// A libssh2 error as a message; network trouble is transient.
fn ssh_error(e: ssh2::Error, what: &str) -> anyhow::Error {
    // LIBSSH2_ERROR_SOCKET_NONE, BANNER_RECV, BANNER_SEND, SOCKET_SEND, TIMEOUT,
    // SOCKET_DISCONNECT, SOCKET_TIMEOUT, SOCKET_RECV.
    let network = match e.code() {
        ErrorCode::Session(c) => matches!(c, -1 | -2 | -3 | -7 | -9 | -13 | -30 | -43),
        ErrorCode::SFTP(c) => matches!(c, FX_NO_CONNECTION | FX_CONNECTION_LOST),
    };
    let text = format!("{what}: {}", e.message());
    if network {
        anyhow::Error::new(Transient(text))
    } else {
        anyhow!(text)
    }
}

/// An I/O error from a libssh2 file; the session knows what really happened.
fn io_error(session: &Session, e: std::io::Error, what: &str) -> anyhow::Error {
    match ssh2::Error::last_session_error(session) {
        Some(s) => ssh_error(s, what),
        None => anyhow::Error::new(e).context(what.to_string()),
    }
}

fn not_found(e: &ssh2::Error) -> bool {
    matches!(e.code(), ErrorCode::SFTP(FX_NO_SUCH_FILE | FX_NO_SUCH_PATH))
}

fn millis(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

/// TCP connection, SSH handshake, host key check and login.
fn connect(dest: &SftpDest) -> Result<Session> {
    let at = format!("{}:{}", dest.host, dest.port);
    let addrs: Vec<_> = (dest.host.as_str(), dest.port)
        .to_socket_addrs()
        .map_err(|e| anyhow::Error::new(Transient(format!("resolving {}: {e}", dest.host))))?
        .collect();
    let mut last = None;
    let tcp = addrs
        .iter()
        .find_map(|a| {
            TcpStream::connect_timeout(a, dest.connect_timeout)
                .map_err(|e| last = Some(e))
                .ok()
        })
        .ok_or_else(|| {
            let e = last.unwrap_or_else(|| std::io::Error::other("no address"));
            anyhow::Error::new(e).context(format!("connecting to {at}"))
        })?;
    tcp.set_nodelay(true)?;
    let mut session = Session::new().map_err(|e| anyhow!("creating an SSH session: {e}"))?;
    session.set_tcp_stream(tcp);
    session.set_timeout(millis(dest.connect_timeout));
    known_hosts::prefer_known_types(&session, dest)?;
    session
        .handshake()
        .map_err(|e| ssh_error(e, &format!("SSH handshake with {at}")))?;
    known_hosts::check(&session, dest)?;
    login(&session, dest)?;
    session.set_timeout(millis(dest.io_timeout));
    Ok(session)
}

fn login(session: &Session, dest: &SftpDest) -> Result<()> {
    let user = dest.user.as_str();
    let result = match &dest.auth {
        SftpAuth::Key { file, passphrase } => {
            let pass = passphrase
                .as_ref()
                .map(|p| p.resolve().map_err(|e| anyhow!("key_passphrase: {e}")))
                .transpose()?;
            session
                .userauth_pubkey_file(user, None, file, pass.as_ref().map(|p| p.expose()))
                .map_err(|e| {
                    let hint = match (e.code(), passphrase) {
                        // LIBSSH2_ERROR_FILE: the key file could not be read or decrypted.
                        (ErrorCode::Session(-16), Some(p)) => format!("check key_file and key_passphrase (the passphrase comes from {})", p.describe()),
                        (ErrorCode::Session(-16), None) => "check key_file; if the key is encrypted, set key_passphrase".to_string(),
                        _ => format!("check that the public key of {} is in the server's authorized_keys for {user}", file.display()),
                    };
                    anyhow!("logging in as {user} with key file {} failed: {}; {hint}", file.display(), e.message())
                })
        }
        SftpAuth::Agent => session.userauth_agent(user).map_err(|e| {
            anyhow!(
                "logging in as {user} with the SSH agent failed: {}; check that SSH_AUTH_SOCK points to a running agent holding a key the server accepts",
                e.message()
            )
        }),
        SftpAuth::Password(secret) => {
            let password = secret.resolve().map_err(|e| anyhow!("password: {e}"))?;
            session
                .userauth_password(user, password.expose())
                .map_err(|e| {
                    anyhow!(
                        "logging in as {user} with a password failed: {}; check the password (it comes from {})",
                        e.message(),
                        secret.describe()
                    )
                })
        }
    };
    match result {
        Ok(()) if session.authenticated() => Ok(()),
        Ok(()) => {
            bail!("logging in as {user}: the server asks for more authentication than one method")
        }
        Err(e) => Err(e),
    }
}

/// The remote directory must exist, or is created (with its parents) when asked.
fn remote_dir(sftp: &Sftp, dir: &Path, create: bool) -> Result<()> {
    match sftp.stat(dir) {
        Ok(st) if st.is_dir() => return Ok(()),
        Ok(_) => bail!(
            "remote path {} exists but is not a directory",
            dir.display()
        ),
        Err(e) if not_found(&e) && !create => bail!(
            "remote directory {} does not exist; create it, or set create_dirs = true",
            dir.display()
        ),
        Err(e) if not_found(&e) => {}
        Err(e) => {
            return Err(ssh_error(
                e,
                &format!("checking remote directory {}", dir.display()),
            ))
        }
    }
    let mut at = PathBuf::new();
    for part in dir.components() {
        at.push(part);
        if sftp.stat(&at).is_ok() {
            continue;
        }
        if let Err(e) = sftp.mkdir(&at, 0o755) {
            // Another process may have made it meanwhile.
            if !sftp.stat(&at).is_ok_and(|s| s.is_dir()) {
                return Err(ssh_error(
                    e,
                    &format!("creating remote directory {}", at.display()),
                ));
            }
        }
    }
    Ok(())
}

/// One file: temporary name, sliding-window writes, size check, rename into place.
fn upload(
    session: &Session,
    sftp: &Sftp,
    dir: &Path,
    local: &Path,
    f: &FileRecord,
    token: &str,
) -> Result<()> {
    let target = dir.join(&f.name);
    let tmp = fsutil::temp_name(dir, &f.name, token);
    let result = (|| {
        let mut input =
            File::open(local).with_context(|| format!("reading {}", local.display()))?;
        let mut remote = sftp
            .open_mode(
                &tmp,
                OpenFlags::WRITE | OpenFlags::TRUNCATE,
                0o644,
                OpenType::File,
            )
            .map_err(|e| ssh_error(e, &format!("creating {}", tmp.display())))?;
        let sent = send(&mut input, &mut remote, window(f.bytes)).map_err(|e| match e {
            Failed::Read(e) => {
                anyhow::Error::new(e).context(format!("reading {}", local.display()))
            }
            Failed::Write(e) => {
                cleanup_timeout(session);
                io_error(session, e, "writing")
            }
        })?;
        // Durable before it gets its name; servers without fsync@openssh.com skip it.
        let _ = remote.fsync();
        let size = remote
            .stat()
            .map_err(|e| ssh_error(e, "checking the uploaded size"))?
            .size;
        drop(remote);
        if sent != f.bytes || size != Some(f.bytes) {
            bail!(
                "the upload is incomplete: {} bytes sent, {} on the server, {} expected",
                sent,
                size.map_or_else(|| "unknown".into(), |s| s.to_string()),
                f.bytes
            );
        }
        rename_over(sftp, &tmp, &target)
    })();
    if result.is_err() {
        cleanup_timeout(session);
        let _ = sftp.unlink(&tmp);
    }
    result
}

/// How long each step of tidying up after a failed upload may wait (closing the
/// remote file, removing the temporary file, closing the session). The connection is
/// often dead by then (a stalled transfer): without this, each step waited the whole
/// `io_timeout_seconds` again. A temporary file left behind has a hidden name and is
/// overwritten by the next attempt of the same run.
const CLEANUP_TIMEOUT: Duration = Duration::from_millis(500);

fn cleanup_timeout(session: &Session) {
    let now = Duration::from_millis(u64::from(session.timeout()));
    if now.is_zero() || now > CLEANUP_TIMEOUT {
        session.set_timeout(millis(CLEANUP_TIMEOUT));
    }
}

/// Which side of a copy failed.
#[derive(Debug)]
enum Failed {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// The window for a file of `bytes` bytes: `IN_FLIGHT`, or less for a smaller file (at
/// least one byte past its end, so that the end of the file is seen in one read). The
/// buffer is twice the window and is allocated for each upload: a 16 MiB buffer for a
/// file of a few hundred bytes cost 16 MiB of memory per upload in flight, which the
/// allocator kept per worker thread once `run-due` delivered side by side.
fn window(bytes: u64) -> usize {
    usize::try_from(bytes.saturating_add(1))
        .unwrap_or(usize::MAX)
        .clamp(4096, IN_FLIGHT)
}

/// Copies `input` to `remote`, keeping up to `window` bytes in libssh2's hands.
fn send(input: &mut impl Read, remote: &mut impl Write, window: usize) -> Result<u64, Failed> {
    // Twice the window, so that moving the unsent tail to the front happens once per
    // window's worth of bytes sent.
    let mut buf = vec![0u8; 2 * window];
    let (mut start, mut end, mut eof, mut total) = (0usize, 0usize, false, 0u64);
    loop {
        if !eof && end - start < window {
            if end + window / 4 > buf.len() {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            let limit = (start + window).min(buf.len());
            while end < limit {
                match input.read(&mut buf[end..limit]).map_err(Failed::Read)? {
                    0 => {
                        eof = true;
                        break;
                    }
                    n => end += n,
                }
            }
        }
        if start == end {
            remote.flush().map_err(Failed::Write)?;
            return Ok(total);
        }
        let n = remote.write(&buf[start..end]).map_err(Failed::Write)?;
        if n == 0 {
            return Err(Failed::Write(std::io::ErrorKind::WriteZero.into()));
        }
        start += n;
        total += n as u64;
    }
}

fn rename_over(sftp: &Sftp, tmp: &Path, target: &Path) -> Result<()> {
    let flags = Some(RenameFlags::OVERWRITE | RenameFlags::ATOMIC | RenameFlags::NATIVE);
    let Err(first) = sftp.rename(tmp, target, flags) else {
        return Ok(());
    };
    // SFTP v3 servers refuse to rename over an existing file: remove the older one.
    if sftp.stat(target).is_err() {
        return Err(ssh_error(
            first,
            &format!("renaming into place as {}", target.display()),
        ));
    }
    sftp.unlink(target)
        .map_err(|e| ssh_error(e, &format!("replacing the older {}", target.display())))?;
    sftp.rename(tmp, target, flags)
        .map_err(|e| ssh_error(e, &format!("renaming into place as {}", target.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that accepts at most `chunk` bytes per call, like libssh2 returning after
    /// the first acknowledged request.
    struct Trickle {
        out: Vec<u8>,
        chunk: usize,
        largest_offer: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.largest_offer = self.largest_offer.max(buf.len());
            let n = buf.len().min(self.chunk);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn sliding_window_copies_every_byte_in_order() {
        for len in [0usize, 1, 30_000, IN_FLIGHT - 1, IN_FLIGHT * 3 + 12_345] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut w = Trickle {
                out: Vec::new(),
                chunk: 30_000,
                largest_offer: 0,
            };
            let n = send(&mut data.as_slice(), &mut w, window(len as u64)).unwrap();
            assert_eq!(n as usize, len);
            assert!(w.out == data, "length {len}");
            if len > 2 * IN_FLIGHT {
                // The window stays full: libssh2 always sees a full window to pipeline.
                assert_eq!(w.largest_offer, IN_FLIGHT);
            }
        }
    }

    #[test]
    fn a_small_file_gets_a_small_window_and_is_still_copied_whole() {
        assert_eq!(window(0), 4096);
        assert_eq!(window(100_000), 100_001);
        assert_eq!(window(u64::MAX), IN_FLIGHT);
        // A window smaller than the file (the file grew after it was measured) still
        // copies every byte: the window only bounds what is in flight.
        let data: Vec<u8> = (0..50_000).map(|i| (i % 251) as u8).collect();
        let mut w = Trickle {
            out: Vec::new(),
            chunk: 3_000,
            largest_offer: 0,
        };
        let n = send(&mut data.as_slice(), &mut w, window(10_000)).unwrap();
        assert_eq!(n as usize, data.len());
        assert!(w.out == data);
        assert!(w.largest_offer <= 10_001);
    }
}
