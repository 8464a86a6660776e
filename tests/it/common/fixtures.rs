//! Building blocks of the delivery tests: configuration snippets pointing at the real
//! test servers (from `RCTL_TEST_*`), a workspace with a small SQLite source, and
//! readers for what arrived (mails in the Maildir, objects over presigned links).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::servers::env;
use super::Output;

/// The secret values the tests hand to reportctl through environment variables.
pub const SECRET_ENV: &[(&str, &str, &str)] = &[
    // (variable, server, RCTL_TEST_ name of the value)
    ("T_SMTP_PASSWORD", "SMTP", "SMTP_PASSWORD"),
    ("T_SSH_PASSWORD", "SFTP", "SSHD_PASSWORD"),
    ("T_SSH_PASSPHRASE", "SFTP", "SSHD_KEY_PASSPHRASE"),
    ("T_S3_KEY_ID", "S3", "S3_ACCESS_KEY"),
    ("T_S3_SECRET", "S3", "S3_SECRET_KEY"),
];

/// A temporary directory holding `reports.toml`, a SQLite source `events.sql`, and
/// the environment the runs get (secrets).
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Workspace {
    /// A workspace whose source table `t(day, n, label)` has `rows` rows.
    pub fn new(rows: usize) -> Workspace {
        let ws = Workspace {
            dir: super::tempdir(),
            env: Vec::new(),
        };
        ws.rows(rows);
        ws
    }

    /// Replaces the source table's contents with `rows` rows (see `expected_csv`).
    pub fn rows(&self, rows: usize) {
        let mut sql = String::from("create table t(day text, n integer, label text);\n");
        sql.push_str(&format!(
            "with recursive c(i) as (select 0 union all select i + 1 from c where i + 1 < {rows}) \
             insert into t select '2026-11-23', i, 'row ' || i || ', \"quoted\"' from c where {rows} > 0;\n"
        ));
        super::write(self.path(), "events.sql", &sql);
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets the secret variables of `SECRET_ENV` for the servers named, from the test
    /// servers' values.
    pub fn secrets(&mut self, servers: &[&str]) -> &mut Self {
        for (var, server, name) in SECRET_ENV {
            if servers.contains(server) {
                self.env.push((var.to_string(), env(server, name)));
            }
        }
        self
    }

    pub fn set(&mut self, var: &str, value: &str) -> &mut Self {
        self.env.retain(|(k, _)| k != var);
        self.env.push((var.to_string(), value.to_string()));
        self
    }

    pub fn config(&self, toml: &str) {
        super::write(self.path(), "reports.toml", toml);
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut c = super::command(self.path(), args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let out = c.output().expect("run reportctl");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// `reportctl run NAME` for 2026-11-23 (a manual run), with `--json`.
    pub fn run_report(&self, name: &str) -> (Output, serde_json::Value) {
        let out = self.run(&[
            "--json",
            "run",
            name,
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
        ]);
        let json = serde_json::from_str(out.stdout.trim()).unwrap_or(serde_json::Value::Null);
        (out, json)
    }
}

/// `[settings]` that keep the tests fast: no waiting between in-run retries.
pub fn settings(extra: &str) -> String {
    format!("[settings]\ntimezone = \"UTC\"\ndelivery_retries = 1\ndelivery_backoff_seconds = 0\nretry_delay_seconds = 0\n{extra}\n[sources.ev]\nkind = \"sqlite\"\ninit = [\"events.sql\"]\n\n")
}

/// `[settings.smtp]` for the STARTTLS + AUTH listener.
pub fn smtp_settings() -> String {
    format!(
        "[settings.smtp]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npassword = {{ env = \"T_SMTP_PASSWORD\" }}\nca_file = \"{}\"\nfrom = \"Reports <reports@example.com>\"\n\n",
        env("SMTP", "SMTP_PORT"),
        env("SMTP", "SMTP_USER"),
        env("SMTP", "SMTP_CA"),
    )
}

/// An SFTP destination with the test key; `extra` lines override or add keys.
pub fn sftp_dest(name: &str, remote: &Path, extra: &str) -> String {
    let mut lines = vec![
        format!("kind = \"sftp\""),
        format!("host = \"127.0.0.1\""),
        format!("port = {}", env("SFTP", "SSHD_PORT")),
        format!("user = \"{}\"", env("SFTP", "SSHD_USER")),
        format!("path = \"{}\"", remote.display()),
        format!("known_hosts = \"{}\"", env("SFTP", "SSHD_KNOWN_HOSTS")),
        format!("key_file = \"{}\"", env("SFTP", "SSHD_KEY")),
    ];
    override_lines(&mut lines, extra);
    format!("[destinations.{name}]\n{}\n\n", lines.join("\n"))
}

/// A configuration whose report "Partner Views" goes to the SFTP destination
/// "partner" at `remote` (created if missing); `sftp_extra` overrides or adds keys of
/// the destination, `settings_extra` lines of `[settings]`.
pub fn sftp_config(remote: &Path, sftp_extra: &str, settings_extra: &str) -> String {
    format!(
        "{}{}{}",
        settings(settings_extra),
        sftp_dest(
            "partner",
            remote,
            &format!("create_dirs = true\n{sftp_extra}")
        ),
        report("Partner Views", &["partner"], "")
    )
}

/// The SHA256 fingerprint of the test server's host key, as `ssh-keygen -l` shows it.
pub fn server_fingerprint() -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-f", &env("SFTP", "SSHD_KNOWN_HOSTS")])
        .output()
        .expect("ssh-keygen");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .expect("a fingerprint")
        .to_string()
}

/// An S3 destination on the test bucket with the secret references of `SECRET_ENV`.
pub fn s3_dest(name: &str, prefix: &str, extra: &str) -> String {
    let mut lines = vec![
        format!("kind = \"s3\""),
        format!("bucket = \"{}\"", env("S3", "S3_BUCKET")),
        format!("prefix = \"{prefix}\""),
        format!("region = \"{}\"", env("S3", "S3_REGION")),
        format!("endpoint = \"{}\"", env("S3", "S3_ENDPOINT")),
        format!("path_style = true"),
        format!("access_key_id = {{ env = \"T_S3_KEY_ID\" }}"),
        format!("secret_access_key = {{ env = \"T_S3_SECRET\" }}"),
    ];
    override_lines(&mut lines, extra);
    format!("[destinations.{name}]\n{}\n\n", lines.join("\n"))
}

/// Keys in `extra` replace the same keys in `lines`; a key given as `key = -` is
/// removed.
fn override_lines(lines: &mut Vec<String>, extra: &str) {
    let key = |l: &str| l.split('=').next().unwrap_or("").trim().to_string();
    for e in extra.lines().filter(|l| !l.trim().is_empty()) {
        let k = key(e);
        lines.retain(|l| key(l) != k);
        if !e.trim_end().ends_with("= -") {
            lines.push(e.to_string());
        }
    }
}

/// A daily report on table `t` with the given destinations; `extra` is added to it.
pub fn report(name: &str, destinations: &[&str], extra: &str) -> String {
    let list: Vec<String> = destinations.iter().map(|d| format!("\"{d}\"")).collect();
    format!(
        "[[reports]]\nname = \"{name}\"\ntype = \"VIEWS\"\nsource = \"ev\"\ndestinations = [{}]\nquery = \"select day, n, label from t order by n\"\n{extra}\n[reports.schedule]\nfrequency = \"daily\"\nat = \"06:00\"\n\n",
        list.join(", ")
    )
}

/// A fresh remote directory path under the sshd's root (not created).
pub fn remote_dir(test: &str) -> PathBuf {
    let root = PathBuf::from(env("SFTP", "SSHD_ROOT"));
    root.join(format!("{test}-{:08x}", rand_u32()))
}

pub fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    t.subsec_nanos() ^ std::process::id().rotate_left(16)
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every regular file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// One mail as the SMTP server stored it.
#[derive(Debug, serde::Deserialize)]
pub struct Mail {
    pub subject: String,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// Bcc headers left in the message (there must be none).
    pub bcc: Vec<String>,
    /// The whole envelope (To, Cc and Bcc).
    pub rcpt: Vec<String>,
    /// The text/plain parts that are not attachments.
    pub body: String,
    /// The text/html parts that are not attachments.
    pub html: String,
    /// The MIME tree: `multipart/mixed[multipart/alternative[text/plain,text/html],text/csv]`.
    pub structure: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub sha256: String,
}

const READ_MAIL: &str = r#"
import email, email.policy, hashlib, json, mailbox, sys
box = mailbox.Maildir(sys.argv[1], factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default), create=False)
def shape(p):
    if p.is_multipart():
        return p.get_content_type() + "[" + ",".join(shape(x) for x in p.iter_parts()) + "]"
    return p.get_content_type()
out = []
for msg in box:
    rcpt = [a.strip() for a in str(msg.get("X-RcptTo", "")).split(",") if a.strip()]
    if not any(sys.argv[2] in a for a in rcpt):
        continue
    m = {"subject": str(msg.get("Subject", "")), "from": str(msg.get("From", "")),
         "to": [str(a) for a in msg.get_all("To", [])], "cc": [str(a) for a in msg.get_all("Cc", [])],
         "bcc": [str(a) for a in msg.get_all("Bcc", [])], "rcpt": rcpt, "body": "", "html": "", "structure": shape(msg), "attachments": []}
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        name = part.get_filename()
        if name:
            m["attachments"].append({"filename": name, "content_type": part.get_content_type(),
                                     "sha256": hashlib.sha256(data).hexdigest()})
        elif part.get_content_type() == "text/html":
            m["html"] += data.decode(part.get_content_charset() or "utf-8")
        else:
            m["body"] += data.decode(part.get_content_charset() or "utf-8")
    out.append(m)
print(json.dumps(out))
"#;

/// The mails whose envelope has a recipient containing `marker`.
pub fn mails(marker: &str) -> Vec<Mail> {
    let python = env("SMTP", "PYTHON");
    let maildir = env("SMTP", "SMTP_MAILDIR");
    let out = Command::new(python)
        .args(["-c", READ_MAIL, &maildir, marker])
        .output()
        .expect("run python to read the Maildir");
    assert!(
        out.status.success(),
        "reading mail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("mail JSON")
}

/// GET `url` with curl: (HTTP status, body, response headers).
pub fn http_get(url: &str) -> (u16, Vec<u8>, String) {
    let dir = super::tempdir();
    let body = dir.path().join("body");
    let headers = dir.path().join("headers");
    let out = Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&body)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "%{http_code}", url])
        .output()
        .expect("run curl");
    let code = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (
        code,
        std::fs::read(&body).unwrap_or_default(),
        std::fs::read_to_string(&headers).unwrap_or_default(),
    )
}

/// The receipt of `destination` in a run's JSON.
pub fn receipt<'a>(run: &'a serde_json::Value, destination: &str) -> &'a serde_json::Value {
    run["receipts"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["destination"] == destination))
        .unwrap_or_else(|| panic!("no receipt for {destination} in {run}"))
}

/// The run's spooled CSV as the query renders it (for comparing bytes).
pub fn expected_csv(rows: usize) -> Vec<u8> {
    let mut s = String::from("day,n,label\n");
    for i in 0..rows {
        s.push_str(&format!("2026-11-23,{i},\"row {i}, \"\"quoted\"\"\"\n"));
    }
    s.into_bytes()
}

pub const FILE_NAME: &str = "VIEWS_{name}_20261123_20261123.csv";

pub fn file_name(report: &str) -> String {
    FILE_NAME.replace("{name}", report)
}
