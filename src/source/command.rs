//! The external-command source: any engine with a command-line client (ClickHouse,
//! Trino, BigQuery, `psql`, `sqlite3`, …). The program runs without a shell; the
//! window reaches it as environment variables and as whole-argument placeholders,
//! never spliced into a longer argument:
//!
//! | placeholder argument | environment variable | value |
//! |---|---|---|
//! | `{from}`, `{to}`, `{from_local}`, … | `REPORTCTL_FROM`, `REPORTCTL_TO`, `REPORTCTL_FROM_LOCAL`, … | the window parameters, as text |
//! | `{query}` | `REPORTCTL_QUERY` | the output's query text |
//! | `{report}` | `REPORTCTL_REPORT` | the report's name |
//! | `{type}` | `REPORTCTL_TYPE` | the output's type |
//!
//! It runs in the configuration file's directory, so that relative paths in `args`
//! mean what relative paths mean everywhere else in the configuration.
//! The query text is also written to its stdin (then closed), for clients that read
//! the query there (`psql -f -`, which then expands `:'from'` after `\getenv`).
//! Its stdout must be CSV with a header row; it is parsed as it arrives and re-rendered
//! with the report's CSV options (empty fields are NULL). Its stderr is kept (the last
//! 64 KiB, every known secret value redacted) for the error detail. A non-zero exit, a malformed CSV or the timeout fail
//! the run; on timeout the command's whole process group is killed.
//!
//! The command never outlives reportctl: its process group is led by a small guard
//! process (see [`guard`]) that kills the whole group, grandchildren included, when
//! reportctl ends in any way (SIGTERM, SIGHUP, SIGINT, SIGKILL, a crash).

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use super::{Cell, Column, ColumnType, RowSink, WindowParams};
pub use crate::config::names::{allowed_placeholders, placeholder, OTHER_PLACEHOLDERS};
use crate::config::{CommandSource, EnvValue, Output, Report};

/// How much of the command's stderr is kept.
const STDERR_TAIL: usize = 64 * 1024;

/// Runs the command for one output and streams its CSV into `sink`.
pub fn query(
    source: &CommandSource,
    dir: &Path,
    report: &Report,
    output: &Output,
    params: &WindowParams,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let mut cmd = command(source, dir, report, output, params)?;
    let program = &source.program;
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting the command {program}"))?;
    // The query also goes to stdin (`psql -f -`, `clickhouse-client`, `bq query`),
    // from a thread of its own so that a command that does not read it cannot block us.
    let mut stdin = child.stdin.take().expect("piped");
    let query_text = output.query.clone();
    let feeder = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, query_text.as_bytes());
    });
    let stdout = child.stdout.take().expect("piped");
    let stderr = StderrTail::start(child.stderr.take().expect("piped"));
    let watchdog = Watchdog::start(child.id(), source.timeout);

    let parsed = read_csv(stdout, sink);
    if parsed.is_err() {
        // Whatever it is still doing is of no use now.
        kill_group(child.id());
    }
    let status = wait(&mut child);
    let _ = feeder.join();
    let timed_out = watchdog.stop();
    let tail = stderr.finish();
    let with_stderr = |msg: String| {
        if tail.is_empty() {
            anyhow!("{msg}")
        } else {
            anyhow!("{msg}; its stderr ends with:\n{tail}")
        }
    };
    if timed_out {
        return Err(with_stderr(format!(
            "the command {program} ran longer than timeout_seconds = {} and was killed",
            source.timeout.as_secs()
        )));
    }
    let status = status?;
    // After bad output we kill the command ourselves: then its status says nothing, and
    // the output's problem is the cause. Otherwise a failing command's own exit status is.
    let killed_by_us = parsed.is_err() && status.signal() == Some(libc::SIGKILL);
    if !status.success() && !killed_by_us {
        let how = match (status.code(), status.signal()) {
            (Some(c), _) => format!("exited with status {c}"),
            (None, Some(s)) => format!("was killed by signal {s}"),
            _ => "failed".to_string(),
        };
        return Err(with_stderr(format!("the command {program} {how}")));
    }
    parsed.map_err(|e| with_stderr(format!("the command {program}: {e:#}")))
}

