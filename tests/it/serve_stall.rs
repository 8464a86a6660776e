//! `reportctl serve` against clients that hold connections: downloads the client stops
//! reading (closed after `send_timeout_seconds`), connections that send nothing (closed
//! after `idle_timeout_seconds`), too many connections from one address (a 429 once
//! `max_connections_per_client` are open), and `/healthz` while many stalled downloads
//! from many addresses are held. The clients bind source addresses across 127.0.0.0/8,
//! which Linux allows on the loopback interface.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use crate::common::pickup_serve::{pickup_store, Server, API_KEY};

impl Server {
    /// Waits up to `limit` for a log line containing `needle`.
    fn wait_for_log(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// The path and query of the report's signed download link.
    fn download_path(&self) -> (String, u64) {
        let (status, text) = exchange(
            connect_from(Ipv4Addr::LOCALHOST, self.addr, None),
            &format!(
                "GET /reports/Big_Export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert_eq!(status, 200, "{text}");
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let link = &v["links"][0];
        let url = link["url"].as_str().unwrap();
        let path = url[url.find("/download/").unwrap()..].to_string();
        (path, link["bytes"].as_u64().unwrap())
    }
}

/// A TCP connection to `to` from the source address `from` (any of 127.0.0.0/8), with a
/// small receive buffer when `rcvbuf` is given, so that a client that reads nothing
/// stalls the server's writes early.
fn connect_from(from: Ipv4Addr, to: SocketAddr, rcvbuf: Option<i32>) -> TcpStream {
    fn sockaddr(ip: Ipv4Addr, port: u16) -> libc::sockaddr_in {
        let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_port = port.to_be();
        sa.sin_addr.s_addr = u32::from(ip).to_be();
        sa
    }
    let SocketAddr::V4(to) = to else {
        panic!("IPv4 only")
    };
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = TcpStream::from_raw_fd(fd);
        if let Some(size) = rcvbuf {
            let r = libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&size as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
            assert_eq!(r, 0, "SO_RCVBUF: {}", std::io::Error::last_os_error());
        }
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let src = sockaddr(from, 0);
        let r = libc::bind(fd, (&src as *const libc::sockaddr_in).cast(), len);
        assert_eq!(r, 0, "bind {from}: {}", std::io::Error::last_os_error());
        let dst = sockaddr(*to.ip(), to.port());
        let r = libc::connect(fd, (&dst as *const libc::sockaddr_in).cast(), len);
        assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
        stream
    }
}

/// Writes a request and reads until the server closes: the status and everything read.
fn exchange(mut s: TcpStream, head: &str) -> (u16, String) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn healthz(from: Ipv4Addr, to: SocketAddr) -> (u16, String) {
    exchange(
        connect_from(from, to, None),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
}

/// Reads until the server closes or resets the connection: the bytes read.
fn drain(s: &mut TcpStream) -> usize {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("reading: {e} after {total} bytes"),
        }
    }
}

#[test]
fn a_stalled_download_is_closed_after_the_send_timeout() {
    let dir = pickup_store(10 * 1024, "send_timeout_seconds = 1");
    let server = Server::start(dir.path());
    let (path, size) = server.download_path();
    assert!(size > 10_000_000, "{size}");
    let mut s = connect_from(Ipv4Addr::LOCALHOST, server.addr, Some(4096));
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    // The client reads nothing: the server gives up after a second.
    let closed = server.wait_for_log(
        "closed the connection: the client read nothing for 1s (send_timeout_seconds)",
        Duration::from_secs(10),
    );
    assert!(closed, "{:#?}", server.log());
    // What the client reads now ends short of the file.
    let got = drain(&mut s);
    assert!(got < size as usize, "read {got} of {size} bytes");
    // The server goes on serving.
    assert_eq!(healthz(Ipv4Addr::LOCALHOST, server.addr).0, 200);
    // A client that reads gets the whole file.
    let mut s = connect_from(Ipv4Addr::LOCALHOST, server.addr, None);
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let got = drain(&mut s);
    assert!(
        got > size as usize,
        "read {got} of {size} bytes and headers"
    );
}

#[test]
fn a_download_read_slowly_is_not_cut_off() {
    let dir = pickup_store(10 * 1024, "send_timeout_seconds = 1");
    let server = Server::start(dir.path());
    let (path, _) = server.download_path();
    let mut s = connect_from(Ipv4Addr::LOCALHOST, server.addr, Some(4096));
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A few KiB every 100 ms for 4 s: far less than the server's socket buffer, so its
    // writes wait all along, but the client keeps reading.
    let start = Instant::now();
    let mut buf = [0u8; 8192];
    let mut got = 0;
    while start.elapsed() < Duration::from_secs(4) {
        let n = s.read(&mut buf).expect("the download goes on");
        assert!(n > 0, "closed after {got} bytes, {:?}", start.elapsed());
        got += n;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !server
            .log()
            .iter()
            .any(|l| l.contains("closed the connection")),
        "{:#?}",
        server.log()
    );
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let dir = pickup_store(
        1024,
        "request_timeout_seconds = 20\nidle_timeout_seconds = 1",
    );
    let server = Server::start(dir.path());
    // A connection that never sends anything.
    let mut s = connect_from(Ipv4Addr::LOCALHOST, server.addr, None);
    let start = Instant::now();
    assert_eq!(drain(&mut s), 0);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    // A keep-alive connection after its answer.
    let mut s = connect_from(Ipv4Addr::LOCALHOST, server.addr, None);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.read_to_end(&mut buf);
    let waited = start.elapsed();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.ends_with("\r\n\r\nok\n"), "{text}");
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

#[test]
fn a_client_address_over_its_limit_gets_a_429_while_others_are_served() {
    let dir = pickup_store(
        1,
        "max_connections_per_client = 2\nidle_timeout_seconds = 30",
    );
    let server = Server::start(dir.path());
    let a = Ipv4Addr::new(127, 0, 0, 1);
    let b = Ipv4Addr::new(127, 0, 0, 2);
    let held = [
        connect_from(a, server.addr, None),
        connect_from(a, server.addr, None),
    ];
    // Both held connections are open before the third arrives: the server answers them.
    for s in &held {
        let mut s = s;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 512];
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
    }
    let start = Instant::now();
    let (status, text) = healthz(a, server.addr);
    assert_eq!(status, 429, "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
    assert!(text.contains("\r\nretry-after: 1\r\n"), "{text}");
    let rid = text
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        body,
        serde_json::json!({"error": {
            "attribute": "connection",
            "message": "Too many connections from 127.0.0.1: at most 2 may be open at once; close one or try again later",
            "type": "TOO MANY REQUESTS",
            "request_id": rid,
        }})
        .to_string()
    );
    // Another address is served meanwhile.
    assert_eq!(healthz(b, server.addr).0, 200);
    // Once one of the two closes, the address is served again.
    drop(held);
    let start = Instant::now();
    loop {
        let (status, _) = healthz(a, server.addr);
        if status == 200 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "still {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The log line is read from serve's stderr by another thread: wait for it.
    assert!(
        server.wait_for_log(
            "(too many connections from this address)",
            Duration::from_secs(5)
        ),
        "{:#?}",
        server.log()
    );
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("\"GET /healthz\" 429 ")
                && l.contains("(too many connections from this address)")),
        "{:#?}",
        server.log()
    );
}

