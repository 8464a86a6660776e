//! `run-due` side by side with the real servers: one SSH session per SFTP server for a
//! whole `run-due` (counted in sshd's log by a key of the test's own), and overlapping
//! processes with `max_parallel` on three "hosts" sharing one PostgreSQL ledger.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::pg;
use crate::common::servers::env;
use crate::common::{fixtures, run_at, tempdir, write};
use crate::multihost::{delivered, finish, host_config};
use crate::parallel::{completed_reports, config, names, source, NOW};

/// A fresh key authorized on the test sshd; returns its file and its fingerprint (as
/// sshd logs it).
fn own_key(dir: &Path) -> (String, String) {
    let key = dir.join("id_ed25519");
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rctl-parallel", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(ok.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let authorized = Path::new(&env("SFTP", "SSHD_KEY")).with_file_name("authorized_keys");
    let mut keys = std::fs::read_to_string(&authorized).unwrap();
    keys.push_str(&public);
    std::fs::write(&authorized, keys).unwrap();
    let listed = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    let text = String::from_utf8(listed.stdout).unwrap();
    let fingerprint = text.split(' ').nth(1).unwrap().to_string();
    (key.display().to_string(), fingerprint)
}

/// Logins with the key of `fingerprint` in sshd's log.
fn logins(fingerprint: &str) -> usize {
    let root = env("SFTP", "SSHD_ROOT");
    let log = Path::new(&root).with_file_name("sshd.log");
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .filter(|l| l.contains("Accepted publickey") && l.contains(fingerprint))
        .count()
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn one_ssh_session_serves_every_delivery_to_a_server() {
    let d = tempdir();
    let (key, fingerprint) = own_key(d.path());
    let remote = fixtures::remote_dir("parallel");
    let extra = format!("key_file = \"{key}\"\ncreate_dirs = true\nmax_concurrent = 1");
    let toml = config("max_parallel = 4", &source("cmd", "0.1", ""), &["cmd"], 6).replace(
        "destinations = [\"out\"]",
        "destinations = [\"out\", \"partner\"]",
    ) + "\n"
        + &fixtures::sftp_dest("partner", &remote, &extra);
    write(d.path(), "reports.toml", &toml);
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completed_reports(&out.stdout), names(6));
    assert_eq!(fixtures::files_under(&remote).len(), 6);
    assert_eq!(logins(&fingerprint), 1, "one SSH login for six deliveries");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn three_hosts_of_three_processes_with_max_parallel_run_each_slot_once() {
    let pg = pg::server();
    let ledger = pg.fresh_db("rctl_par_ledger");
    let source = pg.fresh_db("rctl_par_source");
    let query = "SELECT :from AS slot_from, :to AS slot_to FROM pg_sleep(0.2)";
    let hosts: Vec<_> = (0..3).map(|_| tempdir()).collect();
    for h in &hosts {
        let toml = host_config(&pg, &ledger, &source, query, "max_parallel = 4");
        write(h.path(), "reports.toml", &toml);
    }
    let now = "2026-11-02T23:59:00Z";
    let children: Vec<_> = (hosts.iter().flat_map(|h| [h, h, h]))
        .map(|h| {
            crate::common::command(h.path(), &["run-due", "--now", now, "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut shown = 0;
    for (i, c) in children.into_iter().enumerate() {
        let out = finish(c);
        assert_eq!(out.code, 0, "process {i}: {out:?}");
        shown += out.stdout.lines().count();
    }
    assert_eq!(shown, 24, "each run shown by the one process that ran it");
    let mut c = pg.client(&ledger);
    let rows = c
        .query(
            "SELECT status, attempts, (SELECT count(*) FROM receipts r WHERE r.token = runs.token AND r.status = 'delivered') FROM runs",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 24);
    for r in rows {
        assert_eq!(r.get::<_, String>(0), "completed");
        assert_eq!(r.get::<_, i64>(1), 1, "claimed once");
        assert_eq!(r.get::<_, i64>(2), 1, "delivered once");
    }
    let files = delivered(&hosts);
    assert_eq!(files.len(), 24, "{files:?}");
    assert!(files.values().all(|n| *n == 1), "{files:?}");
}
