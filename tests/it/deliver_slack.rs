//! The Slack destination against the contract server in the test receiver
//! (scripts/test-servers/slack_contract.py): Slack itself is not reachable from the
//! test machines, so the receiver implements the documented contract of
//! files.getUploadURLExternal, the upload, files.completeUploadExternal and
//! chat.postMessage, checks the bearer token and records each call.

use serde_json::Value;

use crate::common;
use crate::common::fixtures::*;
use crate::common::receiver::{assert_hidden, key, requests};
use crate::common::servers::env;

/// A Slack destination `chat` whose API is the contract server under `key`.
fn chat(key: &str, extra: &str) -> String {
    format!(
        "[destinations.chat]\nkind = \"slack\"\ntoken = {{ env = \"T_SLACK_TOKEN\" }}\napi_url = \"{}/slack/{key}/api\"\n{}\n\n",
        env("HTTP", "HTTP_URL"),
        if extra.contains("channel") { extra.to_string() } else { format!("channel = \"C0123ABC\"\n{extra}") }
    )
}

fn workspace(rows: usize, key: &str, extra: &str) -> Workspace {
    let mut ws = Workspace::new(rows);
    ws.set("T_SLACK_TOKEN", &env("HTTP", "SLACK_TOKEN"));
    ws.config(&format!(
        "{}{}{}",
        settings(""),
        chat(key, extra),
        report("Chatty", &["chat"], "")
    ));
    ws
}