#[test]
fn healthz_answers_while_stalled_downloads_are_held() {
    const STALLED: usize = 200;
    let dir = pickup_store(8 * 1024, "send_timeout_seconds = 60");
    let server = Server::start(dir.path());
    let (path, _) = server.download_path();
    assert_eq!(healthz(Ipv4Addr::LOCALHOST, server.addr).0, 200);
    let before = server.rss_kib();
    // Downloads from 127.0.1.1, 127.0.1.2, …, each client reading only the first bytes.
    let mut held = Vec::new();
    for i in 0..STALLED {
        let from = Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
        let mut s = connect_from(from, server.addr, Some(4096));
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut first = [0u8; 16];
        s.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 200 OK\r");
        held.push(s);
    }
    let mut took: Vec<Duration> = (0..50)
        .map(|i| {
            let start = Instant::now();
            let (status, text) = healthz(Ipv4Addr::new(127, 0, 2, 1 + i), server.addr);
            assert_eq!(status, 200, "{text}");
            start.elapsed()
        })
        .collect();
    took.sort();
    assert!(took[25] < Duration::from_millis(100), "{took:?}");
    assert!(took[49] < Duration::from_secs(1), "{took:?}");
    // Every stalled download holds a bounded piece of the file, not the file.
    let grown = server.rss_kib().saturating_sub(before);
    assert!(
        grown < (STALLED as u64) * 256,
        "{grown} KiB more for {STALLED} stalled downloads"
    );
    drop(held);
}
