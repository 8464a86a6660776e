//! The engine's promises when the process running a slot dies or stalls during
//! delivery, through the binary: the run's report goes to a directory (delivered
//! first) and by mail (delivered last) through an SMTP "server" in the test that
//! accepts connections and never answers, so the process is caught after the
//! directory's receipt and before the mail's. The wall clocks stand still (`run_at`):
//! the lease (60 s) expires between two calls, not on a race with the machine.
//!
//! - Killed there (SIGKILL), the slot is left alone while the lease lasts; after it, a
//!   takeover delivers the mail only: the directory's file is not written again.
//! - Stopped there (SIGSTOP) while another process takes the slot over, the first one,
//!   once it goes on, records nothing: the ledger is exactly what the takeover left.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::servers::env;
use crate::common::{command_at, fixtures, run, run_at, tempdir, write, Output};

/// The instant of the slot's run-due and of the first process's wall clock.
const NOW: &str = "2026-11-03T12:00:00Z";
/// One second before the first process's lease (60 s) expires.
const WITHIN: &str = "2026-11-03T12:00:59Z";
/// One second after.
const AFTER: &str = "2026-11-03T12:01:01Z";

fn config(smtp_port: u16, marker: &str) -> String {
    format!(
        r#"[settings]
timezone = "UTC"
lease_seconds = 60
delivery_retries = 0
retry_delay_seconds = 0

[settings.smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "reports@example.com"
timeout_seconds = 600

[sources.db]
kind = "sqlite"
init = ["data.sql"]

[destinations.out]
kind = "directory"
path = "out"

[destinations.mail]
kind = "email"
to = ["{marker}@example.com"]

[[reports]]
name = "Daily"
type = "D"
source = "db"
destinations = ["out", "mail"]
query = "SELECT n FROM t ORDER BY n"
[reports.schedule]
frequency = "daily"
at = "06:00"
"#
    )
}

/// A workspace whose report has been seen (so that the slot of `NOW` is due), its mail
/// going to `smtp_port`.
fn workspace(smtp_port: u16, marker: &str) -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "data.sql",
        "create table t(n integer);\ninsert into t values (1), (2);\n",
    );
    write(d, "reports.toml", &config(smtp_port, marker));
    let out = run_at(
        d,
        "2026-11-02T12:00:00Z",
        &["run-due", "--now", "2026-11-02T12:00:00Z"],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    dir
}

/// The one run of the ledger, as `history --json` shows it.
fn the_run(d: &Path) -> serde_json::Value {
    let out = run(d, &["history", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let runs = crate::common::json_lines(&out.stdout);
    assert_eq!(runs.len(), 1, "{out:?}");
    runs.into_iter().next().unwrap()
}

/// (destination, status, attempts) of each receipt of `run`, sorted.
fn receipts(run: &serde_json::Value) -> Vec<(String, String, i64)> {
    let mut list: Vec<_> = run["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["destination"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["attempts"].as_i64().unwrap(),
            )
        })
        .collect();
    list.sort();
    list
}

/// Starts `run-due` for the slot of `NOW` with its mail server `silent`, and returns it
/// once it has the directory's receipt and is waiting for the mail server's greeting,
/// with that connection (held open so that the process keeps waiting).
fn stalled_in_the_mail(d: &Path, silent: &TcpListener) -> (Child, TcpStream) {
    let mut child = command_at(d, NOW, &["run-due", "--now", NOW])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    silent.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let conn = loop {
        match silent.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accepting the mail connection: {e}"),
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "run-due ended ({status}) before connecting to the mail server: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "run-due never reached the mail");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Mail goes last: the directory's receipt is recorded before the connection.
    let run = the_run(d);
    assert_eq!(
        (run["status"].as_str(), run["attempts"].as_i64()),
        (Some("running"), Some(1)),
        "{run}"
    );
    assert_eq!(receipts(&run), [("out".into(), "delivered".into(), 1)]);
    (child, conn)
}

/// The one delivered file of `out`: (name, inode, modification time).
fn delivered(d: &Path) -> (String, u64, i64) {
    let entries: Vec<_> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(entries.len(), 1, "one file in out");
    let m = entries[0].metadata().unwrap();
    (
        entries[0].file_name().to_string_lossy().to_string(),
        m.ino(),
        m.mtime_nsec() + m.mtime() * 1_000_000_000,
    )
}

fn finish(child: Child) -> Output {
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn killed_during_delivery_the_takeover_delivers_only_the_rest() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let marker = format!("kill-{}", fixtures::rand_u32());
    let dir = workspace(silent.local_addr().unwrap().port(), &marker);
    let d = dir.path();
    let (mut a, _conn) = stalled_in_the_mail(d, &silent);
    let file = delivered(d);
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();

    // The mail server is back (the test servers' plain SMTP port).
    let port: u16 = env("SMTP", "SMTP_PLAIN_PORT").parse().unwrap();
    write(d, "reports.toml", &config(port, &marker));
    // While the lease lasts, nothing is done.
    let out = run_at(d, WITHIN, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(the_run(d)["status"], "running");

    // After it, the takeover delivers the mail only, and completes the slot.
    let out = run_at(d, AFTER, &["run-due", "--now", NOW, "--json"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let run = the_run(d);
    assert_eq!(
        (run["status"].as_str(), run["attempts"].as_i64()),
        (Some("completed"), Some(2)),
        "{run}"
    );
    assert_eq!(
        receipts(&run),
        [
            ("mail".into(), "delivered".into(), 1),
            ("out".into(), "delivered".into(), 1)
        ]
    );
    assert_eq!(
        delivered(d),
        file,
        "the directory's file is not written again"
    );
    let mails = fixtures::mails(&marker);
    assert_eq!(mails.len(), 1, "one mail");
    assert_eq!(mails[0].attachments.len(), 1);
    assert_eq!(mails[0].attachments[0].filename, file.0);

    // And never again.
    let out = run_at(d, AFTER, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(fixtures::mails(&marker).len(), 1);
}

#[test]
fn a_process_that_lost_its_claim_records_nothing() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = workspace(silent.local_addr().unwrap().port(), "lost");
    let d = dir.path();
    let (a, conn) = stalled_in_the_mail(d, &silent);
    let file = delivered(d);
    signal(&a, libc::SIGSTOP);

    // Another process takes the slot over after the lease; its mail fails at once (no
    // server on port 1), which it records: attempt 2, to be retried.
    write(d, "reports.toml", &config(1, "lost"));
    let out = run_at(d, AFTER, &["run-due", "--now", NOW]);
    assert_eq!(out.code, 1, "{out:?}");
    let after_takeover = the_run(d);
    assert_eq!(
        (
            after_takeover["status"].as_str(),
            after_takeover["attempts"].as_i64()
        ),
        (Some("failed"), Some(2)),
        "{after_takeover}"
    );
    assert_eq!(
        receipts(&after_takeover),
        [
            ("mail".into(), "failed".into(), 1),
            ("out".into(), "delivered".into(), 1)
        ]
    );

    // The first process goes on: its mail server hangs up, and it finds it has lost
    // the run. It says so and records nothing.
    signal(&a, libc::SIGCONT);
    drop(conn);
    drop(silent);
    let out = finish(a);
    let token = after_takeover["token"].as_str().unwrap();
    assert!(
        out.stderr.contains(&format!(
            "lost the claim on run {token}: another process took it over after the lease expired"
        )),
        "{out:?}"
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert_eq!(the_run(d), after_takeover, "the ledger is the takeover's");
    assert_eq!(delivered(d), file);
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}
