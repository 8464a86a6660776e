//! Heartbeat pings (`ping_url`) through the binary: the test HTTP receiver started by
//! scripts/test records each request (method, path, body); each test puts a random key
//! in its URL's path and reads its own requests. A ping to a dead port is a warning that
//! never names the key, and the run still completes with exit 0.

use std::path::Path;

use crate::common::fixtures::rand_u32;
use crate::common::servers::env;
use crate::common::{self, tempdir, write, Output};

const RUN: &str = "Daily 2026-11-02T06:00:00+00:00 [5760b598a08f93b5]";

/// A daily report at 06:00 to the directory `out`, two attempts a minute apart;
/// `settings` and `report` lines go into `[settings]` and the report.
fn workspace(settings: &str, report: &str) -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "data.sql",
        "create table t(n integer);\ninsert into t values (1), (2);\n",
    );
    let settings = format!("max_attempts = 2\nretry_delay_seconds = 60\n{settings}");
    let toml = common::daily_config(
        &settings,
        "SELECT n FROM t",
        "frequency = \"daily\"\nat = \"06:00\"",
    )
    .replace(
        "destinations = [\"out\"]\n",
        &format!("destinations = [\"out\"]\n{report}\n"),
    );
    write(d, "reports.toml", &toml);
    dir
}

fn at(d: &Path, wall: &str, args: &[&str], url: &str) -> Output {
    let mut c = common::command_at(d, wall, args);
    c.env("T_PING_URL", url);
    common::output(c)
}

/// A new key, and the receiver's URL with it.
fn key_and_url() -> (String, String) {
    let key = format!("pingkey-{:08x}{:08x}", rand_u32(), rand_u32());
    let url = format!("{}/{key}", env("HTTP", "HTTP_URL"));
    (key, url)
}

/// The requests the receiver got whose path holds `key`: (method, path, body).
fn received(key: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(env("HTTP", "HTTP_REQUESTS")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["path"].as_str().unwrap().contains(key))
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().replace(key, "KEY");
            (s("method"), s("path"), s("body"))
        })
        .collect()
}

fn post(path: &str, body: &str) -> (String, String, String) {
    ("POST".into(), path.into(), body.into())
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn assert_no_key(out: &Output, key: &str) {
    assert!(
        !out.stdout.contains(key) && !out.stderr.contains(key),
        "the ping key shows: {out:?}"
    );
}

/// The report's ping_url wins over the settings' (a dead port here): start, then
/// success with the run's summary; nothing on stderr even with -vv naming the key.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_completed_run_pings_start_then_success() {
    let (key, url) = key_and_url();
    let dead = format!("http://127.0.0.1:{}/other", dead_port());
    let dir = workspace(
        &format!("ping_url = \"{dead}\""),
        "ping_url = { env = \"T_PING_URL\" }",
    );
    let d = dir.path();
    let out = at(d, "2026-11-02T00:00:00Z", &["run-due"], &url);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert_eq!(
        received(&key),
        [],
        "first sight runs nothing, pings nothing"
    );
    let out = at(d, "2026-11-02T06:00:00Z", &["-vv", "run-due"], &url);
    assert_eq!(out.code, 0, "{out:?}");
    assert_no_key(&out, &key);
    assert!(
        out.stderr.contains("start ping to http://127.0.0.1:")
            && out.stderr.contains("/[redacted]: HTTP 200"),
        "{out:?}"
    );
    assert_eq!(
        received(&key),
        [
            post("/KEY/start", &format!("{RUN}: started, attempt 1 of 2")),
            post(
                "/KEY",
                &format!("{RUN}: completed, 2 rows in 1 file, delivered to out")
            ),
        ]
    );
    let history = at(d, "2026-11-02T07:00:00Z", &["history", "--json"], &url);
    assert_no_key(&history, &key);
}