/// The command to start: its arguments with the placeholders filled in, the window and
/// the query in its environment (with the source's own variables, secrets resolved),
/// pipes for all three streams, in a process group of its own led by the guard.
fn command(
    source: &CommandSource,
    dir: &Path,
    report: &Report,
    output: &Output,
    params: &WindowParams,
) -> Result<Command> {
    let window = params.as_text();
    let value_of = |name: &str| -> Option<String> {
        match name {
            "query" => Some(output.query.clone()),
            "report" => Some(report.name.clone()),
            "type" => Some(output.kind.clone()),
            _ => window
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone()),
        }
    };
    let mut cmd = Command::new(&source.program);
    cmd.current_dir(dir);
    for arg in &source.args {
        match placeholder(arg).and_then(value_of) {
            Some(v) => cmd.arg(v),
            None => cmd.arg(arg),
        };
    }
    for (name, value) in &window {
        cmd.env(format!("REPORTCTL_{}", name.to_ascii_uppercase()), value);
    }
    cmd.env("REPORTCTL_QUERY", &output.query)
        .env("REPORTCTL_REPORT", &report.name)
        .env("REPORTCTL_TYPE", &output.kind);
    for (name, value) in &source.env {
        let v = match value {
            EnvValue::Plain(v) => v.clone(),
            EnvValue::Secret(s) => s
                .resolve()
                .map_err(|e| anyhow!("env.{name}: {e}"))?
                .expose()
                .to_string(),
        };
        cmd.env(name, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (see `guard::install`).
    unsafe {
        cmd.pre_exec(move || guard::install(parent));
    }
    Ok(cmd)
}

fn wait(child: &mut Child) -> Result<std::process::ExitStatus> {
    child.wait().context("waiting for the command")
}

/// Parses CSV with a header from `input` into `sink`, one record at a time.
fn read_csv(input: impl Read, sink: &mut dyn RowSink) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let bad = |e: csv::Error| -> anyhow::Error {
        let line = e.position().map(|p| p.line());
        let what = match e.into_kind() {
            csv::ErrorKind::Utf8 { err, .. } => {
                format!("field {} is not valid UTF-8", err.field() + 1)
            }
            csv::ErrorKind::Io(e) => format!("reading its output: {e}"),
            other => format!("{other:?}"),
        };
        match line {
            Some(l) => anyhow!("its output is not valid CSV: line {l}: {what}"),
            None => anyhow!("its output is not valid CSV: {what}"),
        }
    };
    if !reader.read_record(&mut record).map_err(bad)? {
        bail!("it printed nothing; its output must be CSV with a header row");
    }
    let names: Vec<String> = record.iter().map(str::to_string).collect();
    let columns: Vec<Column<'_>> = names
        .iter()
        .map(|name| Column {
            name,
            ty: ColumnType::Text,
        })
        .collect();
    sink.columns(&columns)?;
    let mut row: u64 = 0;
    while reader.read_record(&mut record).map_err(bad)? {
        row += 1;
        if record.len() != names.len() {
            let line = record.position().map_or(0, |p| p.line());
            bail!(
                "its output is not valid CSV: line {line} has {} fields, the header has {}",
                record.len(),
                names.len()
            );
        }
        for (i, field) in record.iter().enumerate() {
            let cell = if field.is_empty() {
                Cell::Null
            } else {
                Cell::Text(field)
            };
            sink.cell(cell)
                .with_context(|| format!("row {row}, column \"{}\"", names[i]))?;
        }
        sink.end_row()?;
    }
    Ok(())
}

mod guard {
    //! The guard: after `fork`, the child (leader of the command's new process group)
    //! forks again. The grandchild goes on to exec the program; the child stays behind as
    //! the guard. The guard asks the kernel for SIGTERM when reportctl dies
    //! (`PR_SET_PDEATHSIG`), waits for that or for the program to exit, and then either
    //! kills the whole process group or exits the way the program did (the same exit
    //! status, or the same signal), so that reportctl sees the program's own status.
    //! Only async-signal-safe calls are made here (we are in a fork of a threaded process).

    use std::io;

    /// Runs in the child between fork and exec; returns only in the program's process.
    pub fn install(parent: libc::pid_t) -> io::Result<()> {
        // SAFETY: plain system calls on local, initialised values; no allocation.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGCHLD] {
                libc::sigaddset(&mut set, sig);
            }
            libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                // reportctl died before the request took effect.
                libc::_exit(1);
            }
            let program = libc::fork();
            if program < 0 {
                return Err(io::Error::last_os_error());
            }
            if program == 0 {
                // The program: dies with its guard, and starts with the usual mask.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
                return Ok(());
            }
            watch(program, &set)
        }
    }

    /// The guard's loop; never returns.
    unsafe fn watch(program: libc::pid_t, set: &libc::sigset_t) -> ! {
        // The pipes belong to the program: reportctl must see them close when it ends.
        // Nor may the guard keep reportctl's other descriptors (it never execs, so
        // close-on-exec does not apply): another command's stdin, the ledger, sockets.
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
            let mut limit: libc::rlimit = std::mem::zeroed();
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                limit.rlim_cur.min(65_536) as libc::c_int
            } else {
                1024
            };
            for fd in 0..max {
                libc::close(fd);
            }
        }
        let tick = libc::timespec {
            tv_sec: 0,
            tv_nsec: 200_000_000,
        };
        loop {
            let sig = libc::sigtimedwait(set, std::ptr::null_mut(), &tick);
            if matches!(sig, libc::SIGTERM | libc::SIGHUP | libc::SIGINT) {
                // reportctl is gone (or someone wants the command gone): all of it.
                libc::kill(0, libc::SIGKILL);
                libc::_exit(1);
            }
            let mut status = 0;
            if libc::waitpid(program, &mut status, libc::WNOHANG) == program {
                if libc::WIFEXITED(status) {
                    libc::_exit(libc::WEXITSTATUS(status));
                }
                if libc::WIFSIGNALED(status) {
                    let sig = libc::WTERMSIG(status);
                    libc::signal(sig, libc::SIG_DFL);
                    let mut one: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut one);
                    libc::sigaddset(&mut one, sig);
                    libc::sigprocmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
                    libc::kill(libc::getpid(), sig);
                    libc::_exit(128 + sig);
                }
            }
        }
    }
}

