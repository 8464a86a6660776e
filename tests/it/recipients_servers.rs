//! Recipients against the real servers (started by scripts/test): 50 partners from a
//! query, each getting only its own rows by mail, in its own SFTP folder and under its
//! own S3 prefix; one partner's SFTP folder unwritable (only that partner is retried);
//! a hostile address refused for its partner only; three hosts on one PostgreSQL ledger
//! sharing a fan-out, and a host killed mid fan-out.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::common::fixtures::*;
use crate::common::pg;
use crate::common::{self, tempdir, write};
use crate::multihost::{finish, spawn_host_at};
use crate::recipients::{partners_sql, report};

/// `settings()` (source `ev` from `events.sql`) with SMTP, and a daily report "Orders"
/// whose recipients come from `partners`, one file per partner with its rows only.
fn config(destinations: &str, names: &str, marker: &str) -> String {
    let recipients = format!(
        "query = \"SELECT id, replace(email, '@', '-{marker}@') AS email, name FROM partners WHERE active = 1 ORDER BY id\""
    );
    format!(
        "{}{}{destinations}\n{}",
        settings("max_attempts = 3"),
        smtp_settings(),
        report("ev", names, "", &recipients)
    )
}

fn mail_dest() -> String {
    "[destinations.mail]\nkind = \"email\"\nto = [\"{recipient.email}\"]\nsubject = \"Orders of {recipient.name}\"\n\n".into()
}

/// The CSV partner `i` gets for 2026-11-23 (see `partners_sql`).
fn expected(i: usize) -> String {
    let mut s = String::from("partner,day,amount\n");
    for k in 0..3 {
        s.push_str(&format!("p{i},2026-11-23,{}\n", i * 100 + k));
    }
    s
}

/// `run-due --json` at `now` with the workspace's secrets, the wall clock a minute on.
fn run_due(ws: &Workspace, now: &str) -> (common::Output, Vec<serde_json::Value>) {
    let wall = (chrono::DateTime::parse_from_rfc3339(now).unwrap() + chrono::Duration::minutes(1))
        .to_rfc3339();
    let mut c = common::command_at(ws.path(), &wall, &["run-due", "--now", now, "--json"]);
    for (k, v) in &ws.env {
        c.env(k, v);
    }
    let out = common::output(c);
    let runs = common::json_lines(&out.stdout);
    (out, runs)
}

