//! SFTP delivery against a real OpenSSH sshd (started by scripts/test): every way to
//! log in, files arriving byte for byte under their final names only, older files
//! replaced, remote directories created, and every host-key or login problem refused
//! with nothing written.

use std::process::Command;

use crate::common::fixtures::*;
use crate::common::servers::env;

#[test]
#[ignore = "needs test servers: scripts/test"]
fn key_upload_creates_the_directory_and_arrives_byte_for_byte() {
    let remote = remote_dir("key").join("deep/er");
    let ws = Workspace::new(50);
    ws.config(&sftp_config(&remote, "", ""));
    let (out, run) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(run["status"], "completed");
    let r = receipt(&run, "partner");
    assert_eq!(r["status"], "delivered");
    assert_eq!(r["attempts"], 1);
    let name = file_name("Partner Views");
    assert_eq!(
        files_under(&remote),
        vec![name.clone()],
        "only the final name"
    );
    assert_eq!(std::fs::read(remote.join(&name)).unwrap(), expected_csv(50));
    assert_eq!(run["files"][0]["sha256"], sha256(&expected_csv(50)));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn password_login() {
    let remote = remote_dir("password");
    let mut ws = Workspace::new(3);
    ws.secrets(&["SFTP"]);
    ws.config(&sftp_config(
        &remote,
        "key_file = -\npassword = { env = \"T_SSH_PASSWORD\" }",
        "",
    ));
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read(remote.join(file_name("Partner Views"))).unwrap(),
        expected_csv(3)
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn encrypted_key_with_its_passphrase() {
    let remote = remote_dir("passphrase");
    let mut ws = Workspace::new(3);
    ws.secrets(&["SFTP"]);
    let extra = format!(
        "key_file = \"{}\"\nkey_passphrase = {{ env = \"T_SSH_PASSPHRASE\" }}",
        env("SFTP", "SSHD_KEY_ENC")
    );
    ws.config(&sftp_config(&remote, &extra, ""));
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(remote.join(file_name("Partner Views")).is_file());

    // A wrong passphrase is refused and says where the passphrase comes from.
    let mut wrong = Workspace::new(3);
    wrong.set("T_SSH_PASSPHRASE", "not-the-passphrase");
    let remote2 = remote_dir("passphrase-wrong");
    wrong.config(&sftp_config(&remote2, &extra, ""));
    let (out, _) = wrong.run_report("Partner Views");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("the passphrase comes from environment variable T_SSH_PASSPHRASE"),
        "{out:?}"
    );
    assert!(files_under(&remote2).is_empty());
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn an_older_file_of_the_same_name_is_replaced() {
    let remote = remote_dir("replace");
    let name = file_name("Partner Views");
    let ws = Workspace::new(3);
    ws.config(&sftp_config(&remote, "", ""));
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read(remote.join(&name)).unwrap(), expected_csv(3));
    // The same window again, with more rows: the older file is replaced.
    ws.rows(7);
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(files_under(&remote), vec![name.clone()]);
    assert_eq!(std::fs::read(remote.join(&name)).unwrap(), expected_csv(7));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_missing_directory_is_not_created_unless_asked() {
    let remote = remote_dir("nodir");
    let ws = Workspace::new(1);
    ws.config(&sftp_config(&remote, "create_dirs = false", ""));
    let (out, run) = ws.run_report("Partner Views");
    assert_eq!(out.code, 1, "{out:?}");
    let detail = receipt(&run, "partner")["detail"].as_str().unwrap();
    assert_eq!(
        detail,
        format!(
            "remote directory {} does not exist; create it, or set create_dirs = true",
            remote.display()
        )
    );
    assert!(!remote.exists());
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn an_unknown_host_key_is_refused_with_its_fingerprint_and_how_to_trust_it() {
    let remote = remote_dir("unknown-host");
    let ws = Workspace::new(1);
    let known = ws.path().join("known_hosts");
    std::fs::write(&known, "# nothing yet\n").unwrap();
    let extra = format!("known_hosts = \"{}\"", known.display());
    ws.config(&sftp_config(&remote, &extra, ""));
    let (out, run) = ws.run_report("Partner Views");
    assert_eq!(out.code, 1, "{out:?}");
    let port = env("SFTP", "SSHD_PORT");
    let detail = receipt(&run, "partner")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    let want = format!(
        "the host key of 127.0.0.1:{port} is not in {k} (the server offers ssh-ed25519 {fp}); nothing was uploaded. \
         If this is the server's key (compare the fingerprint with its administrator's), trust it with: \
         ssh-keyscan -p {port} 127.0.0.1 >> {k}   (or set accept_new_host_key = true to trust a new server's key on first use)",
        k = known.display(),
        fp = server_fingerprint()
    );
    assert_eq!(detail, want);
    assert!(!remote.exists(), "nothing written");
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        "# nothing yet\n",
        "known_hosts untouched"
    );

    // Trusting new keys explicitly: the key is recorded, and checked from then on.
    ws.config(&sftp_config(
        &remote,
        &format!("{extra}\naccept_new_host_key = true"),
        "",
    ));
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("trusted the new host key"), "{out:?}");
    let recorded = std::fs::read_to_string(&known).unwrap();
    let scanned = std::fs::read_to_string(env("SFTP", "SSHD_KNOWN_HOSTS")).unwrap();
    assert_eq!(
        recorded,
        format!("# nothing yet\n{}", scanned.trim_end().to_string() + "\n")
    );
    ws.config(&sftp_config(&remote, &extra, ""));
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_changed_host_key_is_refused_even_when_new_keys_are_accepted() {
    let remote = remote_dir("wrong-host");
    let ws = Workspace::new(1);
    let known = ws.path().join("known_hosts");
    std::fs::copy(env("SFTP", "SSHD_WRONG_KNOWN_HOSTS"), &known).unwrap();
    let before = std::fs::read_to_string(&known).unwrap();
    let extra = format!(
        "known_hosts = \"{}\"\naccept_new_host_key = true",
        known.display()
    );
    ws.config(&sftp_config(&remote, &extra, ""));
    let (out, run) = ws.run_report("Partner Views");
    assert_eq!(out.code, 1, "{out:?}");
    let port = env("SFTP", "SSHD_PORT");
    let detail = receipt(&run, "partner")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    let want = format!(
        "the host key of 127.0.0.1:{port} does not match {k}: the server offers ssh-ed25519 {fp}, which is not the key recorded for it; nothing was uploaded. \
         Someone may be intercepting the connection, or the server's key was replaced. \
         If the change is expected, remove the old key with: ssh-keygen -R '[127.0.0.1]:{port}' -f {k}, then trust the new one with: ssh-keyscan -p {port} 127.0.0.1 >> {k}",
        k = known.display(),
        fp = server_fingerprint()
    );
    assert_eq!(detail, want);
    assert!(!remote.exists(), "nothing written");
    assert_eq!(std::fs::read_to_string(&known).unwrap(), before);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_key_the_server_does_not_know_is_refused() {
    let remote = remote_dir("wrong-key");
    let ws = Workspace::new(1);
    let key = env("SFTP", "SSHD_WRONG_KEY");
    ws.config(&sftp_config(&remote, &format!("key_file = \"{key}\""), ""));
    let (out, run) = ws.run_report("Partner Views");
    assert_eq!(out.code, 1, "{out:?}");
    let r = receipt(&run, "partner");
    assert_eq!(r["status"], "failed");
    let user = env("SFTP", "SSHD_USER");
    assert_eq!(
        r["detail"],
        format!(
            "logging in as {user} with key file {key} failed: Username/PublicKey combination invalid; \
             check that the public key of {key} is in the server's authorized_keys for {user}"
        )
    );
    assert!(!remote.exists(), "nothing written");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_server_that_is_down_is_retried_within_the_run_then_reported() {
    // A port nothing listens on: connection refused, transient, retried once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let remote = remote_dir("down");
    let ws = Workspace::new(1);
    ws.config(&sftp_config(&remote, &format!("port = {port}"), ""));
    let out = ws.run(&[
        "-v",
        "run",
        "Partner Views",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "sftp \"partner\": connecting to 127.0.0.1:{port}: Connection refused (os error 111); trying again in 0 s (retry 1 of 1)"
        )),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!(
            "sftp \"partner\": 2 attempts in this run: connecting to 127.0.0.1:{port}: Connection refused"
        )),
        "{out:?}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn ssh_agent_login() {
    let remote = remote_dir("agent");
    let mut ws = Workspace::new(2);
    let socket = ws.path().join("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-a")
        .arg(&socket)
        .arg("-s")
        .output()
        .expect("ssh-agent");
    let text = String::from_utf8(agent.stdout).unwrap();
    let pid: u32 = text
        .split(';')
        .find_map(|p| p.trim().strip_prefix("SSH_AGENT_PID="))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("ssh-agent said: {text}"));
    struct Agent(u32);
    impl Drop for Agent {
        fn drop(&mut self) {
            let _ = Command::new("kill").arg(self.0.to_string()).status();
        }
    }
    let _agent = Agent(pid);
    let added = Command::new("ssh-add")
        .arg(env("SFTP", "SSHD_KEY"))
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    ws.set("SSH_AUTH_SOCK", socket.to_str().unwrap());
    ws.config(&sftp_config(&remote, "key_file = -\nagent = true", ""));
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read(remote.join(file_name("Partner Views"))).unwrap(),
        expected_csv(2)
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn trusting_new_keys_creates_the_known_hosts_file() {
    let remote = remote_dir("new-known-hosts");
    let ws = Workspace::new(1);
    let known = ws.path().join("ssh/known_hosts");
    ws.config(&sftp_config(
        &remote,
        &format!(
            "known_hosts = \"{}\"\naccept_new_host_key = true",
            known.display()
        ),
        "",
    ));
    let out = ws.run(&["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (out, _) = ws.run_report("Partner Views");
    assert_eq!(out.code, 0, "{out:?}");
    let scanned = std::fs::read_to_string(env("SFTP", "SSHD_KNOWN_HOSTS")).unwrap();
    assert_eq!(std::fs::read_to_string(&known).unwrap(), scanned);
}