/// Each call as (method or "upload", the fields it was given).
fn calls(key: &str) -> Vec<(String, Value)> {
    requests(key)
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            let what = if path.contains("/upload/") {
                "upload".to_string()
            } else {
                path.rsplit('/').next().unwrap().to_string()
            };
            (what, r["slack"].clone())
        })
        .collect()
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn files_go_through_the_three_documented_calls() {
    let k = key("slackfiles");
    let ws = workspace(30, &k, "");
    let (out, run) = ws.run_report("Chatty");
    assert_eq!(out.code, 0, "{out:?}");
    let got = calls(&k);
    let names: Vec<&str> = got.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        names,
        [
            "files.getUploadURLExternal",
            "upload",
            "files.completeUploadExternal"
        ]
    );
    let csv = expected_csv(30);
    let name = file_name("Chatty");
    assert_eq!(
        got[0].1["fields"],
        serde_json::json!({"filename": name, "length": csv.len().to_string()})
    );
    let file_id = got[0].1["answer"]["file_id"].as_str().unwrap();
    assert_eq!(got[1].1["sha256"], sha256(&csv));
    assert_eq!(got[1].1["filename"], name.as_str());
    let fields = &got[2].1["fields"];
    assert_eq!(fields["channel_id"], "C0123ABC");
    let files: Value = serde_json::from_str(fields["files"].as_str().unwrap()).unwrap();
    assert_eq!(files, serde_json::json!([{"id": file_id, "title": name}]));
    assert_eq!(
        fields["initial_comment"],
        "Report \"Chatty\": 30 rows in 1 file, 2026-11-23 00:00 to 2026-11-24 00:00 (UTC)"
    );
    assert_eq!(got[2].1["answer"]["ok"], true);
    for r in requests(&k)
        .iter()
        .filter(|r| !r["path"].as_str().unwrap().contains("/upload/"))
    {
        assert_eq!(
            r["headers"]["authorization"],
            format!("Bearer {}", env("HTTP", "SLACK_TOKEN"))
        );
    }
    assert_eq!(
        receipt(&run, "chat")["detail"],
        "1 file uploaded to Slack channel C0123ABC"
    );
    assert_hidden(&env("HTTP", "SLACK_TOKEN"), ws.path(), &[&out]);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn slack_errors_say_what_to_do_and_are_not_tried_again() {
    let cases = [
        (
            "channel = \"CNOTINCHANNEL\"",
            "Slack files.completeUploadExternal: not_in_channel: the app is not in channel CNOTINCHANNEL: invite the app to the channel (in the channel: /invite @the-app)",
        ),
        (
            "channel = \"CNOTFOUND\"",
            "Slack files.completeUploadExternal: channel_not_found: there is no channel CNOTFOUND the app can see: check `channel` (the channel's ID, e.g. C0123456789, not its name)",
        ),
    ];
    for (extra, want) in cases {
        let k = key("slackerr");
        let ws = workspace(1, &k, extra);
        let (out, run) = ws.run_report("Chatty");
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(want), "want: {want}\n{out:?}");
        assert_eq!(calls(&k).len(), 3, "one attempt only");
        assert_eq!(receipt(&run, "chat")["status"], "failed");
    }

    let k = key("slackauth");
    let mut ws = workspace(1, &k, "");
    let wrong = format!("xoxb-wrong-{}", rand_u32());
    ws.set("T_SLACK_TOKEN", &wrong);
    let (out, _) = ws.run_report("Chatty");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("Slack files.getUploadURLExternal: invalid_auth: Slack refused the bot token: check `token` (a bot token, xoxb-…, of an installed app)"),
        "{out:?}"
    );
    assert_eq!(calls(&k).len(), 1);
    let history = ws.run(&["--json", "history"]);
    assert_hidden(&wrong, ws.path(), &[&out, &history]);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_429_is_tried_again_after_retry_after() {
    let k = key("slack-ratelimited");
    let ws = workspace(1, &k, "");
    ws.config(
        &format!(
            "{}{}{}",
            settings(""),
            chat(&k, ""),
            report("Chatty", &["chat"], "")
        )
        .replace("delivery_retries = 1", "delivery_retries = 2"),
    );
    let started = std::time::Instant::now();
    let (out, run) = ws.run_report("Chatty");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(started.elapsed().as_secs_f64() >= 2.0);
    let got = calls(&k);
    let names: Vec<&str> = got.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        names,
        [
            "files.getUploadURLExternal",
            "files.getUploadURLExternal",
            "upload",
            "files.completeUploadExternal",
            "files.getUploadURLExternal",
            "upload",
            "files.completeUploadExternal",
        ]
    );
    assert_eq!(receipt(&run, "chat")["status"], "delivered");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn links_mode_posts_a_message_with_the_s3_links() {
    let k = key("slacklinks");
    let prefix = format!("slack{:x}/", rand_u32());
    let mut ws = workspace(2, &k, "");
    ws.secrets(&["S3"]);
    ws.config(&format!(
        "{}{}{}{}",
        settings(""),
        chat(&k, "mode = \"links\""),
        s3_dest("bucket", &prefix, ""),
        report("Chatty", &["chat", "bucket"], "")
    ));
    let (out, run) = ws.run_report("Chatty");
    assert_eq!(out.code, 0, "{out:?}");
    let got = calls(&k);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "chat.postMessage");
    let text = got[0].1["fields"]["text"].as_str().unwrap();
    let url = receipt(&run, "bucket")["links"][0]["url"].as_str().unwrap();
    assert!(
        text.starts_with("Report \"Chatty\": 2 rows in 1 file"),
        "{text}"
    );
    assert!(
        text.contains(&format!("<{url}|{}>", file_name("Chatty"))),
        "{text}"
    );
    assert_eq!(
        receipt(&run, "chat")["detail"],
        "message with 1 link to Slack channel C0123ABC"
    );
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = common::tempdir();
    let d = dir.path();
    common::write(
        d,
        "reports.toml",
        "[settings]\ntimezone = \"UTC\"\n[sources.db]\nkind = \"sqlite\"\npath = \"x.db\"\n\
         [destinations.chat]\nkind = \"slack\"\ntoken = { env = \"T\" }\nchannel = \"#general\"\nmode = \"link\"\napi_url = \"ftp://x\"\n\
         [destinations.links]\nkind = \"slack\"\ntoken = { env = \"T\" }\nchannel = \"C1\"\nmode = \"links\"\n\
         [[reports]]\nname = \"R\"\ntype = \"R\"\nsource = \"db\"\ndestinations = [\"links\"]\nquery = \"SELECT 1\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"06:00\"\n",
    );
    let out = common::run(d, &["list"]);
    assert_eq!(out.code, 2, "{out:?}");
    for want in [
        "reports.toml:9:11: destination \"chat\", key `channel`: a channel ID is letters and digits, e.g. C0123456789, not a #name",
        "reports.toml:10:8: destination \"chat\", key `mode`: \"link\" is not allowed; did you mean \"links\"? allowed: files, links",
        "reports.toml:11:11: destination \"chat\", key `api_url`: expected an https:// URL, not ftp://",
        "reports.toml:21:17: report \"R\", key `destinations`: slack destination \"links\" posts download links (mode = \"links\"), which come from an s3 destination of the same report, and this report has none; add one to `destinations`, or use mode = \"files\"",
    ] {
        assert!(out.stderr.contains(want), "want: {want}\n{out:?}");
    }
}