fn by_recipient(runs: &[serde_json::Value]) -> BTreeMap<String, &serde_json::Value> {
    runs.iter()
        .map(|r| (r["recipient"].as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn fifty_partners_each_get_only_their_rows_by_mail_sftp_and_s3() {
    let marker = format!("b{:08x}", rand_u32());
    let remote = remote_dir("recipients");
    let mut ws = Workspace::new(0);
    ws.secrets(&["SMTP", "S3"]);
    write(ws.path(), "events.sql", &partners_sql(50, ""));
    let dests = format!(
        "{}{}{}",
        mail_dest(),
        sftp_dest(
            "partner",
            &remote.join("{recipient.id}"),
            "create_dirs = true"
        ),
        s3_dest("bucket", &format!("{marker}/{{recipient.id}}/"), "")
    );
    ws.config(&config(
        &dests,
        "\"mail\", \"partner\", \"bucket\"",
        &marker,
    ));
    let out = ws.run(&["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(run_due(&ws, "2026-11-24T12:00:00Z").0.code, 0);
    let started = Instant::now();
    let (out, runs) = run_due(&ws, "2026-11-25T12:00:00Z");
    eprintln!("50 recipients x 3 destinations: {:?}", started.elapsed());
    assert_eq!(out.code, 0, "{out:?}");
    let runs = by_recipient(&runs);
    assert_eq!(runs.len(), 50);
    let got = mails(&marker);
    assert_eq!(got.len(), 50, "one mail per partner");
    for i in 1..=50 {
        let key = format!("p{i}");
        let run = runs[&key];
        assert_eq!(run["status"], "completed", "{run}");
        let name = format!("ORDERS_p{i}_20261123.csv");
        let want = expected(i);
        let sha = sha256(want.as_bytes());
        assert_eq!(run["files"][0]["sha256"], sha, "{key}");
        // Mail: to the partner only, its own rows attached.
        let to = format!("p{i}-{marker}@partners.example");
        let mail: Vec<_> = got.iter().filter(|m| m.rcpt == [to.clone()]).collect();
        assert_eq!(mail.len(), 1, "{key}: {got:?}");
        assert_eq!(mail[0].subject, format!("Orders of Partner {i}"));
        assert_eq!(mail[0].attachments.len(), 1);
        assert_eq!(mail[0].attachments[0].filename, name);
        assert_eq!(mail[0].attachments[0].sha256, sha, "{key}");
        // SFTP: the partner's own folder.
        let got = std::fs::read_to_string(remote.join(&key).join(&name)).unwrap();
        assert_eq!(got, want, "{key}");
        assert_eq!(files_under(&remote.join(&key)), std::slice::from_ref(&name));
        // S3: under the partner's prefix, through the run's presigned link.
        let link = &receipt(run, "bucket")["links"][0]["url"];
        let url = link.as_str().unwrap();
        assert!(url.contains(&format!("/{marker}/{key}/{name}")), "{url}");
        let (status, body, _) = http_get(url);
        assert_eq!((status, String::from_utf8(body).unwrap()), (200, want));
    }
    // Exactly once: a later run-due sends nothing more.
    let (again, runs) = run_due(&ws, "2026-11-25T13:00:00Z");
    assert_eq!((again.code, runs.len()), (0, 0), "{again:?}");
    assert_eq!(mails(&marker).len(), 50);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn an_unwritable_folder_fails_only_its_partner_which_alone_is_retried() {
    let marker = format!("u{:08x}", rand_u32());
    let remote = remote_dir("recipients-ro");
    let mut ws = Workspace::new(0);
    ws.secrets(&["SMTP"]);
    write(ws.path(), "events.sql", &partners_sql(4, ""));
    // p2's folder belongs to root, read-only: the sshd user cannot write there.
    std::fs::create_dir_all(remote.join("p2")).unwrap();
    std::fs::set_permissions(&remote, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(remote.join("p2"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let sftp = sftp_dest(
        "partner",
        &remote.join("{recipient.id}"),
        "create_dirs = true",
    );
    let dests = format!("{}{sftp}", mail_dest());
    ws.config(&config(&dests, "\"partner\", \"mail\"", &marker));
    assert_eq!(run_due(&ws, "2026-11-24T12:00:00Z").0.code, 0);
    let (out, runs) = run_due(&ws, "2026-11-25T12:00:00Z");
    assert_eq!(out.code, 1, "{out:?}");
    let runs = by_recipient(&runs);
    assert_eq!(runs.len(), 4);
    assert_eq!(runs["p2"]["status"], "failed");
    assert_eq!(receipt(runs["p2"], "partner")["status"], "failed");
    assert_eq!(receipt(runs["p2"], "mail")["status"], "delivered");
    for k in ["p1", "p3", "p4"] {
        assert_eq!(runs[k]["status"], "completed", "{k}");
    }
    // The folder is fixed; the next run-due retries p2 alone, SFTP alone.
    std::fs::set_permissions(remote.join("p2"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (out, runs) = run_due(&ws, "2026-11-25T12:30:00Z");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(runs.len(), 1, "{out:?}");
    assert_eq!(runs[0]["recipient"], "p2");
    assert_eq!(runs[0]["status"], "completed");
    let r = receipt(&runs[0], "partner");
    assert_eq!(
        (&r["status"], &r["attempts"]),
        (&"delivered".into(), &2.into())
    );
    assert_eq!(receipt(&runs[0], "mail")["attempts"], 1);
    // Each partner got one mail and one file.
    let got = mails(&marker);
    assert_eq!(got.len(), 4, "{got:?}");
    for i in 1..=4 {
        let name = format!("ORDERS_p{i}_20261123.csv");
        assert_eq!(files_under(&remote.join(format!("p{i}"))), [name]);
    }
}

/// The slot of 2026-11-25 for partners `p1`, `p2` and `bad` (after a first `run-due`
/// that records the report): `run-due` exits 1, `p1` and `p2` completed, `bad` failed
/// at `dest`; returns the output and that receipt's detail.
fn refused_for_one(ws: &Workspace, bad: &str, dest: &str) -> (common::Output, String) {
    assert_eq!(run_due(ws, "2026-11-24T12:00:00Z").0.code, 0);
    let (out, runs) = run_due(ws, "2026-11-25T12:00:00Z");
    assert_eq!(out.code, 1, "{out:?}");
    let runs = by_recipient(&runs);
    assert_eq!(runs["p1"]["status"], "completed");
    assert_eq!(runs["p2"]["status"], "completed");
    assert_eq!(runs[bad]["status"], "failed");
    let detail = receipt(runs[bad], dest)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    (out, detail)
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_hostile_address_is_refused_for_its_partner_only() {
    let marker = format!("h{:08x}", rand_u32());
    let mut ws = Workspace::new(0);
    ws.secrets(&["SMTP"]);
    let hostile = format!(
        "insert into partners values ('p9', 'Evil', 'a@x.com' || char(13, 10) || 'Bcc: evil-{marker}@x.com', 1);\n"
    );
    write(ws.path(), "events.sql", &partners_sql(2, &hostile));
    ws.config(&config(&mail_dest(), "\"mail\"", &marker));
    let (out, detail) = refused_for_one(&ws, "p9", "mail");
    assert!(
        detail.starts_with("recipient \"p9\": to: {recipient.email}: \"a-"),
        "{detail}"
    );
    assert!(detail.contains("contains a control character"), "{detail}");
    assert!(out.stderr.contains("Orders (recipient p9)"), "{out:?}");
    assert_eq!(mails(&marker).len(), 2);
    assert!(mails(&format!("evil-{marker}")).is_empty());
}

/// A webhook's URL path takes each recipient's key: each partner's body goes to its
/// own path, signed; a value that cannot go into a URL (a dot) fails its partner only.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_webhook_url_path_per_partner_and_a_value_unfit_for_a_url_refused() {
    let k = crate::common::receiver::key("rcphook");
    let mut ws = Workspace::new(0);
    ws.set(
        "T_HOOK_SECRET",
        &crate::common::servers::env("HTTP", "WEBHOOK_SECRET"),
    );
    write(
        ws.path(),
        "events.sql",
        &partners_sql(
            2,
            "insert into partners values ('p.9', 'Dotted', 'd@x.com', 1);\n",
        ),
    );
    let hook = format!(
        "[destinations.hook]\nkind = \"webhook\"\nurl = \"{}/{k}/{{recipient.id}}/in\"\nsecret = {{ env = \"T_HOOK_SECRET\" }}\n",
        crate::common::servers::env("HTTP", "HTTP_URL")
    );
    let recipients = "query = \"SELECT id FROM partners WHERE active = 1 ORDER BY id\"";
    ws.config(&format!(
        "{}{hook}\n{}",
        settings(""),
        report("ev", "\"hook\"", "", recipients)
    ));
    let (_, detail) = refused_for_one(&ws, "p.9", "hook");
    assert!(
        detail.starts_with("recipient \"p.9\": url: {recipient.id}: "),
        "{detail}"
    );
    let got = crate::common::receiver::requests(&k);
    let mut paths: Vec<&str> = got.iter().map(|r| r["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, [format!("/{k}/p1/in"), format!("/{k}/p2/in")]);
    for r in &got {
        assert_eq!(r["signature"], "valid", "{r:#}");
        let body = crate::common::receiver::json_body(r);
        assert_eq!(body["rows"], 3, "{body:#}");
    }
}

/// One host of the PostgreSQL ledger tests: its own directory, data and destination.
fn host(ledger: &str, partners: usize) -> tempfile::TempDir {
    let pg = pg::server();
    let h = tempdir();
    // Each run takes a moment (a counted recursion), so that the hosts overlap.
    let slow = "(WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000) SELECT count(*) FROM c)";
    let cfg = format!(
        r#"[settings]
timezone = "UTC"
state = "{ledger}"
state_password = {{ env = "RCTL_TEST_PG_PASSWORD" }}
lease_seconds = 60

[sources.db]
kind = "sqlite"
init = ["data.sql"]

[destinations.out]
kind = "directory"
path = "out/{{recipient.id}}"

{}"#,
        report(
            "db",
            "\"out\"",
            &format!(", {slow} AS work"),
            "query = \"SELECT id FROM partners ORDER BY id\""
        ),
        ledger = pg.url(ledger),
    );
    write(h.path(), "reports.toml", &cfg);
    write(h.path(), "data.sql", &partners_sql(partners, ""));
    h
}

fn spawn(dir: &Path, now: &str, wall: &str) -> Child {
    spawn_host_at(dir, now, Some(wall))
}

/// Every delivered file of every host: `key/name` → how many hosts have it.
fn delivered(hosts: &[tempfile::TempDir]) -> BTreeMap<String, usize> {
    let mut files = BTreeMap::new();
    for h in hosts {
        for f in files_under(&h.path().join("out")) {
            *files.entry(f).or_insert(0) += 1;
        }
    }
    files
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn three_hosts_and_overlapping_run_dues_deliver_each_slot_and_recipient_once() {
    let pg = pg::server();
    let ledger = pg.fresh_db("rctl_rcp_ledger");
    let hosts: Vec<_> = (0..3).map(|_| host(&ledger, 12)).collect();
    // First sight, recorded by one host.
    let first = finish(spawn(
        hosts[0].path(),
        "2026-11-24T12:00:00Z",
        "2026-11-24T12:00:00Z",
    ));
    assert_eq!(first.code, 0, "{first:?}");
    // Eight run-due processes over three hosts, at once.
    let now = "2026-11-25T12:00:00Z";
    let children: Vec<Child> = (0..8)
        .map(|i| spawn(hosts[i % 3].path(), now, "2026-11-25T12:01:00Z"))
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = finish(c);
        assert_eq!(out.code, 0, "process {i}: {out:?}");
    }
    let mut c = pg.client(&ledger);
    let rows = c
        .query(
            "SELECT recipient, status, attempts,
                    (SELECT count(*) FROM receipts r WHERE r.token = runs.token AND r.status = 'delivered' AND r.attempts = 1),
                    owner IS NULL
             FROM runs ORDER BY recipient",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 12);
    for r in &rows {
        let key: String = r.get(0);
        assert_eq!(r.get::<_, String>(1), "completed", "{key}");
        assert_eq!(r.get::<_, i64>(2), 1, "{key} was claimed more than once");
        assert_eq!(r.get::<_, i64>(3), 1, "{key}: one delivered receipt");
    }
    let files = delivered(&hosts);
    assert_eq!(files.len(), 12, "{files:?}");
    assert!(
        files.values().all(|n| *n == 1),
        "delivered twice: {files:?}"
    );
    let per_host: Vec<usize> = hosts
        .iter()
        .map(|h| files_under(&h.path().join("out")).len())
        .collect();
    eprintln!("recipients delivered per host: {per_host:?}");
    assert!(
        per_host.iter().filter(|n| **n > 0).count() >= 2,
        "the fan-out spread over the hosts: {per_host:?}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_host_killed_mid_fan_out_is_completed_once_after_the_lease() {
    let pg = pg::server();
    let ledger = pg.fresh_db("rctl_rcp_kill");
    let hosts: Vec<_> = (0..2).map(|_| host(&ledger, 10)).collect();
    let now = "2026-11-25T12:00:00Z";
    let wall = "2026-11-25T12:01:00Z";
    assert_eq!(
        finish(spawn(
            hosts[0].path(),
            "2026-11-24T12:00:00Z",
            "2026-11-24T12:00:00Z"
        ))
        .code,
        0
    );
    // Host A records the ten runs and is killed once it has completed two of them.
    let mut a = spawn(hosts[0].path(), now, wall);
    let mut c = pg.client(&ledger);
    let count = |c: &mut postgres::Client, status: &str| -> i64 {
        c.query_one("SELECT count(*) FROM runs WHERE status = $1", &[&status])
            .map_or(0, |r| r.get(0))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&mut c, "completed") < 2 {
        assert!(Instant::now() < deadline, "host A completed nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    a.kill().unwrap(); // SIGKILL, mid fan-out
    let _ = a.wait();
    let done_by_a = count(&mut c, "completed");
    eprintln!("host A completed {done_by_a} of 10 before it was killed");
    assert!(done_by_a < 10, "host A finished before it was killed");
    // Host B, after the lease, completes the rest, each once.
    let b = finish(spawn(hosts[1].path(), now, "2026-11-25T12:03:00Z"));
    assert_eq!(b.code, 0, "{b:?}");
    assert_eq!(count(&mut c, "completed"), 10);
    let twice: i64 = c
        .query_one(
            "SELECT count(*) FROM receipts WHERE status = 'delivered' AND attempts <> 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(twice, 0);
    let files = delivered(&hosts);
    assert_eq!(files.len(), 10, "{files:?}");
    assert!(
        files.values().all(|n| *n == 1),
        "delivered twice: {files:?}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_postgres_source_binds_each_recipient_s_columns() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_rcp_src");
    let mut c = pg.client(&db);
    c.batch_execute(
        "CREATE TABLE partners (id text, region int);
         INSERT INTO partners VALUES ('p1', 1), ('p2', 2);
         CREATE TABLE orders (partner text, region int, day date, amount int);
         INSERT INTO orders VALUES ('p1', 1, '2026-11-23', 10), ('p1', 2, '2026-11-23', 11),
                                   ('p2', 2, '2026-11-23', 20), ('p2', 2, '2026-11-22', 21);",
    )
    .unwrap();
    let dir = tempdir();
    let cfg = format!(
        r#"[settings]
timezone = "UTC"

[sources.db]
kind = "postgres"
url = "{url}"
password = {{ env = "RCTL_TEST_PG_PASSWORD" }}

[destinations.out]
kind = "directory"
path = "out/{{recipient.id}}"

[[reports]]
name = "Orders"
type = "ORDERS"
source = "db"
destinations = ["out"]
query = "SELECT partner, amount FROM orders WHERE partner = :id AND region = :region AND day >= :from_date AND day <= :to_date ORDER BY amount"
[reports.schedule]
frequency = "daily"
at = "06:00"
[reports.recipients]
key = "id"
query = "SELECT id, region FROM partners ORDER BY id"
"#,
        url = pg.url(&db)
    );
    write(dir.path(), "reports.toml", &cfg);
    let out = common::run(dir.path(), &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    let args = [
        "run",
        "Orders",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-23",
        "-o",
        "-",
    ];
    let out = common::run(dir.path(), &[&args[..], &["--recipient", "p1"]].concat());
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "partner,amount\np1,10\n"),
        "{out:?}"
    );
    let out = common::run(dir.path(), &[&args[..], &["--recipient", "p2"]].concat());
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "partner,amount\np2,20\n"),
        "{out:?}"
    );
}

/// `promtool check metrics` accepts the metrics of a report with recipients.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn promtool_accepts_the_recipients_metrics() {
    let dir = tempdir();
    let text = crate::recipients::metrics_of_a_failing_recipient(dir.path());
    crate::metrics::promtool_accepts(text.as_bytes());
}