/// Each failed attempt pings /fail with the summary (attempts left, then given up);
/// run-due's exit status is its own (1), not the ping's.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_failing_run_pings_start_then_fail_at_each_attempt() {
    let (key, url) = key_and_url();
    let dir = workspace("ping_url = { env = \"T_PING_URL\" }", "");
    let d = dir.path();
    let out = at(d, "2026-11-02T00:00:00Z", &["run-due"], &url);
    assert_eq!(out.code, 0, "{out:?}");
    write(d, "out", "not a directory\n");
    for wall in ["2026-11-02T06:00:00Z", "2026-11-02T06:01:00Z"] {
        let out = at(d, wall, &["run-due"], &url);
        assert_eq!(out.code, 1, "{out:?}");
        assert_no_key(&out, &key);
    }
    let failed = format!("{RUN}: failed, 2 rows in 1 file: directory \"out\": creating directory out: File exists (os error 17)");
    assert_eq!(
        received(&key),
        [
            post("/KEY/start", &format!("{RUN}: started, attempt 1 of 2")),
            post(
                "/KEY/fail",
                &format!("{failed} (attempt 1 of 2; next try at or after 2026-11-02T06:01:00Z)")
            ),
            post("/KEY/start", &format!("{RUN}: started, attempt 2 of 2")),
            post("/KEY/fail", &format!("{failed} (gave up after 2 attempts)")),
        ]
    );
}

/// A ping that cannot be sent is a warning naming host and port, never the key; the
/// run completes and run-due exits 0.
#[test]
fn a_ping_to_a_dead_port_is_a_warning() {
    let key = format!("pingkey-{:08x}", rand_u32());
    let port = dead_port();
    let url = format!("http://127.0.0.1:{port}/{key}/daily");
    let dir = workspace("", "ping_url = { env = \"T_PING_URL\" }");
    let d = dir.path();
    let out = at(d, "2026-11-02T00:00:00Z", &["run-due"], &url);
    assert_eq!(out.code, 0, "{out:?}");
    let out = at(d, "2026-11-02T06:00:00Z", &["run-due"], &url);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_no_key(&out, &key);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    for (line, event) in lines.iter().zip(["start", "success"]) {
        let want = format!("reportctl: warning: report \"Daily\" [5760b598a08f93b5]: {event} ping failed: http://127.0.0.1:{port}/[redacted]: io: Connection refused (os error 111)");
        assert_eq!(*line, want);
    }
    assert!(d.join("out/D_Daily_20261031_20261031.csv").is_file());
}

/// A ping URL written in the file is checked when the configuration is loaded.
#[test]
fn a_bad_ping_url_is_a_configuration_error() {
    let dir = workspace("ping_url = \"hc-ping.com/abc\"", "");
    let out = common::run(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("ping_url") && out.stderr.contains("not a URL"),
        "{out:?}"
    );
}

/// An https ping verifies the server against the system's trusted certificates (here
/// SSL_CERT_FILE, the receiver's test CA): trusted, it arrives; untrusted, a warning.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn https_pings_verify_the_server() {
    let key = format!("pingkey-{:08x}{:08x}", rand_u32(), rand_u32());
    let url = format!("{}/{key}", env("HTTP", "HTTPS_URL"));
    let dir = workspace("ping_url = { env = \"T_PING_URL\" }", "");
    let d = dir.path();
    let run = |wall: &str, ca: Option<String>| {
        let mut c = common::command_at(d, wall, &["run-due"]);
        c.env("T_PING_URL", &url);
        match ca {
            Some(ca) => c.env("SSL_CERT_FILE", ca),
            None => c.env_remove("SSL_CERT_FILE"),
        };
        common::output(c)
    };
    assert_eq!(run("2026-11-02T00:00:00Z", None).code, 0);
    let out = run("2026-11-02T06:00:00Z", Some(env("HTTP", "HTTP_CA")));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert_eq!(received(&key).len(), 2);
    let out = run("2026-11-03T06:00:00Z", None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_no_key(&out, &key);
    assert_eq!(out.stderr.lines().count(), 2, "{out:?}");
    assert!(
        out.stderr.contains("start ping failed: https://127.0.0.1:"),
        "{out:?}"
    );
    assert_eq!(
        received(&key).len(),
        2,
        "nothing sent to an untrusted server"
    );
}
