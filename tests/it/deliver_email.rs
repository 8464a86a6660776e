//! Email delivery and notify mails against a real SMTP server (aiosmtpd with STARTTLS
//! and AUTH, started by scripts/test): attachments byte for byte, the whole envelope,
//! a refused password fixed between two run-due calls, oversized reports as links.

use crate::common::fixtures::*;
use crate::common::servers::env;

/// A mail destination to addresses that carry `marker`, so that each test finds its
/// own mails in the shared Maildir.
fn mail_dest(name: &str, marker: &str, extra: &str) -> String {
    format!(
        "[destinations.{name}]\nkind = \"email\"\nto = [\"Ann <ann-{marker}@example.com>\", \"bob-{marker}@example.com\"]\ncc = [\"cat-{marker}@example.com\"]\nbcc = [\"dan-{marker}@example.com\"]\n{extra}\n\n"
    )
}

fn dir_dest(ws: &Workspace) -> String {
    format!(
        "[destinations.local]\nkind = \"directory\"\npath = \"{}\"\n\n",
        ws.path().join("out").display()
    )
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn attachments_arrive_byte_for_byte_to_to_cc_and_bcc() {
    let marker = format!("attach{:x}", rand_u32());
    let mut ws = Workspace::new(120);
    ws.secrets(&["SMTP"]);
    let toml = format!(
        "{}{}{}{}\
[[reports]]
name = \"Mail Pair\"
source = \"ev\"
destinations = [\"local\", \"team\"]
[[reports.outputs]]
type = \"VIEWS\"
query = \"select day, n, label from t order by n\"
[[reports.outputs]]
type = \"ENGAGEMENT\"
query = \"select day, count(*) as rows from t group by day\"
[reports.csv]
compression = \"gzip\"
compress_above_mb = 0.001
[reports.schedule]
frequency = \"daily\"
",
        settings(""),
        smtp_settings(),
        dir_dest(&ws),
        mail_dest(
            "team",
            &marker,
            "subject = \"{name} {from} to {to}: {rows} rows ({types})\"\nbody = \"Files: {files}\\nWindow: {window}\\n\""
        ),
    );
    ws.config(&toml);
    let (out, run) = ws.run_report("Mail Pair");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        receipt(&run, "team")["detail"],
        "2 files attached, to 4 recipients"
    );

    let mails = mails(&marker);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.from, "Reports <reports@example.com>");
    assert_eq!(
        m.subject,
        "Mail Pair 2026-11-23 to 2026-11-23: 121 rows (VIEWS, ENGAGEMENT)"
    );
    assert_eq!(
        m.to,
        vec![format!(
            "Ann <ann-{marker}@example.com>, bob-{marker}@example.com"
        )]
    );
    assert_eq!(m.cc, vec![format!("cat-{marker}@example.com")]);
    assert!(m.bcc.is_empty(), "no Bcc header: {m:?}");
    let mut rcpt = m.rcpt.clone();
    rcpt.sort();
    assert_eq!(
        rcpt,
        ["ann", "bob", "cat", "dan"].map(|w| format!("{w}-{marker}@example.com"))
    );
    let views = "VIEWS_Mail Pair_20261123_20261123.csv.gz";
    let engagement = "ENGAGEMENT_Mail Pair_20261123_20261123.csv";
    assert_eq!(
        m.body,
        format!(
            "Files: {views}, {engagement}\nWindow: 2026-11-23 00:00 to 2026-11-24 00:00 (UTC)\n"
        )
    );
    let delivered = ws.path().join("out");
    let got: Vec<_> = m
        .attachments
        .iter()
        .map(|a| {
            (
                a.filename.as_str(),
                a.content_type.as_str(),
                a.sha256.clone(),
            )
        })
        .collect();
    let want = |name: &str| sha256(&std::fs::read(delivered.join(name)).unwrap());
    assert_eq!(
        got,
        vec![
            (views, "application/gzip", want(views)),
            (engagement, "text/csv", want(engagement)),
        ]
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn implicit_tls_and_plain_localhost_servers() {
    let marker = format!("tlsmodes{:x}", rand_u32());
    let mut ws = Workspace::new(2);
    ws.secrets(&["SMTP"]);
    let tls = format!(
        "smtp = {{ host = \"127.0.0.1\", port = {}, tls = \"tls\", user = \"{}\", password = {{ env = \"T_SMTP_PASSWORD\" }}, ca_file = \"{}\", from = \"tls@example.com\" }}",
        env("SMTP", "SMTP_TLS_PORT"),
        env("SMTP", "SMTP_USER"),
        env("SMTP", "SMTP_CA")
    );
    let plain = format!(
        "smtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\", from = \"plain@example.com\" }}",
        env("SMTP", "SMTP_PLAIN_PORT")
    );
    ws.config(&format!(
        "{}{}{}{}",
        settings(""),
        mail_dest("smtps", &marker, &tls),
        mail_dest("plain", &marker, &plain),
        report("Mail Modes", &["smtps", "plain"], "")
    ));
    let (out, _) = ws.run_report("Mail Modes");
    assert_eq!(out.code, 0, "{out:?}");
    let mut from: Vec<String> = mails(&marker).into_iter().map(|m| m.from).collect();
    from.sort();
    assert_eq!(from, ["plain@example.com", "tls@example.com"]);
    for m in mails(&marker) {
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].sha256, sha256(&expected_csv(2)));
    }
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_refused_password_fails_the_receipt_and_the_next_run_due_delivers_once() {
    let marker = format!("password{:x}", rand_u32());
    let mut ws = Workspace::new(4);
    ws.secrets(&["SMTP"]);
    let right = env("SMTP", "SMTP_PASSWORD");
    ws.set("T_SMTP_PASSWORD", "not-the-password");
    ws.config(&format!(
        "{}{}{}{}{}",
        settings(""),
        smtp_settings(),
        dir_dest(&ws),
        mail_dest("team", &marker, ""),
        report("Mail Retry", &["local", "team"], "")
    ));
    let out = ws.run(&["run-due", "--now", "2026-11-24T05:00:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = ws.run(&["--json", "run-due", "--now", "2026-11-24T06:05:00Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    let run: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(run["status"], "failed");
    assert_eq!(receipt(&run, "local")["status"], "delivered");
    let team = receipt(&run, "team");
    assert_eq!(team["status"], "failed");
    assert_eq!(
        team["detail"],
        format!(
            "SMTP server 127.0.0.1:{}: permanent error (535): 5.7.8 Authentication credentials invalid; \
             the server refused the login of user {}: check the SMTP user and password \
             (the password comes from environment variable T_SMTP_PASSWORD)",
            env("SMTP", "SMTP_PORT"),
            env("SMTP", "SMTP_USER")
        )
    );
    assert!(mails(&marker).is_empty());

    ws.set("T_SMTP_PASSWORD", &right);
    let out = ws.run(&["--json", "run-due", "--now", "2026-11-24T06:10:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(run["status"], "completed");
    assert_eq!(run["attempts"], 2);
    assert_eq!(receipt(&run, "local")["attempts"], 1, "not sent again");
    assert_eq!(receipt(&run, "team")["attempts"], 2);
    let out = ws.run(&["run-due", "--now", "2026-11-24T06:20:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    let got = mails(&marker);
    assert_eq!(got.len(), 1, "delivered exactly once: {got:?}");
    assert_eq!(got[0].attachments[0].sha256, sha256(&expected_csv(4)));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn an_oversized_report_arrives_as_a_download_link() {
    let marker = format!("oversize{:x}", rand_u32());
    let mut ws = Workspace::new(300);
    ws.secrets(&["SMTP", "S3"]);
    let prefix = format!("{marker}/");
    ws.config(&format!(
        "{}{}{}{}{}",
        settings(""),
        smtp_settings(),
        mail_dest("team", &marker, "max_attachment_mb = 0.005"),
        s3_dest("bucket", &prefix, ""),
        report("Mail Big", &["team", "bucket"], "")
    ));
    let (out, run) = ws.run_report("Mail Big");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        receipt(&run, "team")["detail"],
        "download links to 1 file (10.6 KB is too large to attach), to 4 recipients"
    );
    let mails = mails(&marker);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.attachments.is_empty(), "{m:?}");
    let url = m
        .body
        .lines()
        .find(|l| l.starts_with("http://"))
        .unwrap_or_else(|| panic!("a link in {}", m.body));
    assert!(
        m.body
            .contains("are larger than the attachment limit (5.1 KB). Download them here:"),
        "{}",
        m.body
    );
    let href = format!("<a href=\"{}\">download</a>", url.replace('&', "&amp;"));
    assert!(
        m.html.contains(&href),
        "the same link in the HTML part: {}",
        m.html
    );
    let (status, body, _) = http_get(url);
    assert_eq!(status, 200);
    assert_eq!(body, expected_csv(300));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn an_oversized_report_without_a_link_fails_and_says_why() {
    let marker = format!("nolink{:x}", rand_u32());
    let mut ws = Workspace::new(300);
    ws.secrets(&["SMTP"]);
    ws.config(&format!(
        "{}{}{}{}",
        settings(""),
        smtp_settings(),
        mail_dest("team", &marker, "max_attachment_mb = 0.005"),
        report("Mail Big", &["team"], "")
    ));
    let (out, run) = ws.run_report("Mail Big");
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        receipt(&run, "team")["detail"],
        "the files total 10.6 KB, above max_attachment_mb (5.1 KB), and no S3 destination of report \"Mail Big\" has uploaded them, \
         so there is no download link to send instead; add an s3 destination to the report's destinations (it is delivered before mail) \
         or raise max_attachment_mb"
    );
    assert!(mails(&marker).is_empty(), "never an empty mail");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn notify_mails_after_scheduled_runs_say_how_each_destination_went() {
    let marker = format!("notify{:x}", rand_u32());
    let mut ws = Workspace::new(5);
    ws.secrets(&["SMTP", "S3"]);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let notify = format!("notify = [\"ops-{marker}@example.com\"]");
    ws.config(&format!(
        "{}{}{}{}{}{}{}",
        settings(""),
        smtp_settings(),
        dir_dest(&ws),
        s3_dest("bucket", &format!("{marker}/"), ""),
        sftp_dest(
            "partner",
            &remote_dir("notify"),
            &format!("port = {closed}")
        ),
        report("Notify Good", &["local", "bucket"], &notify),
        report("Notify Bad", &["local", "partner"], &notify),
    ));
    // A manual run notifies nobody.
    let (out, _) = ws.run_report("Notify Good");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(mails(&marker).is_empty());

    ws.run(&["run-due", "--now", "2026-11-24T05:00:00Z"]);
    let out = ws.run(&["run-due", "--now", "2026-11-24T06:05:00Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    let mut got = mails(&marker);
    got.sort_by(|a, b| a.subject.cmp(&b.subject));
    let subjects: Vec<&str> = got.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "[reportctl] Notify Bad 2026-11-22 to 2026-11-22: failed",
            "[reportctl] Notify Good 2026-11-22 to 2026-11-22: completed",
        ]
    );
    let (bad, good) = (&got[0].body, &got[1].body);
    let size = expected_csv(5).len();
    for line in [
        "Status:  completed",
        "Window:  2026-11-22 00:00 to 2026-11-23 00:00 (UTC)",
        "Run at:  2026-11-24T06:00:00+00:00",
        &format!("  VIEWS_Notify Good_20261122_20261122.csv: 5 rows, {size} bytes"),
        "  bucket (s3): delivered: 1 file in s3://reportctl-test/",
        "Download links:",
    ] {
        assert!(good.contains(line), "{line:?} in:\n{good}");
    }
    let link = good
        .lines()
        .find(|l| l.trim_start().starts_with("http://"))
        .unwrap();
    let (status, body, _) = http_get(link.trim());
    assert_eq!((status, body), (200, expected_csv(5)));
    for line in [
        "Status:  failed",
        &format!("  partner (sftp): failed: 2 attempts in this run: connecting to 127.0.0.1:{closed}: Connection refused (os error 111)"),
        "  local (directory): delivered: 1 file in",
        "(attempt 1 of 5; next try at or after 2026-11-24T06:05:00Z)",
    ] {
        assert!(bad.contains(line), "{line:?} in:\n{bad}");
    }
}