fn kill_group(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals the process group the child leads
    // (it was started with process_group(0)); no memory is involved.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// Kills the command's process group when the timeout passes.
struct Watchdog {
    stop: mpsc::Sender<()>,
    fired: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Watchdog {
    fn start(pid: u32, timeout: Duration) -> Watchdog {
        let (stop, rx) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let thread = std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
                flag.store(true, Ordering::SeqCst);
                kill_group(pid);
            }
        });
        Watchdog {
            stop,
            fired,
            thread,
        }
    }

    /// Stops watching; whether the timeout had fired.
    fn stop(self) -> bool {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        self.fired.load(Ordering::SeqCst)
    }
}

/// Keeps the last `STDERR_TAIL` bytes of the command's stderr.
struct StderrTail(JoinHandle<(Vec<u8>, bool)>);

impl StderrTail {
    fn start(mut stderr: impl Read + Send + 'static) -> StderrTail {
        StderrTail(std::thread::spawn(move || {
            let mut kept: Vec<u8> = Vec::new();
            let mut cut = false;
            let mut buf = [0u8; 8192];
            loop {
                match stderr.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        kept.extend_from_slice(&buf[..n]);
                        if kept.len() > 2 * STDERR_TAIL {
                            kept.drain(..kept.len() - STDERR_TAIL);
                            cut = true;
                        }
                    }
                }
            }
            if kept.len() > STDERR_TAIL {
                kept.drain(..kept.len() - STDERR_TAIL);
                cut = true;
            }
            (kept, cut)
        }))
    }

    /// The kept text, trimmed, with every known secret value redacted (a program may
    /// print its environment). Waits for the stream to close (the command and any
    /// process it left behind have exited or been killed).
    fn finish(self) -> String {
        crate::redact::text(&self.finish_unredacted())
    }

    /// The kept text, trimmed; a first line that lost its beginning is dropped.
    fn finish_unredacted(self) -> String {
        let (bytes, cut) = self.0.join().unwrap_or_default();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if cut {
            // The first line lost its beginning, perhaps part of a secret: drop it.
            text = text
                .split_once('\n')
                .map_or(String::new(), |(_, rest)| rest.to_string());
        }
        text.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<String>);
    impl RowSink for Collect {
        fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
            let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
            self.0.push(names.join("|"));
            Ok(())
        }
        fn cell(&mut self, value: Cell<'_>) -> Result<()> {
            self.0.push(format!("{value:?}"));
            Ok(())
        }
        fn end_row(&mut self) -> Result<()> {
            self.0.push("/".into());
            Ok(())
        }
    }

    #[test]
    fn csv_with_header_becomes_cells() {
        let mut c = Collect::default();
        read_csv("a,b\n1,\"x, y\"\n,\"\"\"q\"\"\"\n".as_bytes(), &mut c).unwrap();
        assert_eq!(
            c.0,
            [
                "a|b",
                "Text(\"1\")",
                "Text(\"x, y\")",
                "/",
                "Null",
                "Text(\"\\\"q\\\"\")",
                "/"
            ]
        );
    }

    #[test]
    fn malformed_csv_is_explained() {
        let err = |s: &[u8]| {
            read_csv(s, &mut Collect::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(b"a,b\n1,2\n3\n"),
            "its output is not valid CSV: line 3 has 1 fields, the header has 2"
        );
        assert_eq!(
            err(b""),
            "it printed nothing; its output must be CSV with a header row"
        );
        assert_eq!(
            err(b"a\n\xff\n"),
            "its output is not valid CSV: line 2: field 1 is not valid UTF-8"
        );
    }

    #[test]
    fn a_cut_stderr_tail_loses_its_partial_first_line() {
        let mut text = String::from("password=unit-tail-partial\n");
        while text.len() < 3 * STDERR_TAIL {
            text.push_str("0123456789abcdef\n");
        }
        text.push_str("the end");
        // Unredacted: other tests of this process register secrets of their own.
        let tail = StderrTail::start(std::io::Cursor::new(text.into_bytes())).finish_unredacted();
        assert!(tail.len() <= STDERR_TAIL);
        assert!(tail.starts_with("0123456789abcdef\n"), "{}", &tail[..40]);
        assert!(tail.ends_with("\nthe end"));
        let whole = StderrTail::start(std::io::Cursor::new(b"a\nb\n".to_vec())).finish_unredacted();
        assert_eq!(whole, "a\nb");
    }

    #[test]
    fn placeholders_are_whole_arguments() {
        assert_eq!(placeholder("{from}"), Some("from"));
        assert_eq!(placeholder("--from={from}"), None);
        assert!(allowed_placeholders().starts_with("{from}, {to}, "));
        assert!(allowed_placeholders().ends_with("{query}, {report}, {type}"));
    }
}
