//! Regressions of the command source and its neighbours, through the binary: secrets
//! a program echoes never reach any output or the ledger; NUL bytes in text cells.

use std::path::Path;

use crate::common::{command, tempdir, write, Output};

/// Runs reportctl in `dir` with extra environment variables.
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run reportctl");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Every byte of every file under `dir`, for grepping.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

const SOURCE_SECRET: &str = "cmd-src-s3cr3t-value-81";
const SFTP_SECRET: &str = "sftp-pw-n0t-used-yet-27";

/// A daily report whose command prints its secret env var, and a secret it inherited
/// from reportctl's environment (the SFTP destination's password), on stderr and fails.
const ECHOING: &str = r#"[settings]
timezone = "UTC"

[sources.cmd]
kind = "command"
program = "sh"
args = ["-c", "echo \"connecting with password $DB_PASSWORD\" >&2; echo \"inherited $RCTL_REGRESS_SFTP_PW\" >&2; exit 3"]
env = { DB_PASSWORD = { env = "RCTL_REGRESS_DB_PW" } }

[destinations.out]
kind = "directory"
path = "out"

[destinations.partner]
kind = "sftp"
host = "127.0.0.1"
port = 1
user = "acme"
path = "/incoming"
accept_new_host_key = true
known_hosts = "known_hosts"
password = { env = "RCTL_REGRESS_SFTP_PW" }

[[reports]]
name = "Daily"
type = "EVENTS"
source = "cmd"
destinations = ["out", "partner"]
query = "SELECT 1"
[reports.schedule]
frequency = "daily"
at = "06:00"
"#;

#[test]
fn a_secret_the_command_echoes_is_redacted_everywhere() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "reports.toml", ECHOING);
    let env = [
        ("RCTL_REGRESS_DB_PW", SOURCE_SECRET),
        ("RCTL_REGRESS_SFTP_PW", SFTP_SECRET),
    ];
    // The first run-due only notes the report; the next finds the 06:00 slot due.
    let first = run_env(d, &["run-due", "--now", "2026-11-02T05:00:00Z"], &env);
    assert_eq!(first.code, 0, "{first:?}");
    let mut seen = Vec::new();
    let out = run_env(
        d,
        &["run-due", "--json", "--now", "2026-11-02T07:00:00Z"],
        &env,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("connecting with password [redacted]\ninherited [redacted]"),
        "{out:?}"
    );
    assert!(out.stdout.contains("[redacted]"), "{out:?}");
    seen.push(("run-due --json", out));
    let token = {
        let out = run_env(d, &["history", "--json"], &env);
        let v: serde_json::Value =
            serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
        v["token"].as_str().unwrap().to_string()
    };
    for args in [
        vec!["history"],
        vec!["history", "--json"],
        vec!["status", token.as_str()],
        vec!["status", token.as_str(), "--json"],
        vec!["run", "Daily", "--from", "2026-10-01", "--to", "2026-10-01"],
        vec![
            "run",
            "Daily",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-01",
            "--json",
        ],
        vec![
            "run",
            "Daily",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-01",
            "--output",
            "-",
        ],
    ] {
        let out = run_env(d, &args, &env);
        seen.push((args[0], out));
    }
    for (what, out) in &seen {
        for secret in [SOURCE_SECRET, SFTP_SECRET] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "{what} shows a secret: {out:?}"
            );
        }
    }
    // The ledger (and its WAL), read raw.
    let files = all_bytes(&d.join(".reportctl"));
    assert!(files.iter().any(|(n, _)| n.ends_with("ledger.sqlite")));
    for (name, bytes) in &files {
        for secret in [SOURCE_SECRET, SFTP_SECRET] {
            assert!(!contains(bytes, secret), "{name} holds a secret");
        }
        assert!(!contains(bytes, "s3cr3t"), "{name} holds part of a secret");
    }
}

/// A report on an SQLite database whose second row's name holds a NUL byte.
const NUL_REPORT: &str = r#"[settings]
timezone = "UTC"

[sources.db]
kind = "sqlite"
path = "names.db"

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Names"
type = "NAMES"
source = "db"
destinations = ["out"]
query = "SELECT id, name FROM names ORDER BY id"
[reports.schedule]
frequency = "daily"
"#;

