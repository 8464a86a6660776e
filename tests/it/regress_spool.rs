//! The spool, through the binary: reportctl removes only the run directories it made
//! (never a folder that happens to be in the spool), refuses a spool that holds other
//! things, gives up on a slot loudly, leaves no partial file after a failed render and
//! names the spool when it cannot be written, and keeps customer data owner-only.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{run, run_at, tempdir, write, Output};

/// A config with one daily report "Daily" (06:00 UTC) on table `t`, delivered to `out`.
fn config(settings: &str, query: &str) -> String {
    common::daily_config(settings, query, "frequency = \"daily\"\nat = \"06:00\"")
}

const SMALL: &str = "SELECT n FROM t";
/// Three million generated rows: long enough to be caught mid-render.
const BIG: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)
SELECT i, printf('row %08d of a large report', i) AS text FROM n";

fn workspace(settings: &str, query: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "data.sql",
        "create table t(n integer); insert into t values (1), (2);",
    );
    write(dir.path(), "reports.toml", &config(settings, query));
    dir
}

/// Sets the modification time of `path` and everything under it `days` back.
fn age(path: &Path, days: u64) {
    let t = filetime::FileTime::from_system_time(
        std::time::SystemTime::now() - Duration::from_secs(days * 86_400),
    );
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            age(&e.path(), days);
        }
    }
    filetime::set_symlink_file_times(path, t, t).unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

/// Runs reportctl through bash, with `setup` run first (umask, ulimit, traps).
fn run_with(dir: &Path, setup: &str, args: &[&str]) -> Output {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{setup}; exec \"$0\" \"$@\""))
        .arg(common::bin())
        .args(args)
        .current_dir(dir)
        .env_remove("REPORTCTL_CONFIG")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A spool that is (or contains) the configuration's directory, a destination, the
