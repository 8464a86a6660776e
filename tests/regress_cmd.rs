//! Regressions of the command source and its neighbours, through the binary: secrets
//! a program echoes never reach any output or the ledger; NUL bytes in text cells.

mod common;

use std::path::Path;

use common::{command, tempdir, write, Output};

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