#[test]
fn a_nul_byte_in_a_text_cell_fails_the_run_naming_report_output_row_and_column() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "reports.toml", NUL_REPORT);
    let conn = rusqlite::Connection::open(d.join("names.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE names (id INTEGER, name TEXT);
         INSERT INTO names VALUES (1, 'plain'), (2, 'bad' || char(0) || 'name');",
    )
    .unwrap();
    drop(conn);
    let args = [
        "run",
        "Names",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-01",
        "--output",
        "-",
    ];
    let out = run_env(d, &args, &[]);
    // Streamed to stdout, the rows before the bad one are out already; never the NUL.
    assert!(!out.stdout.contains('\0'), "{out:?}");
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            1,
            "reportctl: error: report \"Names\", output NAMES: source \"db\": row 2, column \"name\": \
             the text holds a NUL character (byte 0), which CSV readers mishandle (many cut the \
             text there); remove it in the query (in SQLite: replace(name, char(0), ''))\n"
        ),
        "{out:?}"
    );
    // Through the ledger too: the run fails and no file is delivered.
    let out = run_env(d, &args[..6], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("row 2, column \"name\": the text holds a NUL character"),
        "{out:?}"
    );
    assert!(!d.join("out").exists() || std::fs::read_dir(d.join("out")).unwrap().next().is_none());
}

/// A report whose command starts a shell that writes its PID, starts a `sleep` (a
/// grandchild) that writes its PID too, and waits.
const SLEEPER: &str = r#"[settings]
timezone = "UTC"

[sources.cmd]
kind = "command"
program = "sh"
args = ["-c", "echo $$ > child.pid.tmp && mv child.pid.tmp child.pid; sleep 300 & echo $! > grandchild.pid.tmp && mv grandchild.pid.tmp grandchild.pid; wait"]
timeout_seconds = 600

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Sleeper"
type = "EVENTS"
source = "cmd"
destinations = ["out"]
query = "SELECT 1"
[reports.schedule]
frequency = "daily"
"#;

