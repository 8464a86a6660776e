//! What one connection may hold, and for how long:
//!
//! - [`Guarded`] wraps the socket: a write the client does not take for
//!   `send_timeout_seconds` fails the connection (a stalled download), and a connection
//!   with no request in progress that receives nothing for `idle_timeout_seconds` is
//!   closed (an idle keep-alive connection, or one that never sends a request);
//! - [`PerClient`] counts open connections by client address, for
//!   `max_connections_per_client`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Requests of one connection whose response has not started yet: while one is being
/// answered, the connection is not idle even if no byte moves.
#[derive(Debug, Default)]
pub struct Busy(AtomicUsize);

impl Busy {
    /// Marks a request in progress until the returned guard is dropped.
    pub fn enter(self: &Arc<Self>) -> BusyGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        BusyGuard(self.clone())
    }

    fn is_busy(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

pub struct BusyGuard(Arc<Busy>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why [`Guarded`] ended a connection, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    SendTimeout,
    Idle,
}

/// A TCP connection with a send timeout and an idle timeout (see the module docs).
pub struct Guarded {
    inner: TcpStream,
    send_timeout: Duration,
    idle_timeout: Duration,
    busy: Arc<Busy>,
    /// Set while a write waits for the client to take data, with what the socket still
    /// had to send when the wait (re)started.
    send_deadline: Option<(Pin<Box<Sleep>>, Option<u32>)>,
    idle: Pin<Box<Sleep>>,
    last_activity: Instant,
    ended: Arc<Mutex<Option<Ended>>>,
}

impl Guarded {
    pub fn new(
        inner: TcpStream,
        send_timeout: Duration,
        idle_timeout: Duration,
        busy: Arc<Busy>,
    ) -> Guarded {
        let now = Instant::now();
        Guarded {
            inner,
            send_timeout,
            idle_timeout,
            busy,
            send_deadline: None,
            idle: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
            last_activity: now,
            ended: Arc::new(Mutex::new(None)),
        }
    }

    /// Where the connection says why it ended, if a timeout ended it.
    pub fn ended(&self) -> Arc<Mutex<Option<Ended>>> {
        self.ended.clone()
    }

    fn end(&mut self, why: Ended) {
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        if why == Ended::SendTimeout {
            // Unsent data would keep the socket in the kernel after close: reset instead.
            let _ = self.inner.set_zero_linger();
        }
    }

    fn wrote(&mut self, n: usize) {
        if n > 0 {
            self.last_activity = Instant::now();
        }
        let Some((_, then)) = &mut self.send_deadline else {
            return;
        };
        match (*then, unsent(&self.inner)) {
            // The socket took the bytes but the client acknowledged none (memory other
            // connections freed, say): the client still reads nothing.
            (Some(a), Some(b)) if u64::from(b) >= u64::from(a) + n as u64 => *then = Some(b),
            _ => self.send_deadline = None,
        }
    }

    /// A write that cannot go on: pending until the client has read nothing for the
    /// send timeout, then an error. The socket's send buffer can hold megabytes: a
    /// client that reads slowly may leave no room for the next write for longer than
    /// the timeout, but the bytes the socket still has to send go down as it reads.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.send_timeout;
        if self.send_deadline.is_none() {
            let unsent = unsent(&self.inner);
            self.send_deadline = Some((Box::pin(tokio::time::sleep(timeout)), unsent));
        }
        loop {
            let (deadline, then) = self.send_deadline.as_mut().expect("set above");
            if deadline.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = unsent(&self.inner);
            match (*then, now) {
                (Some(a), Some(b)) if b < a => {
                    // The client read some: wait again.
                    *then = now;
                    deadline.as_mut().reset(Instant::now() + timeout);
                }
                _ => break,
            }
        }
        self.end(Ended::SendTimeout);
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client read nothing for send_timeout_seconds",
        )))
    }
}

/// The bytes a TCP socket has not yet had acknowledged by the client (`SIOCOUTQ`).
#[cfg(target_os = "linux")]
fn unsent(s: &TcpStream) -> Option<u32> {
    use std::os::fd::AsRawFd as _;
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int through the pointer.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    (r == 0).then_some(n as u32)
}

#[cfg(not(target_os = "linux"))]
fn unsent(_: &TcpStream) -> Option<u32> {
    None
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.last_activity = Instant::now();
                }
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {}
        }
        // Not idle while a request is answered or a write waits (the send timeout
        // covers that).
        if this.busy.is_busy() || this.send_deadline.is_some() {
            return Poll::Pending;
        }
        let deadline = this.last_activity + this.idle_timeout;
        if this.idle.deadline() != deadline {
            this.idle.as_mut().reset(deadline);
        }
        match this.idle.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.end(Ended::Idle);
                // The end of the stream: the server closes the connection.
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.stalled(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.stalled(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Open connections by client address.
#[derive(Debug)]
pub struct PerClient {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerClient {
    pub fn new(limit: usize) -> Arc<PerClient> {
        Arc::new(PerClient {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one more connection from `ip`, or `None` when `ip` already has `limit`
    /// open.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            ip,
            of: self.clone(),
        })
    }

    #[cfg(test)]
    fn count(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap();
        open.get(&ip).copied().unwrap_or(0)
    }
}

/// One open connection counted in [`PerClient`], until dropped.
pub struct ClientSlot {
    ip: IpAddr,
    of: Arc<PerClient>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_counts_and_forgets() {
        let pc = PerClient::new(2);
        let a: IpAddr = "127.0.1.1".parse().unwrap();
        let b: IpAddr = "127.0.1.2".parse().unwrap();
        let s1 = pc.admit(a).unwrap();
        let s2 = pc.admit(a).unwrap();
        assert!(pc.admit(a).is_none());
        let s3 = pc.admit(b).unwrap();
        drop(s1);
        assert_eq!(pc.count(a), 1);
        let s4 = pc.admit(a).unwrap();
        drop((s2, s3, s4));
        assert!(pc.open.lock().unwrap().is_empty());
    }

    #[test]
    fn busy_guards_nest() {
        let b = Arc::new(Busy::default());
        assert!(!b.is_busy());
        let g1 = b.enter();
        let g2 = b.enter();
        drop(g1);
        assert!(b.is_busy());
        drop(g2);
        assert!(!b.is_busy());
    }
}
