//! Promises of `reportctl serve` and of the SFTP and S3 transports that no other test
//! checked. `serve` (no server needed): at most `max_connections` connections are served
//! at once (more wait in the listen backlog), a request that takes longer than
//! `request_timeout_seconds` to answer gets a `503`, and `shutdown_grace_seconds` bounds
//! how long a SIGTERM waits for connections in flight before the exit 0. SFTP and S3
//! (test servers, started by scripts/test): hashed and `@revoked` known_hosts entries,
//! `io_timeout_seconds`, the temporary file of a failed upload, and `sse`.
//!
//! Already tested elsewhere: a download in flight finishing after SIGTERM
//! (serve::sigterm_lets_a_download_in_flight_finish), the idle keep-alive close
//! (serve_stall::an_idle_connection_is_closed_after_the_idle_timeout) and the per-client
//! limit (serve_stall::a_client_address_over_its_limit_gets_a_429_while_others_are_served).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use crate::common::pickup_serve::{pickup_store, Server, API_KEY};

impl Server {
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Sends SIGTERM and waits up to `limit` for the exit: its code and how long it took.
    fn terminate(&mut self, limit: Duration) -> (Option<i32>, Duration) {
        let start = Instant::now();
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (None, start.elapsed())
    }
}

/// Reads one response's status line and headers, then its `Content-Length` body.
fn read_response(s: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, head + &String::from_utf8_lossy(&body)))
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn connections_past_max_connections_wait_until_one_closes() {
    let dir = pickup_store(
        10,
        "max_connections = 2\nmax_connections_per_client = 2\nidle_timeout_seconds = 30\nrequest_timeout_seconds = 30",
    );
    let server = Server::start(dir.path());
    // Two keep-alive connections, each answered once and left open: both slots taken.
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = server.connect();
            s.write_all(HEALTHZ).unwrap();
            let (status, text) = read_response(&mut s).unwrap();
            assert_eq!(status, 200, "{text}");
            s
        })
        .collect();
    // A third connection is accepted by the kernel (the backlog), but not served: its
    // request gets no answer while the two are open, and it is not refused either.
    let mut third = server.connect();
    third.write_all(HEALTHZ).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut byte = [0u8; 1];
    match third.read(&mut byte) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the third connection was served past max_connections: {other:?}"),
    }
    // The held connections are still served.
    held[0].write_all(HEALTHZ).unwrap();
    assert_eq!(read_response(&mut held[0]).unwrap().0, 200);
    // Once one closes, the waiting connection is served.
    drop(held.remove(0));
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (status, text) = read_response(&mut third).unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("\r\n\r\nok\n"), "{text}");
}