/// pickup store or the ledger is refused by every command, and nothing is deleted.
#[test]
fn a_spool_that_holds_other_things_is_refused() {
    let cases = [
        ("spool = \".\"", "the configuration's directory"),
        ("spool = \"out\"", "directory destination \"out\""),
        ("spool = \"out/..\"", "the configuration's directory"),
        ("spool = \".reportctl\"", "the ledger"),
    ];
    for (setting, what) in cases {
        let dir = workspace(setting, SMALL);
        let d = dir.path();
        write(d, "project/.git/HEAD", "ref: refs/heads/main\n");
        write(d, "out/unrelated/keep.txt", "not reportctl's\n");
        age(&d.join("project"), 30);
        age(&d.join("out"), 30);
        let out = run(d, &["validate"]);
        assert_eq!(out.code, 2, "{setting}: {out:?}");
        assert!(
            out.stderr.starts_with(
                "reportctl: error: reports.toml:3:9: [settings], key `spool`: the spool "
            ),
            "{setting}: {out:?}"
        );
        assert!(
            out.stderr.contains(&format!("is or contains {what}")),
            "{setting}: {out:?}"
        );
        assert!(out
            .stderr
            .contains("such as \".reportctl/spool\" (the default)"));
        for now in ["2026-11-02T12:00:00Z", "2026-11-10T12:00:00Z"] {
            let out = run(d, &["run-due", "--now", now]);
            assert_eq!(out.code, 2, "{setting}: {out:?}");
        }
        assert!(d.join("project/.git/HEAD").is_file(), "{setting}");
        assert!(d.join("out/unrelated/keep.txt").is_file(), "{setting}");
    }
    // The default spool inside .reportctl/ is fine.
    let dir = workspace("", SMALL);
    let out = run(dir.path(), &["validate"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
}

/// In a spool shared with other things (here a directory of its own that already holds
/// folders and files), pruning removes only the run directories reportctl made, even
/// old ones named like run tokens.
#[test]
fn only_run_directories_reportctl_made_are_pruned() {
    let spool = tempdir();
    let s = spool.path();
    write(s, "unrelated/data.txt", "keep me\n");
    write(s, "0123456789abcdef/data.txt", "keep me too\n");
    write(s, "notes.txt", "and me\n");
    age(s, 30);
    let dir = workspace(&format!("spool = \"{}\"", s.display()), SMALL);
    let d = dir.path();

    // A local run leaves its files in a spool directory of its own (marked as ours).
    let out = run(
        d,
        &[
            "run",
            "Daily",
            "--no-deliver",
            "--now",
            "2026-11-02T12:00:00Z",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let local: Vec<PathBuf> = std::fs::read_dir(s)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("local-")
        })
        .collect();
    assert_eq!(local.len(), 1, "{:?}", walk(s));
    let local = &local[0];
    assert!(local.join(".reportctl-run").is_file());

    for now in ["2026-11-02T12:00:00Z", "2026-11-03T12:00:00Z"] {
        let out = run(d, &["run-due", "--now", now]);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    }
    assert_eq!(run(d, &["history", "--json"]).stdout.lines().count(), 1);
    assert!(local.is_dir(), "a local run's files stay spool_keep_days");
    age(local, 8);
    let out = run(d, &["run-due", "--now", "2026-11-03T12:05:00Z"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert!(!local.exists(), "our old local run directory is pruned");
    let mut left: Vec<String> = std::fs::read_dir(s)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["0123456789abcdef", "notes.txt", "unrelated"]);
    assert!(s.join("unrelated/data.txt").is_file());
    assert!(s.join("0123456789abcdef/data.txt").is_file());
}

/// A slot whose process is killed during its last attempt is given up loudly by the
/// next run-due: an error naming report, slot and cause, exit 1, a notify mail tried,
/// and the partial file gone from the spool at once.
#[test]
fn a_slot_given_up_after_a_crash_is_an_error() {
    let settings = "lease_seconds = 60\nmax_attempts = 1\n\n[settings.smtp]\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nfrom = \"reports@example.com\"";
    let dir = workspace(settings, BIG);
    let d = dir.path();
    let toml = std::fs::read_to_string(d.join("reports.toml")).unwrap();
    write(
        d,
        "reports.toml",
        &toml.replace(
            "destinations = [\"out\"]",
            "destinations = [\"out\"]\nnotify = [\"ops@example.com\"]",
        ),
    );
    let out = run(d, &["run-due", "--now", "2026-11-02T12:00:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    let now = "2026-11-03T12:00:00Z";
    let mut child = common::command_at(d, now, &["run-due", "--now", now])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let spool = d.join(".reportctl/spool");
    let started = Instant::now();
    while !walk(&spool).iter().any(|p| {
        p.to_string_lossy().ends_with(".tmp")
            && std::fs::metadata(p).is_ok_and(|m| m.len() > 1_000_000)
    }) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "rendering never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!temp_files(&spool).is_empty());

    // While the lease lasts the slot is left alone; once it has expired, the next
    // run-due gives the slot up, loudly.
    let out = run_at(d, "2026-11-03T12:00:59Z", &["run-due", "--now", now]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let after = "2026-11-03T12:01:01Z";
    let out = run_at(d, after, &["run-due", "--now", now]);
    assert_eq!(out.code, 1, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(
        lines[0].starts_with("reportctl: error: Daily 2026-11-03T06:00:00+00:00 ["),
        "{out:?}"
    );
    assert!(
        lines[0].ends_with("]: failed: abandoned: the process running it stopped (its lease expired) and all 1 attempts are used"),
        "{out:?}"
    );
    assert!(
        lines[1].starts_with("reportctl: warning: report \"Daily\" [")
            && lines[1].contains("]: Notification failed: "),
        "the notify mail was tried: {out:?}"
    );
    assert!(temp_files(&spool).is_empty(), "{:?}", walk(&spool));
    assert!(walk(&d.join("out")).is_empty());

    // Given up once: the next call has nothing to say.
    let out = run_at(d, after, &["run-due", "--now", now]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let history = run(d, &["history", "--json"]);
    let v: serde_json::Value = serde_json::from_str(history.stdout.trim()).unwrap();
    assert_eq!(v["status"], "failed");
}

/// A source that fails part-way leaves no partial file in the spool.
#[test]
fn a_failed_render_leaves_no_partial_file() {
    let query = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
SELECT CASE WHEN i < 200000 THEN i ELSE abs(-9223372036854775807 - 1) END AS v FROM n";
    let dir = workspace("", query);
    let d = dir.path();
    assert_eq!(
        run(d, &["run-due", "--now", "2026-11-02T12:00:00Z"]).code,
        0
    );
    let out = run(d, &["run-due", "--now", "2026-11-03T12:00:00Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("integer overflow"), "{out:?}");
    let spool = d.join(".reportctl/spool");
    assert!(temp_files(&spool).is_empty(), "{:?}", walk(&spool));
}

/// A spool that cannot be written (here: a file size limit standing in for a full disk)
/// fails the run with a message that names the spool file, not the source.
#[test]
fn a_spool_that_cannot_be_written_is_named() {
    let dir = workspace("", BIG);
    let d = dir.path();
    assert_eq!(
        run(d, &["run-due", "--now", "2026-11-02T12:00:00Z"]).code,
        0
    );
    // bash's ulimit -f counts 1024-byte blocks: 4 MiB is plenty for the ledger.
    let out = run_with(
        d,
        "trap '' XFSZ; ulimit -f 4096",
        &["run-due", "--now", "2026-11-03T12:00:00Z"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let spool = d.join(".reportctl/spool");
    assert!(
        out.stderr.contains(": writing .reportctl/spool/")
            && out
                .stderr
                .contains("/.D_Daily_20261101_20261101.csv.render.tmp: File too large"),
        "{out:?}"
    );
    assert!(
        !out.stderr.contains("row "),
        "not blamed on the source: {out:?}"
    );
    assert!(temp_files(&spool).is_empty(), "{:?}", walk(&spool));
}

/// Spool, pickup and delivered files are owner-only even with a umask of 022.
#[test]
fn customer_data_is_owner_only_whatever_the_umask() {
    let dir = workspace("", SMALL);
    let d = dir.path();
    let toml = std::fs::read_to_string(d.join("reports.toml")).unwrap();
    let toml = toml
        .replace(
            "destinations = [\"out\"]",
            "destinations = [\"out\", \"api\"]",
        )
        .replace(
            "[[reports]]",
            "[destinations.api]\nkind = \"pickup\"\n\n[[reports]]",
        );
    write(d, "reports.toml", &toml);
    // Pickup files are kept for a week from the run: run now (by the machine's clock).
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let out = run_with(
        d,
        "umask 022",
        &["run", "Daily", "--no-deliver", "--now", &now],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let out = run_with(d, "umask 022", &["run", "Daily", "--now", &now]);
    assert_eq!(out.code, 0, "{out:?}");
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    let mut checked = 0;
    for root in [d.join(".reportctl/spool"), d.join(".reportctl/pickup")] {
        assert_eq!(mode(&root), 0o700, "{}", root.display());
        for p in walk(&root) {
            let want = if p.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode(&p), want, "{}", p.display());
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked}: {:?}", walk(d));
    let delivered = walk(&d.join("out"));
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(mode(&delivered[0]), 0o600);
}

/// Overlapping run-due calls pruning the same old spool directories do not warn about
/// the directories the others removed first.
#[test]
fn overlapping_pruning_is_quiet() {
    let dir = workspace("", SMALL);
    let d = dir.path();
    let spool = d.join(".reportctl/spool");
    for i in 0..1000 {
        let token = format!("local-{i:016x}");
        write(
            &spool,
            &format!("{token}/.reportctl-run"),
            &format!("{token}\n"),
        );
        write(&spool, &format!("{token}/D.csv"), "n\n1\n");
    }
    age(&spool, 30);
    let now = "2026-11-02T12:00:00Z";
    let children: Vec<_> = (0..8)
        .map(|_| {
            common::command(d, &["run-due", "--now", now])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!((out.status.code(), stderr.as_str()), (Some(0), ""));
    }
    assert!(std::fs::read_dir(&spool).unwrap().next().is_none());
}