/// Polls `cond` every 20 ms for at most 10 s.
fn poll(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Field `n` (1-based, after the command name) of /proc/PID/stat: 3 is the state,
/// 5 the process group.
fn stat_field(pid: i32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(n - 3).map(str::to_string)
}

/// Whether a process is running (a zombie waiting for its reaper counts as gone).
fn running(pid: i32) -> bool {
    stat_field(pid, 3).is_some_and(|s| s != "Z" && s != "X")
}

/// Processes of process group `pgid` that are still running.
fn group_members(pgid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&p| stat_field(p, 5).as_deref() == Some(pgid.to_string().as_str()) && running(p))
        .collect()
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Starts a run of the sleeper report, waits for its shell and `sleep`, sends `signal`
/// to reportctl and checks that the command's whole process group goes.
fn killing_reportctl_ends_the_command(signal: i32) {
    let dir = tempdir();
    let d = dir.path();
    write(d, "reports.toml", SLEEPER);
    let mut child = command(
        d,
        &[
            "run",
            "Sleeper",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-01",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    poll("the command's PIDs", || {
        d.join("child.pid").exists() && d.join("grandchild.pid").exists()
    });
    let shell = read_pid(&d.join("child.pid")).unwrap();
    let sleep = read_pid(&d.join("grandchild.pid")).unwrap();
    let pgid: i32 = stat_field(shell, 5).unwrap().parse().unwrap();
    assert_ne!(
        pgid,
        child.id() as i32,
        "the command has a process group of its own"
    );
    assert!(running(shell) && running(sleep));
    // SAFETY: kill(2) on the reportctl process this test started.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let status = child.wait().unwrap();
    assert!(!status.success());
    poll("the shell, its sleep and their process group to go", || {
        !running(shell) && !running(sleep) && group_members(pgid).is_empty()
    });
}

#[test]
fn sigterm_to_reportctl_ends_the_command_and_its_group() {
    killing_reportctl_ends_the_command(libc::SIGTERM);
}

#[test]
fn sighup_to_reportctl_ends_the_command_and_its_group() {
    killing_reportctl_ends_the_command(libc::SIGHUP);
}

#[test]
fn sigint_to_reportctl_ends_the_command_and_its_group() {
    killing_reportctl_ends_the_command(libc::SIGINT);
}

#[test]
fn sigkill_to_reportctl_ends_the_command_and_its_group() {
    killing_reportctl_ends_the_command(libc::SIGKILL);
}

/// The test tooling's files: scripts/test, the install step and scripts/test-servers/.
fn tooling_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut paths = vec![root.join("test"), root.join("install-test-deps.sh")];
    for e in std::fs::read_dir(root.join("test-servers")).unwrap() {
        paths.push(e.unwrap().path());
    }
    paths
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_test_tooling_commits_no_password() {
    for (name, text) in tooling_files() {
        for (no, line) in text.lines().enumerate() {
            let upper = line.to_ascii_uppercase();
            for key in ["PASSWORD=", "PASSPHRASE=", "SECRET_KEY=", "SECRET="] {
                let mut rest = upper.as_str();
                while let Some(at) = rest.find(key) {
                    let value = rest[at + key.len()..].trim_start_matches(['"', '\'']);
                    assert!(
                        value.is_empty() || value.starts_with('$') || value.starts_with('<'),
                        "{name}:{}: a secret written as a literal: {line}",
                        no + 1
                    );
                    rest = &rest[at + key.len()..];
                }
            }
            // A fixed salt means a fixed, committed password behind it.
            assert!(!line.contains("-salt "), "{name}:{}: {line}", no + 1);
        }
        assert!(
            !text.contains("/bin/bash \\") || !name.ends_with("start.sh"),
            "{name}: the test user gets a login shell"
        );
    }
}

/// Whether anything listens on TCP port `port` (any address, IPv4 or IPv6).
fn listening(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3
                    && cols[3] == "0A"
                    && cols[1].rsplit(':').next() == Some(&format!("{port:04X}"))
            })
    })
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn passwd_entry(user: &str) -> Option<String> {
    let out = std::process::Command::new("getent")
        .args(["passwd", user])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// Starts its own sshd and PostgreSQL with the committed scripts (needs root and what
/// scripts/install-test-deps.sh installs; runs where the test servers are, i.e. under
/// scripts/test), checks they are private, stops them and checks the user is gone.
#[test]
#[ignore = "needs root and the test tools: scripts/test"]
fn test_servers_are_private_and_their_user_is_removed_at_stop() {
    assert!(
        std::env::var_os("RCTL_TEST_TOOLS").is_some(),
        "needs the test servers' environment (RCTL_TEST_TOOLS is not set): run the tests with scripts/test"
    );
    // The install step leaves no system sshd behind.
    assert!(
        !listening(22),
        "something listens on port 22 (the system sshd?)"
    );
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-servers");
    let dir = tempfile::Builder::new()
        .prefix("rctl-servers-check.")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    let status = std::process::Command::new(scripts.join("start.sh"))
        .arg(d)
        .args(["sshd", "postgres"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    let env = std::fs::read_to_string(d.join("servers.env")).unwrap_or_default();
    let var = |name: &str| -> String {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_default()
            .to_string()
    };
    let user = var("RCTL_TEST_SSHD_USER");
    let stop = || {
        std::process::Command::new(scripts.join("stop.sh"))
            .arg(d)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
    };
    let checks = std::panic::catch_unwind(|| {
        assert!(status.success(), "start.sh failed");
        assert_eq!(mode(&d.join("servers.env")), 0o600);
        let sock = Path::new(&var("RCTL_TEST_PG_SOCKDIR")).to_path_buf();
        assert_eq!(mode(&sock), 0o700, "the PostgreSQL socket directory");
        assert_eq!(mode(&d.join("pg")), 0o700, "the PostgreSQL directory");
        assert_eq!(
            mode(&d.join("pg/data")),
            0o700,
            "the PostgreSQL data directory"
        );
        assert_eq!(mode(&d.join("sshd/root")), 0o700, "the SFTP root");
        assert_eq!(mode(&d.join("sshd")) & 0o007, 0, "the sshd directory");
        // A generated password, a user of this directory only, without a shell.
        let password = var("RCTL_TEST_SSHD_PASSWORD");
        assert!(password.len() >= 32, "a generated password");
        for (name, text) in tooling_files() {
            assert!(!text.contains(&password), "{name} holds the password");
        }
        let entry = passwd_entry(&user).expect("the test user exists while running");
        assert!(entry.ends_with(":/usr/sbin/nologin"), "{entry}");
    });
    let stopped = stop();
    if let Err(e) = checks {
        std::panic::resume_unwind(e);
    }
    assert!(stopped.success());
    assert!(!user.is_empty());
    assert_eq!(
        passwd_entry(&user),
        None,
        "the test user is removed at stop"
    );
}