#[test]
fn a_request_slower_than_the_request_timeout_gets_a_503() {
    let dir = pickup_store(10, "request_timeout_seconds = 1");
    // The store's index entry becomes a FIFO that nobody writes to: reading it blocks
    // (on the blocking pool), so the answer takes longer than the request timeout.
    let index = dir.path().join("store/Big_Export/ROWS.json");
    let saved = std::fs::read(&index).unwrap();
    std::fs::remove_file(&index).unwrap();
    let c_path = std::ffi::CString::new(index.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let server = Server::start(dir.path());
    let mut s = server.connect();
    let start = Instant::now();
    s.write_all(
        format!("GET /reports/Big_Export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let (status, text) = read_response(&mut s).unwrap();
    let waited = start.elapsed();
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("\"message\":\"The request took too long; try again\""),
        "{text}"
    );
    assert!(text.contains("\"type\":\"SERVICE UNAVAILABLE\""), "{text}");
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(8),
        "answered after {waited:?}"
    );
    // Let the blocked read finish: a writer opens the FIFO and gives it the index.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&index)
        .unwrap()
        .write_all(&saved)
        .unwrap();
    // The server goes on answering, and the log says why the request failed.
    let mut s = server.connect();
    s.write_all(HEALTHZ).unwrap();
    assert_eq!(read_response(&mut s).unwrap().0, 200);
    let start = Instant::now();
    while !server.log().iter().any(|l| l.contains(" 503 "))
        && start.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    assert!(
        log.iter()
            .any(|l| l.contains("\"GET /reports/Big_Export\" 503 ") && l.contains("timed out")),
        "{log:#?}"
    );
}

#[test]
fn sigterm_closes_what_is_still_open_after_the_shutdown_grace() {
    // A download whose client reads nothing stays in flight (send_timeout_seconds is far
    // away): SIGTERM waits shutdown_grace_seconds (1) for it, no longer, and exits 0.
    let dir = pickup_store(
        4096,
        "shutdown_grace_seconds = 1\nsend_timeout_seconds = 60\nrequest_timeout_seconds = 60",
    );
    let mut server = Server::start(dir.path());
    let mut s = server.connect();
    s.write_all(
        format!("GET /reports/Big_Export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let (status, text) = read_response(&mut s).unwrap();
    assert_eq!(status, 200, "{text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let url = v["links"][0]["url"].as_str().unwrap();
    let path = &url[url.find("/download/").unwrap()..];
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(
        first[..n].starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        &first[..n]
    );
    // The client now stops reading: 4 MiB do not fit in the socket buffers.
    let (code, took) = server.terminate(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{:#?}", server.log());
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(6),
        "exited after {took:?}"
    );
    // The log is complete once the process has exited and its pipe is drained.
    let start = Instant::now();
    while !server
        .log()
        .iter()
        .any(|l| l.starts_with("reportctl: serve: stopped"))
        && start.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    assert!(
        log.iter()
            .any(|l| l.contains("SIGTERM: shutting down; 1 connection open, waiting up to 1s")),
        "{log:#?}"
    );
    assert_eq!(
        log.last().unwrap(),
        "reportctl: serve: stopped; connections still open after shutdown_grace_seconds were closed",
        "{log:#?}"
    );
    // The client got less than the whole file.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        ((n + rest.len()) as u64) < 4096 * 1024,
        "{}",
        n + rest.len()
    );
}

// SFTP: hashed and `@revoked` known_hosts entries, the temporary file of a failed upload,
// and `io_timeout_seconds` bounding a transfer that stalls (through a proxy that stops
// forwarding in the middle of the upload).

mod sftp {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::path::Path;
    use std::process::Command;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::common::fixtures::*;
    use crate::common::servers::env;

    fn config(remote: &Path, sftp_extra: &str) -> String {
        sftp_config(remote, sftp_extra, "")
    }

    #[test]
    #[ignore = "needs test servers: scripts/test"]
    fn a_hashed_known_hosts_entry_is_accepted() {
        let remote = remote_dir("hashed");
        let ws = Workspace::new(5);
        let known = ws.path().join("known_hosts");
        std::fs::copy(env("SFTP", "SSHD_KNOWN_HOSTS"), &known).unwrap();
        let out = Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&known)
            .output()
            .expect("ssh-keygen -H");
        assert!(out.status.success(), "{out:?}");
        let hashed = std::fs::read_to_string(&known).unwrap();
        assert!(hashed.starts_with("|1|"), "{hashed}");
        assert!(!hashed.contains("127.0.0.1"), "{hashed}");
        ws.config(&config(
            &remote,
            &format!("known_hosts = \"{}\"", known.display()),
        ));
        let (out, run) = ws.run_report("Partner Views");
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(receipt(&run, "partner")["status"], "delivered");
        assert_eq!(
            std::fs::read(remote.join(file_name("Partner Views"))).unwrap(),
            expected_csv(5)
        );
        assert_eq!(
            std::fs::read_to_string(&known).unwrap(),
            hashed,
            "untouched"
        );
    }

    #[test]
    #[ignore = "needs test servers: scripts/test"]
    fn a_revoked_host_key_is_refused_even_when_it_is_also_trusted() {
        let remote = remote_dir("revoked");
        let ws = Workspace::new(1);
        let known = ws.path().join("known_hosts");
        let scanned = std::fs::read_to_string(env("SFTP", "SSHD_KNOWN_HOSTS")).unwrap();
        let entry = scanned
            .lines()
            .find(|l| l.contains(" ssh-ed25519 "))
            .expect("an ed25519 entry");
        std::fs::write(&known, format!("{scanned}@revoked {entry}\n")).unwrap();
        ws.config(&config(
            &remote,
            &format!(
                "known_hosts = \"{}\"\naccept_new_host_key = true",
                known.display()
            ),
        ));
        let (out, run) = ws.run_report("Partner Views");
        assert_eq!(out.code, 1, "{out:?}");
        let port = env("SFTP", "SSHD_PORT");
        assert_eq!(
            receipt(&run, "partner")["detail"].as_str().unwrap(),
            format!(
                "the host key of 127.0.0.1:{port} (ssh-ed25519 {fp}) is marked @revoked in {k}; nothing was uploaded",
                fp = server_fingerprint(),
                k = known.display()
            )
        );
        assert!(!remote.exists(), "nothing written");
    }

    #[test]
    #[ignore = "needs test servers: scripts/test"]
    fn a_failed_upload_removes_its_temporary_file() {
        // The final name is taken by a directory the user cannot remove: the upload
        // itself goes through, then the rename into place fails.
        let remote = remote_dir("tmp-removed");
        let name = file_name("Partner Views");
        std::fs::create_dir_all(remote.join(&name)).unwrap();
        std::fs::write(remote.join(&name).join("keep"), "x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&remote, std::fs::Permissions::from_mode(0o777)).unwrap();
        let ws = Workspace::new(20);
        ws.config(&config(&remote, ""));
        let (out, run) = ws.run_report("Partner Views");
        assert_eq!(out.code, 1, "{out:?}");
        let r = receipt(&run, "partner");
        assert_ne!(r["status"], "delivered", "{r}");
        assert_eq!(
            files_under(&remote),
            vec![format!("{name}/keep")],
            "no temporary file left: {r}"
        );
    }

    /// A TCP proxy on 127.0.0.1 to the test sshd that forwards everything until the
    /// client has sent `stall_after` bytes, then forwards nothing more (in either
    /// direction) while keeping the connections open. Its threads end with the test.
    fn stalling_proxy(stall_after: usize) -> u16 {
        let upstream = format!("127.0.0.1:{}", env("SFTP", "SSHD_PORT"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let mut server = TcpStream::connect(&upstream).unwrap();
                let (mut client_r, mut server_w) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let stalled = Arc::new(AtomicBool::new(false));
                let up = stalled.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    let mut total = 0;
                    while let Ok(n) = client_r.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        total += n;
                        if total > stall_after {
                            up.store(true, Ordering::SeqCst);
                            // Hold the connection open, forwarding nothing.
                            std::thread::sleep(Duration::from_secs(60));
                            break;
                        }
                        if server_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = server.read(&mut buf) {
                        if n == 0 || stalled.load(Ordering::SeqCst) {
                            break;
                        }
                        if client.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    std::thread::sleep(Duration::from_secs(60));
                });
            }
        });
        port
    }

    #[test]
    #[ignore = "needs test servers: scripts/test"]
    fn io_timeout_bounds_a_stalled_transfer() {
        let remote = remote_dir("stalled");
        let port = stalling_proxy(256 * 1024);
        let ws = Workspace::new(100_000);
        let size = expected_csv(100_000).len();
        assert!(size > 1024 * 1024, "{size}");
        // The proxy's port is not the one in known_hosts: accept its key into a new file.
        let known = ws.path().join("known_hosts");
        // One attempt, no retry within the run.
        let toml = config(
            &remote,
            &format!(
                "port = {port}\nknown_hosts = \"{}\"\naccept_new_host_key = true\nio_timeout_seconds = 2",
                known.display()
            ),
        );
        ws.config(&toml.replace("delivery_retries = 1", "delivery_retries = 0"));
        let start = Instant::now();
        let (out, run) = ws.run_report("Partner Views");
        let took = start.elapsed();
        assert_eq!(out.code, 1, "{out:?}");
        let r = receipt(&run, "partner");
        assert_ne!(r["status"], "delivered", "{r}");
        // The write times out after io_timeout_seconds (2 s); closing the remote file,
        // removing the temporary file and closing the session then wait at most half a
        // second each on the dead connection (about 3.5 s in all; they waited
        // io_timeout_seconds each before: about 10 s). The bound leaves room for
        // rendering the file on a loaded machine.
        assert!(took < Duration::from_secs(7), "took {took:?}: {r}");
        let detail = r["detail"].as_str().unwrap().to_ascii_lowercase();
        assert!(
            detail.ends_with(": writing: timed out waiting on socket"),
            "{detail}"
        );
        assert!(
            !files_under(&remote).contains(&file_name("Partner Views")),
            "no file under its final name"
        );
    }
}

// S3: `sse` is sent. The test server (s3s-fs) neither stores nor returns the encryption
// of an object, so the requests are read on their way to it, through a proxy that
// forwards bytes unchanged and keeps what the client sent.

mod s3 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    use crate::common::fixtures::*;
    use crate::common::servers::env;

    /// A TCP proxy on 127.0.0.1 to the test S3 server: its endpoint URL, and everything
    /// clients sent through it. Its threads end with the test process.
    fn recording_proxy() -> (String, Arc<Mutex<Vec<u8>>>) {
        let upstream = env("S3", "S3_ENDPOINT")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let mut server = TcpStream::connect(&upstream).unwrap();
                let (mut client_r, mut server_w) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let record = record.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = client_r.read(&mut buf) {
                        if n == 0 || server_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = server_w.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        (endpoint, sent)
    }

    /// Uploads one file with the destination settings `extra` through a recording proxy:
    /// the request lines and headers the client sent, lowercased.
    fn upload_with(extra: &str) -> String {
        let (endpoint, sent) = recording_proxy();
        let prefix = format!("sse{:x}/", rand_u32());
        let mut ws = Workspace::new(10);
        ws.secrets(&["S3"]);
        ws.config(&format!(
            "{}{}{}",
            settings(""),
            s3_dest(
                "bucket",
                &prefix,
                &format!("endpoint = \"{endpoint}\"\n{extra}")
            ),
            report("Bucket Views", &["bucket"], "")
        ));
        let (out, run) = ws.run_report("Bucket Views");
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(receipt(&run, "bucket")["status"], "delivered");
        let name = file_name("Bucket Views");
        let stored = std::path::PathBuf::from(env("S3", "S3_DATA"))
            .join(env("S3", "S3_BUCKET"))
            .join(&prefix)
            .join(&name);
        assert_eq!(std::fs::read(stored).unwrap(), expected_csv(10));
        let text = String::from_utf8_lossy(&sent.lock().unwrap()).to_ascii_lowercase();
        assert!(text.contains("put /"), "{text}");
        text
    }

    #[test]
    #[ignore = "needs test servers: scripts/test"]
    fn sse_is_sent_with_the_upload() {
        let none = upload_with("");
        assert!(!none.contains("x-amz-server-side-encryption"), "{none}");

        let aes = upload_with("sse = \"AES256\"");
        assert!(
            aes.contains("\r\nx-amz-server-side-encryption: aes256\r\n"),
            "{aes}"
        );

        let kms = upload_with("sse = \"aws:kms\"\nsse_kms_key_id = \"alias/Reports-Key\"");
        assert!(
            kms.contains("\r\nx-amz-server-side-encryption: aws:kms\r\n"),
            "{kms}"
        );
        assert!(
            kms.contains("\r\nx-amz-server-side-encryption-aws-kms-key-id: alias/reports-key\r\n"),
            "{kms}"
        );
    }
}
