//! Fan-out: one report to a directory, a mailbox, an SFTP server and an S3 bucket, with
//! the SFTP server down. The three others get the files once; the SFTP server gets
//! them once, from the spooled file, from a later run-due after it comes back. The SFTP
//! server is a private sshd that this test stops and starts again.

use crate::common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::fixtures::*;

/// A private sshd started with the project's script, stopped on drop.
struct PrivateSshd {
    dir: tempfile::TempDir,
    restarted: Option<Child>,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/test-servers")
        .join(name)
}

impl PrivateSshd {
    fn start() -> PrivateSshd {
        let dir = tempfile::Builder::new()
            .prefix("rctl-fanout-")
            .tempdir_in("/tmp")
            .unwrap();
        let out = Command::new(script("start.sh"))
            .arg(dir.path())
            .arg("sshd")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "start.sh sshd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PrivateSshd {
            dir,
            restarted: None,
        }
    }

    /// A value from its servers.env.
    fn var(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("servers.env")).unwrap();
        let prefix = format!("export RCTL_TEST_{name}=");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{name} in servers.env"))
            .to_string()
    }

    fn stop(&mut self) {
        let _ = Command::new(script("stop.sh"))
            .arg(self.dir.path())
            .arg("sshd")
            .output();
        if let Some(mut child) = self.restarted.take() {
            let _ = child.wait();
        }
    }

    /// Takes sshd down (its listener and sessions), keeping its test user and files for
    /// `restart` (stop.sh would remove the user).
    fn down(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("pids/sshd.pid")).unwrap();
        let pid = pid.trim();
        let port: u16 = self.var("SSHD_PORT").parse().unwrap();
        assert!(Command::new("kill").arg(pid).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(Instant::now() < deadline, "sshd did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts sshd again with the same configuration: same port, same host key.
    fn restart(&mut self) {
        let d = self.dir.path().join("sshd");
        let child = Command::new("setsid")
            .arg("/usr/sbin/sshd")
            .arg("-D")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::fs::write(
            self.dir.path().join("pids/sshd.pid"),
            format!("{}\n", child.id()),
        )
        .unwrap();
        self.restarted = Some(child);
        let port: u16 = self.var("SSHD_PORT").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not come back");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivateSshd {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn one_destination_down_the_others_get_it_once_and_it_catches_up_later() {
    let mut sshd = PrivateSshd::start();
    let marker = format!("fanout{:x}", rand_u32());
    let prefix = format!("{marker}/");
    let remote = PathBuf::from(sshd.var("SSHD_ROOT")).join("in");
    let mut ws = Workspace::new(25);
    ws.secrets(&["SMTP", "S3"]);
    let sftp = sftp_dest(
        "partner",
        &remote,
        &format!(
            "port = {}\nuser = \"{}\"\nknown_hosts = \"{}\"\nkey_file = \"{}\"\ncreate_dirs = true",
            sshd.var("SSHD_PORT"),
            sshd.var("SSHD_USER"),
            sshd.var("SSHD_KNOWN_HOSTS"),
            sshd.var("SSHD_KEY")
        ),
    );
    ws.config(&format!(
        "{}{}[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n\
         [destinations.team]\nkind = \"email\"\nto = [\"team-{marker}@example.com\"]\n\n{}{}{}",
        settings(""),
        smtp_settings(),
        sftp,
        s3_dest("bucket", &prefix, ""),
        report("Fan Out", &["local", "team", "partner", "bucket"], "")
    ));
    let name = "VIEWS_Fan Out_20261122_20261122.csv";
    let object = PathBuf::from(common::servers::env("S3", "S3_DATA"))
        .join(common::servers::env("S3", "S3_BUCKET"))
        .join(&prefix)
        .join(name);

    sshd.down();
    assert_eq!(
        ws.run(&["run-due", "--now", "2026-11-24T05:00:00Z"]).code,
        0
    );
    let out = ws.run(&["--json", "run-due", "--now", "2026-11-24T06:05:00Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    let run: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let token = run["token"].as_str().unwrap().to_string();
    assert_eq!(run["status"], "failed");
    for d in ["local", "team", "bucket"] {
        assert_eq!(receipt(&run, d)["status"], "delivered", "{d}: {run}");
    }
    let partner = receipt(&run, "partner");
    assert_eq!(partner["status"], "failed");
    let port = sshd.var("SSHD_PORT");
    assert_eq!(
        partner["detail"],
        format!("2 attempts in this run: connecting to 127.0.0.1:{port}: Connection refused (os error 111)")
    );
    assert!(
        run["detail"].as_str().unwrap().starts_with(&format!(
            "sftp \"partner\": 2 attempts in this run: connecting to 127.0.0.1:{port}"
        )),
        "{run}"
    );
    let spool = ws.path().join(".reportctl/spool").join(&token);
    assert!(
        spool.join(name).is_file(),
        "the file stays spooled for the retry"
    );
    let stamp = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let (local_at, object_at) = (stamp(&ws.path().join("out").join(name)), stamp(&object));

    sshd.restart();
    let out = ws.run(&["--json", "run-due", "--now", "2026-11-24T06:10:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(run["token"], token.as_str());
    assert_eq!(run["status"], "completed");
    assert_eq!(run["attempts"], 2);
    assert_eq!(receipt(&run, "partner")["status"], "delivered");
    assert_eq!(receipt(&run, "partner")["attempts"], 2);
    for d in ["local", "team", "bucket"] {
        assert_eq!(receipt(&run, d)["attempts"], 1, "{d} not sent again");
    }
    assert_eq!(std::fs::read(remote.join(name)).unwrap(), expected_csv(25));
    assert_eq!(stamp(&ws.path().join("out").join(name)), local_at);
    assert_eq!(stamp(&object), object_at);
    assert!(
        !spool.exists(),
        "the spool is pruned once no receipt needs it"
    );

    let out = ws.run(&["run-due", "--now", "2026-11-24T07:00:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(mails(&marker).len(), 1, "one mail in all");
}
