//! The Microsoft Teams destination against the test receiver: the Workflows message
//! envelope around an Adaptive Card with the summary, files and links; a long file list
//! cut to fit Teams' 28 KB; retries like the webhook's; the URL (a secret) never shown.

use serde_json::Value;

use crate::common::fixtures::*;
use crate::common::receiver::{assert_hidden, json_body, key, requests};
use crate::common::servers::env;

/// The Workflows URL under `key` (its path and query are the secret parts) with
/// `tail` after the key, and a workspace with report "Teamed" posting there.
fn workspace(rows: usize, key: &str, tail: &str, report_extra: &str) -> (Workspace, String) {
    let url = format!(
        "{}/{key}{tail}/workflows/0a1b2c3d4e5f60718293a4b5c6d7e8f9/triggers/manual/paths/invoke?api-version=1&sig=teamssig{key}",
        env("HTTP", "HTTP_URL")
    );
    let mut ws = Workspace::new(rows);
    ws.set("T_TEAMS_URL", &url);
    ws.config(&format!(
        "{}[destinations.team]\nkind = \"teams\"\nurl = {{ env = \"T_TEAMS_URL\" }}\n\n{}",
        settings(""),
        report("Teamed", &["team"], report_extra)
    ));
    (ws, url)
}

fn card(body: &Value) -> &Value {
    &body["attachments"][0]["content"]
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn the_card_has_the_documented_envelope_and_the_run_facts() {
    let k = key("teams");
    let (ws, url) = workspace(3, &k, "", "");
    let (out, run) = ws.run_report("Teamed");
    assert_eq!(out.code, 0, "{out:?}");
    let got = requests(&k);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["headers"]["content-type"], "application/json");
    let body = json_body(&got[0]);
    assert_eq!(body["type"], "message");
    let attachments = body["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(
        attachments[0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = card(&body);
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(card["body"][0]["text"], "Teamed");
    assert_eq!(
        card["body"][1]["text"],
        "Report \"Teamed\": 3 rows in 1 file, 2026-11-23 00:00 to 2026-11-24 00:00 (UTC)"
    );
    assert_eq!(
        card["body"][2],
        serde_json::json!({"type": "FactSet", "facts": [{"title": file_name("Teamed"), "value": format!("3 rows, {} bytes", expected_csv(3).len())}]})
    );
    assert!(
        card.get("actions").is_none(),
        "no links without S3: {card:#}"
    );
    let detail = receipt(&run, "team")["detail"].as_str().unwrap();
    assert_eq!(
        detail,
        format!(
            "POST {}/[redacted] → 200, a card with 1 file",
            env("HTTP", "HTTP_URL")
        )
    );
    let history = ws.run(&["--json", "history"]);
    let listed = ws.run(&["destinations"]);
    assert!(
        listed
            .stdout
            .contains("teams workflow, URL from environment variable T_TEAMS_URL"),
        "{listed:?}"
    );
    for secret in [url.as_str(), &k, &format!("teamssig{k}")] {
        assert_hidden(secret, ws.path(), &[&out, &history, &listed]);
    }
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_long_file_list_is_cut_to_fit_with_and_n_more() {
    let k = key("teamsmany");
    let outputs: String = (0..400)
        .map(|i| {
            format!("[[reports.outputs]]\ntype = \"OUTPUT{i:03}\"\nquery = \"select {i} as n\"\n")
        })
        .collect();
    let (ws, _) = workspace(1, &k, "", "");
    let toml = std::fs::read_to_string(ws.path().join("reports.toml")).unwrap();
    let toml = toml
        .replace("type = \"VIEWS\"\n", "")
        .replace("query = \"select day, n, label from t order by n\"\n", "")
        .replace(
            "\n[reports.schedule]",
            &format!("\n{outputs}[reports.schedule]"),
        );
    ws.config(&toml);
    let (out, run) = ws.run_report("Teamed");
    assert_eq!(out.code, 0, "{out:?}");
    let got = requests(&k);
    let sent = got[0]["body"].as_str().unwrap();
    assert!(sent.len() <= 27 * 1024, "{} bytes", sent.len());
    let facts = card(&json_body(&got[0]))["body"][2]["facts"]
        .as_array()
        .unwrap()
        .clone();
    let listed = facts.len() - 1;
    assert!(listed > 100 && listed < 400, "{listed}");
    assert_eq!(
        facts[listed],
        serde_json::json!({"title": "…", "value": format!("and {} more", 400 - listed)})
    );
    assert!(receipt(&run, "team")["detail"]
        .as_str()
        .unwrap()
        .ends_with(&format!("a card with 400 files ({listed} listed)")));
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_503_is_tried_again_and_a_400_is_not() {
    let k = key("teams503");
    let (ws, _) = workspace(1, &k, "/fail/503/1", "");
    let (out, _) = ws.run_report("Teamed");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(requests(&k).len(), 2);

    let k = key("teams400");
    let (ws, url) = workspace(1, &k, "/fail/400/5", "");
    let (out, run) = ws.run_report("Teamed");
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(requests(&k).len(), 1);
    // The receiver echoes the path (the URL's secret part): redacted.
    let want = format!(
        "POST {}/[redacted] answered 400: refused: secret",
        env("HTTP", "HTTP_URL")
    );
    assert!(out.stderr.contains(&want), "{out:?}");
    assert_eq!(receipt(&run, "team")["status"], "failed");
    let history = ws.run(&["--json", "history"]);
    for secret in [url.as_str(), &k, &format!("teamssig{k}")] {
        assert_hidden(secret, ws.path(), &[&out, &history]);
    }
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn with_an_s3_destination_each_file_gets_a_download_button() {
    let k = key("teamslinks");
    let prefix = format!("teams{:x}/", rand_u32());
    let (mut ws, _) = workspace(2, &k, "", "");
    ws.secrets(&["S3"]);
    let toml = std::fs::read_to_string(ws.path().join("reports.toml")).unwrap();
    ws.config(
        &toml
            .replace(
                "destinations = [\"team\"]",
                "destinations = [\"team\", \"bucket\"]",
            )
            .replace(
                "[[reports]]",
                &format!("{}[[reports]]", s3_dest("bucket", &prefix, "")),
            ),
    );
    let (out, run) = ws.run_report("Teamed");
    assert_eq!(out.code, 0, "{out:?}");
    let body = json_body(&requests(&k)[0]);
    let url = receipt(&run, "bucket")["links"][0]["url"].clone();
    assert_eq!(
        card(&body)["actions"],
        serde_json::json!([{"type": "Action.OpenUrl", "title": format!("Download {}", file_name("Teamed")), "url": url}])
    );
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = crate::common::tempdir();
    let d = dir.path();
    crate::common::write(d, "x.db", "");
    let config = |url: &str| {
        format!(
            "[settings]\ntimezone = \"UTC\"\n[sources.db]\nkind = \"sqlite\"\npath = \"x.db\"\n\
             [destinations.team]\nkind = \"teams\"\nurl = {url}\ntimeout_seconds = 0\n\
             [[reports]]\nname = \"R\"\ntype = \"R\"\nsource = \"db\"\ndestinations = [\"team\"]\nquery = \"SELECT 1\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"06:00\"\n"
        )
    };
    crate::common::write(d, "reports.toml", &config("\"https://example.com/x\""));
    let out = crate::common::run(d, &["list"]);
    assert_eq!(out.code, 2, "{out:?}");
    for want in [
        "reports.toml:8:7: destination \"team\", key `url`: a secret must not be written in the configuration",
        "reports.toml:9:19: destination \"team\", key `timeout_seconds`: 0 is out of range",
    ] {
        assert!(out.stderr.contains(want), "want: {want}\n{out:?}");
    }
    // The URL is known when the secret is read: `validate` checks it.
    crate::common::write(
        d,
        "reports.toml",
        &config("{ env = \"T_TEAMS_URL\" }").replace("timeout_seconds = 0\n", ""),
    );
    let mut c = crate::common::command(d, &["validate", "--offline"]);
    c.env("T_TEAMS_URL", "http://teams.example.com/workflows/abc");
    let out = crate::common::output(c);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("reports.toml:8:7: destination \"team\", key `url`: plain http:// is allowed to a loopback host only (127.0.0.1, ::1, localhost); use https://"),
        "{out:?}"
    );
}
