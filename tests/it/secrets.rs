//! Secrets never show: after deliveries that succeed and deliveries refused because of
//! a wrong secret, to every kind of destination, no secret value (right or wrong) is in
//! stdout, stderr (at the highest verbosity), `--json` output, or the ledger and spool
//! files. The S3 access key ID is an identifier every presigned link carries
//! (`X-Amz-Credential`); it may appear there and nowhere else.

use std::path::Path;

use crate::common::fixtures::*;
use crate::common::servers::env;

fn config(marker: &str) -> String {
    let remote = remote_dir("secrets");
    format!(
        "{}{}[destinations.team]\nkind = \"email\"\nto = [\"sec-{marker}@example.com\"]\n\n{}{}{}{}",
        settings(""),
        smtp_settings(),
        sftp_dest(
            "by_password",
            &remote,
            "key_file = -\npassword = { env = \"T_SSH_PASSWORD\" }\ncreate_dirs = true"
        ),
        sftp_dest(
            "by_key",
            &remote,
            &format!(
                "key_file = \"{}\"\nkey_passphrase = {{ env = \"T_SSH_PASSPHRASE\" }}\ncreate_dirs = true",
                env("SFTP", "SSHD_KEY_ENC")
            )
        ),
        s3_dest("bucket", &format!("{marker}/"), ""),
        report(
            "Secret Views",
            &["team", "by_password", "by_key", "bucket"],
            &format!("notify = [\"ops-{marker}@example.com\"]")
        ),
    )
}

/// Every file under `dir`, as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap_or_default();
            (f, bytes)
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn no_secret_in_output_json_logs_or_the_ledger() {
    let marker = format!("secrets{:x}", rand_u32());
    let mut ws = Workspace::new(3);
    ws.secrets(&["SMTP", "SFTP", "S3"]);
    ws.config(&config(&marker));
    let right: Vec<String> = SECRET_ENV
        .iter()
        .filter(|(var, ..)| *var != "T_S3_KEY_ID")
        .map(|(_, server, name)| env(server, name))
        .collect();
    let wrong = [
        ("T_SMTP_PASSWORD", "wrong-smtp-Pw-7731"),
        ("T_SSH_PASSWORD", "wrong-ssh-Pw-1187"),
        ("T_SSH_PASSPHRASE", "wrong-passphrase-5503"),
        ("T_S3_SECRET", "wrong-s3-Secret-9924"),
    ];

    let mut outputs = Vec::new();
    // Every secret wrong: every destination refuses, and the notify mail fails too.
    let good = ws.env.clone();
    for (var, value) in wrong {
        ws.set(var, value);
    }
    let run = |ws: &Workspace, args: &[&str], outputs: &mut Vec<String>| {
        let out = ws.run(args);
        outputs.push(format!("{args:?}\n{}\n{}", out.stdout, out.stderr));
        out
    };
    run(&ws, &["-vv", "validate"], &mut outputs);
    run(
        &ws,
        &["-vv", "--json", "run-due", "--now", "2026-11-24T05:00:00Z"],
        &mut outputs,
    );
    let failed = run(
        &ws,
        &["-vv", "--json", "run-due", "--now", "2026-11-24T06:05:00Z"],
        &mut outputs,
    );
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(failed.stderr.contains("Notification failed"), "{failed:?}");
    for d in ["team", "by_password", "by_key", "bucket"] {
        assert!(
            failed
                .stdout
                .contains(&format!("\"destination\":\"{d}\",\"status\":\"failed\"")),
            "{d}: {failed:?}"
        );
    }
    // All right again: everything is delivered, and links are made.
    ws.env = good;
    let done = run(
        &ws,
        &["-vv", "--json", "run-due", "--now", "2026-11-24T06:10:00Z"],
        &mut outputs,
    );
    assert_eq!(done.code, 0, "{done:?}");
    run(
        &ws,
        &[
            "-vv",
            "--json",
            "run",
            "Secret Views",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
        ],
        &mut outputs,
    );
    run(&ws, &["--json", "history"], &mut outputs);
    run(&ws, &["history"], &mut outputs);
    run(&ws, &["--json", "destinations"], &mut outputs);
    let token = serde_json::from_str::<serde_json::Value>(done.stdout.trim()).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    run(&ws, &["status", &token], &mut outputs);
    run(&ws, &["--json", "status", &token], &mut outputs);

    let mut places: Vec<(String, Vec<u8>)> = outputs
        .into_iter()
        .enumerate()
        .map(|(i, o)| (format!("output #{i}"), o.into_bytes()))
        .collect();
    places.extend(all_bytes(&ws.path().join(".reportctl")));
    let mut mails_text = String::new();
    for m in mails(&marker) {
        mails_text.push_str(&format!("{}\n{}\n", m.subject, m.body));
    }
    places.push(("mails".into(), mails_text.into_bytes()));
    assert!(
        places.iter().any(|(p, _)| p.contains("ledger.sqlite")),
        "{:?}",
        places.iter().map(|p| &p.0).collect::<Vec<_>>()
    );

    let secrets: Vec<String> = right
        .into_iter()
        .chain(wrong.iter().map(|(_, v)| v.to_string()))
        .collect();
    for (place, bytes) in &places {
        for s in &secrets {
            assert!(find(bytes, s.as_bytes()).is_empty(), "a secret in {place}");
        }
        let id = env("S3", "S3_ACCESS_KEY");
        for at in find(bytes, id.as_bytes()) {
            let before = &bytes[at.saturating_sub(17)..at];
            assert_eq!(
                before, b"X-Amz-Credential=",
                "the access key ID outside a link in {place}"
            );
        }
    }
}
