//! The webhook destination against the test receiver (scripts/test-servers/httpd.py),
//! which verifies each signature with the secret it was given and records every
//! request: signed JSON bodies, the same idempotency key on a retry, 503 and 429 tried
//! again (Retry-After honoured), 400 not, multipart uploads intact, and the secret
//! never shown even when the server repeats it. Configuration errors need no server.

use std::time::Instant;

use serde_json::Value;

use crate::common;
use crate::common::fixtures::*;
use crate::common::receiver::{assert_hidden, json_body, key, requests};
use crate::common::servers::env;

/// A webhook destination `hook` to the receiver's `path`; `extra` lines are added.
fn hook(path: &str, extra: &str) -> String {
    format!(
        "[destinations.hook]\nkind = \"webhook\"\nurl = \"{}{path}\"\nsecret = {{ env = \"T_HOOK_SECRET\" }}\n{extra}\n\n",
        env("HTTP", "HTTP_URL")
    )
}

/// A workspace with `rows` rows, report "Hooked" to the webhook at `path`.
fn workspace(rows: usize, path: &str, extra: &str) -> Workspace {
    let mut ws = Workspace::new(rows);
    ws.set("T_HOOK_SECRET", &env("HTTP", "WEBHOOK_SECRET"));
    ws.config(&format!(
        "{}{}{}",
        settings(""),
        hook(path, extra),
        report("Hooked", &["hook"], "")
    ));
    ws
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_503_is_tried_again_with_the_same_idempotency_key_and_a_valid_signature() {
    let k = key("hook503");
    let ws = workspace(3, &format!("/{k}/fail/503/1/in"), "");
    let (out, run) = ws.run_report("Hooked");
    assert_eq!(out.code, 0, "{out:?}");
    let got = requests(&k);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        (&got[0]["status"], &got[1]["status"]),
        (&503.into(), &200.into())
    );
    for r in &got {
        assert_eq!(r["signature"], "valid", "{r:#}");
        assert!(r["headers"]["reportctl-signature"]
            .as_str()
            .unwrap()
            .starts_with("t="));
    }
    let token = run["token"].as_str().unwrap();
    let idem = &got[0]["headers"]["idempotency-key"];
    assert_eq!(idem, &got[1]["headers"]["idempotency-key"]);
    assert_eq!(idem, &sha256(format!("{token}/hook").as_bytes())[..32]);

    let body = json_body(&got[1]);
    let name = file_name("Hooked");
    assert_eq!(body["report"], "Hooked");
    assert_eq!(body["token"], token);
    assert_eq!(body["destination"], "hook");
    assert_eq!(body["test"], false);
    assert_eq!(
        body["window"],
        serde_json::json!({"from": "2026-11-23T00:00:00Z", "to": "2026-11-24T00:00:00Z", "timezone": "UTC"})
    );
    assert_eq!(body["rows"], 3);
    assert_eq!(
        body["files"],
        serde_json::json!([{"name": name, "type": "VIEWS", "rows": 3, "bytes": expected_csv(3).len(), "sha256": sha256(&expected_csv(3))}])
    );
    assert_eq!(body["links"], serde_json::json!([]));
    let r = receipt(&run, "hook");
    assert_eq!(r["status"], "delivered");
    assert_eq!(r["attempts"], 1, "{r:#}");
    let url = env("HTTP", "HTTP_URL");
    assert_eq!(
        r["detail"],
        format!("POST {url}/{k}/fail/503/1/in → 200, 1 file described")
    );
    assert_hidden(&env("HTTP", "WEBHOOK_SECRET"), ws.path(), &[&out]);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_400_is_not_tried_again_and_the_echoed_secret_is_redacted() {
    let k = key("hook400");
    let ws = workspace(2, &format!("/{k}/fail/400/9/in"), "");
    ws.config(&format!(
        "{}{}{}",
        settings("max_attempts = 1\nmetrics_file = \"reportctl.prom\""),
        hook(&format!("/{k}/fail/400/9/in"), ""),
        report("Hooked", &["hook"], "")
    ));
    let wall = "2026-11-24T06:00:00Z";
    let first = ws_at(&ws, "2026-11-24T05:00:00Z", &["run-due"]);
    assert_eq!(first.code, 0, "{first:?}");
    let out = ws_at(&ws, wall, &["run-due"]);
    assert_eq!(out.code, 1, "{out:?}");
    let got = requests(&k);
    assert_eq!(got.len(), 1, "{got:#?}");
    let url = env("HTTP", "HTTP_URL");
    let said = format!(
        "POST {url}/{k}/fail/400/9/in answered 400: refused: secret [redacted] at /{k}/fail/400/9/in"
    );
    assert!(out.stderr.contains(&said), "{out:?}");
    assert!(!out.stderr.contains("second line"), "{out:?}");

    let history = ws_at(&ws, wall, &["--json", "history"]);
    assert_eq!(history.code, 0, "{history:?}");
    let run: Value = serde_json::from_str(history.stdout.lines().next().unwrap()).unwrap();
    let r = receipt(&run, "hook");
    assert_eq!(r["status"], "failed", "{r:#}");
    assert!(r["detail"].as_str().unwrap().contains(&said), "{r:#}");
    let check = ws_at(&ws, wall, &["check"]);
    assert_ne!(check.code, 0, "{check:?}");
    assert!(
        check.stdout.contains("hook") || check.stderr.contains("hook"),
        "{check:?}"
    );
    let metrics = std::fs::read_to_string(ws.path().join("reportctl.prom")).unwrap();
    assert!(
        metrics.contains("reportctl_deliveries_total{destination=\"hook\",outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert_hidden(
        &env("HTTP", "WEBHOOK_SECRET"),
        ws.path(),
        &[&out, &history, &check],
    );
}

/// `run-due` etc. at the injected wall clock, with the workspace's environment.
fn ws_at(ws: &Workspace, wall: &str, args: &[&str]) -> common::Output {
    let mut c = common::command_at(ws.path(), wall, args);
    for (k, v) in &ws.env {
        c.env(k, v);
    }
    common::output(c)
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_429_waits_as_long_as_retry_after_says() {
    let k = key("hook429");
    let ws = workspace(1, &format!("/{k}/fail/429/1/in"), "");
    let started = Instant::now();
    let (out, run) = ws.run_report("Hooked");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(started.elapsed().as_secs_f64() >= 1.0);
    assert_eq!(requests(&k).len(), 2);
    assert_eq!(receipt(&run, "hook")["status"], "delivered");

    // Longer than a run waits: not tried again in the run.
    let k = key("hook429x");
    let ws = workspace(1, &format!("/{k}/fail/429x/1/in"), "");
    let (out, _) = ws.run_report("Hooked");
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(requests(&k).len(), 1);
    assert!(
        out.stderr.contains("it asks to wait 3600 s (Retry-After), longer than the 120 s a run waits: a later run-due tries again"),
        "{out:?}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn attached_files_arrive_intact_after_the_signed_json() {
    let k = key("hookfiles");
    let ws = workspace(500, &format!("/{k}/in"), "attach_files = true");
    let (out, run) = ws.run_report("Hooked");
    assert_eq!(out.code, 0, "{out:?}");
    let got = requests(&k);
    assert_eq!(got.len(), 1, "{got:#?}");
    let r = &got[0];
    assert!(r["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    assert_eq!(r["signature"], "valid", "{r:#}");
    let parts = r["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{parts:#?}");
    assert_eq!(
        (&parts[0]["name"], &parts[0]["content_type"]),
        (&"payload".into(), &"application/json".into())
    );
    let csv = expected_csv(500);
    assert_eq!(parts[1]["name"], "file");
    assert_eq!(parts[1]["filename"], file_name("Hooked"));
    assert_eq!(parts[1]["content_type"], "text/csv");
    assert_eq!(parts[1]["sha256"], sha256(&csv));
    assert_eq!(run["files"][0]["sha256"], sha256(&csv));
    assert!(receipt(&run, "hook")["detail"]
        .as_str()
        .unwrap()
        .ends_with("→ 200, 1 file uploaded"));

    // Over the limit: a clear error, nothing sent.
    let k = key("hookbig");
    let ws = workspace(
        40_000,
        &format!("/{k}/in"),
        "attach_files = true\nmax_upload_mb = 1",
    );
    let (out, _) = ws.run_report("Hooked");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "above max_upload_mb (1.0 MB); raise max_upload_mb, or set attach_files = false"
        ),
        "{out:?}"
    );
    assert_eq!(requests(&k).len(), 0);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn with_an_s3_destination_the_body_carries_download_links() {
    let k = key("hooklinks");
    let prefix = format!("hook{:x}/", rand_u32());
    let mut ws = workspace(2, &format!("/{k}/in"), "");
    ws.secrets(&["S3"]);
    ws.config(&format!(
        "{}{}{}{}",
        settings(""),
        hook(&format!("/{k}/in"), ""),
        s3_dest("bucket", &prefix, ""),
        report("Hooked", &["hook", "bucket"], "")
    ));
    let (out, _) = ws.run_report("Hooked");
    assert_eq!(out.code, 0, "{out:?}");
    let body = json_body(&requests(&k)[0]);
    let link = &body["links"][0];
    assert_eq!(link["file"], file_name("Hooked"));
    let (status, bytes, _) = http_get(link["url"].as_str().unwrap());
    assert_eq!((status, bytes), (200, expected_csv(2)));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn send_test_marks_the_body_as_a_test_and_a_query_key_is_never_shown() {
    let k = key("hooktest");
    let query_key = format!("querykey{k}");
    let ws = workspace(1, &format!("/{k}/in?key={query_key}"), "");
    let out = ws.run(&["send-test", "Hooked"]);
    assert_eq!(out.code, 0, "{out:?}");
    let got = requests(&k);
    assert_eq!(got[0]["path"], format!("/{k}/in?key={query_key}"));
    let body = json_body(&got[0]);
    assert_eq!(body["test"], true);
    assert!(body["summary"].as_str().unwrap().starts_with("[TEST] "));
    let listed = ws.run(&["destinations"]);
    let url = env("HTTP", "HTTP_URL");
    assert!(
        listed
            .stdout
            .contains(&format!("webhook  hook  {url}/{k}/in\n")),
        "{listed:?}"
    );
    let history = ws.run(&["--json", "history"]);
    assert_hidden(&query_key, ws.path(), &[&out, &listed, &history]);
}

/// `validate` of a configuration with one webhook destination table `dest`.
fn validate(dest: &str) -> common::Output {
    let dir = common::tempdir();
    let d = dir.path();
    common::write(
        d,
        "reports.toml",
        &format!(
            "[settings]\ntimezone = \"UTC\"\n[sources.db]\nkind = \"sqlite\"\npath = \"x.db\"\n[destinations.hook]\n{dest}\n[[reports]]\nname = \"R\"\ntype = \"R\"\nsource = \"db\"\ndestinations = [\"hook\"]\nquery = \"SELECT 1\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"06:00\"\n"
        ),
    );
    common::run(d, &["list"])
}

#[test]
fn configuration_errors_name_the_key_and_what_is_allowed() {
    let cases = [
        (
            "kind = \"webhook\"\nurl = \"http://hooks.example.com/x\"\nsecret = { env = \"S\" }",
            "reports.toml:8:7: destination \"hook\", key `url`: plain http:// is allowed to a loopback host only (127.0.0.1, ::1, localhost); use https://",
        ),
        (
            "kind = \"webhook\"\nurl = \"https://hooks.example.com/x\"",
            "reports.toml:6:15: destination \"hook\", key `secret`: missing key `secret`: the key the Reportctl-Signature header is made with, a secret such as { env = \"NAME\" } or { file = \"/path\" }",
        ),
        (
            "kind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nsecret = { env = \"S\" }\nheaders = 1",
            "reports.toml:10:1: destination \"hook\", key `headers`: unknown key `headers`; allowed: `kind`, `url`, `secret`, `attach_files`, `max_upload_mb`, `timeout_seconds`, `ca_file`",
        ),
        (
            "kind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nsecret = \"plain\"",
            "reports.toml:9:10: destination \"hook\", key `secret`: a secret must not be written in the configuration; a secret is { env = \"NAME\" } or { file = \"/path/to/file\" }, or set [settings] allow_plain_secrets = true",
        ),
        (
            "kind = \"webhook\"\nurl = \"https://hooks.example.com/x\"\nsecret = { env = \"S\" }\nmax_upload_mb = 5",
            "reports.toml:10:17: destination \"hook\", key `max_upload_mb`: goes with attach_files = true",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .map(|(dest, want)| (validate(dest), want))
        .filter(|(out, want)| out.code != 2 || !out.stderr.contains(*want))
        .map(|(out, want)| format!("want: {want}\n{out:?}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn https_is_verified_against_the_system_and_ca_file() {
    let k = key("hooktls");
    let https = env("HTTP", "HTTPS_URL");
    let mut ws = Workspace::new(1);
    ws.set("T_HOOK_SECRET", &env("HTTP", "WEBHOOK_SECRET"));
    let config = |extra: &str| {
        format!(
            "{}[destinations.hook]\nkind = \"webhook\"\nurl = \"{https}/{k}/in\"\nsecret = {{ env = \"T_HOOK_SECRET\" }}\n{extra}\n\n{}",
            settings(""),
            report("Hooked", &["hook"], "")
        )
    };
    ws.config(&config(""));
    let (out, _) = ws.run_report("Hooked");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("check that the server's certificate is trusted (set `ca_file` to the CA that signed it)"),
        "{out:?}"
    );
    assert_eq!(requests(&k).len(), 0, "not tried again, nothing received");
    ws.config(&config(&format!(
        "ca_file = \"{}\"",
        env("HTTP", "HTTP_CA")
    )));
    let (out, _) = ws.run_report("Hooked");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(requests(&k)[0]["signature"], "valid");
}
