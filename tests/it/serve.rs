//! The pickup API as a client meets it: the real binary (`reportctl serve`) on
//! 127.0.0.1, files delivered by `reportctl run` into a pickup store, and a real HTTP
//! client (ureq). Every status code with its exact body, links in and after their
//! lifetime, tampered links, replaced and expired files, traversal attempts, the app
//! endpoint's signature checked against its reference Python sample, limits, logs and graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{command, run, tempdir, write};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const API_KEY: &str = "test-api-key-7f3a";
const LINK_SECRET: &str = "test-link-secret-0123456789abcdef0123456789";
const ACME_KEY: &str = "acme-api-key-55c1";
const ACME_SECRET: &str = "acme-signature-secret-9e2b";

const SECRETS: &[(&str, &str)] = &[
    ("T_API_KEY", API_KEY),
    ("T_LINK_SECRET", LINK_SECRET),
    ("T_ACME_KEY", ACME_KEY),
    ("T_ACME_SECRET", ACME_SECRET),
];

/// Two reports on a pickup store (the default naming), one on an app (zip names), one large.
fn config(keep_days: u32) -> String {
    format!(
        r#"[settings]
timezone = "UTC"

[sources.gen]
kind = "sqlite"
init = ["init.sql"]

[destinations.api]
kind = "pickup"
path = "store"
keep_days = {keep_days}

[destinations.moe]
kind = "pickup"
path = "store"
naming = "dated-zip"
app_id = "acme"
keep_days = {keep_days}

[serve]
api_key = {{ env = "T_API_KEY" }}
link_secret = {{ env = "T_LINK_SECRET" }}
request_timeout_seconds = 2

[serve.apps.acme]
api_key = {{ env = "T_ACME_KEY" }}
signature_secret = {{ env = "T_ACME_SECRET" }}

[[reports]]
name = "Daily Views"
type = "VIEWS"
source = "gen"
destinations = ["api"]
query = "select :from_date as first_day, :to_date as last_day"
[reports.schedule]
frequency = "daily"

[[reports]]
name = "Report test"
type = "VIEWS"
source = "gen"
destinations = ["moe"]
query = "select :from_date as first_day, :to_date as last_day"
[reports.schedule]
frequency = "daily"

[[reports]]
name = "Big Export"
type = "ROWS"
source = "gen"
destinations = ["api"]
status = "draft"
query = """
with recursive n(i) as (select 1 union all select i + 1 from n where i < 400000)
select i, printf('%090d', i) as pad from n
"""
[reports.schedule]
frequency = "daily"
"#
    )
}

fn setup(keep_days: u32) -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "init.sql", "create table t(x);\n");
    write(dir.path(), "reports.toml", &config(keep_days));
    dir
}

/// Noon (UTC) `days` days ago: a run then covers the day two days before (the default
/// window, "today minus two"), and is between `days - 0.5` and `days + 0.5` days old.
fn ago(days: i64) -> DateTime<Utc> {
    (Utc::now().date_naive() - chrono::Duration::days(days))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
}

/// The day a daily run at `ago(days)` covers.
fn covered(days: i64, fmt: &str) -> String {
    (ago(days + 2)).format(fmt).to_string()
}

/// `reportctl run REPORT --now T`: one delivery into the pickup store.
fn deliver(dir: &Path, report: &str, now: DateTime<Utc>) {
    let out = run(dir, &["run", report, "--now", &now.to_rfc3339()]);
    assert_eq!(out.code, 0, "{out:?}");
}

/// A running `reportctl serve` on 127.0.0.1 with a free port; its stderr is collected.
struct Server {
    child: Child,
    base: String,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = command(dir, &["serve", "--listen", "127.0.0.1:0"])
            .envs(SECRETS.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start reportctl serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("serve says where it listens").unwrap();
        let addr = first
            .split("listening on http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_string();
        let log = Arc::new(Mutex::new(vec![first]));
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            base: format!("http://{addr}"),
            addr,
            log,
            reader: Some(reader),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then the exit code and everything it logged.
    fn stop(mut self) -> (i32, Vec<String>) {
        self.terminate();
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let log = self.log.lock().unwrap().clone();
        (status.code().unwrap_or(-1), log)
    }

    fn terminate(&self) {
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    /// Our error body, with the request id the response carries.
    fn error_body(&self, attribute: &str, message: &str, kind: &str) -> String {
        let rid = self.header("x-request-id");
        serde_json::json!({"error": {"attribute": attribute, "message": message, "type": kind, "request_id": rid}})
            .to_string()
    }
}

fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", url, headers)
}

fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    );
    let mut req = match method {
        "GET" => agent.get(url),
        "HEAD" => agent.head(url),
        other => panic!("{other}"),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .body_mut()
        .with_config()
        .limit(100 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// A request written byte for byte on a socket, for paths a client library might tidy.
fn raw(addr: &str, head: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn bearer() -> String {
    format!("Bearer {API_KEY}")
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// The link signature as documented: hex HMAC-SHA256 of "GET\n/download/{id}/{type}\n{expires}".
fn link_sig(id: &str, kind: &str, expires: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(LINK_SECRET.as_bytes()).unwrap();
    mac.update(format!("GET\n/download/{id}/{kind}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The app endpoint's signature, computed by its reference Python sample.
fn python_signature(app_id: &str, filename: &str, secret: &str) -> String {
    let sample = format!(
        r#"# SAMPLE IMPLEMENTATION IN PYTHON
from hashlib import sha256
Api_ID = "{app_id}"
FILENAME = "{filename}"
SECRET_KEY = "{secret}"
Signature_Key = Api_ID + "|" + FILENAME + "|" + SECRET_KEY
# Now Signature is hexdigest of sha256 of Signature_Key
Signature = sha256(Signature_Key.encode('utf-8')).hexdigest()
print(Signature)
"#
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &sample])
        .output()
        .expect(
            "python3 runs the signature's reference sample (scripts/install-test-deps.sh installs it)",
        );
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn rust_signature(app_id: &str, filename: &str, secret: &str) -> String {
    hex::encode(Sha256::digest(format!("{app_id}|{filename}|{secret}")))
}

fn links(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["links"].as_array().unwrap().clone()
}

#[test]
fn reports_and_links_in_and_after_their_lifetime() {
    let dir = setup(7);
    deliver(dir.path(), "Daily Views", ago(1));
    let server = Server::start(dir.path());

    // The API key.
    let r = get(&server.url("/reports"), &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), "Bearer realm=\"reportctl\"");
    assert_eq!(
        r.text(),
        r.error_body(
            "api_key",
            "Missing API key: send Authorization: Bearer KEY or X-API-Key: KEY",
            "UNAUTHORIZED"
        )
    );
    let r = get(&server.url("/reports"), &[("Authorization", "Bearer nope")]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text(),
        r.error_body("api_key", "Invalid API key", "UNAUTHORIZED")
    );

    // The listing: every report with a pickup destination, links for delivered files.
    let before = Utc::now();
    let r = get(&server.url("/reports"), &[("Authorization", &bearer())]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("cache-control"), "no-store");
    let doc = r.json();
    let reports = doc["reports"].as_array().unwrap();
    let ids: Vec<_> = reports.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["Daily_Views", "Report_test", "Big_Export"]);
    assert!(links(&reports[1]).is_empty());
    let one = get(
        &server.url("/reports/Daily_Views"),
        &[("X-API-Key", API_KEY)],
    );
    assert_eq!(one.status, 200);
    let report = one.json();
    assert_eq!(report["name"], "Daily Views");
    assert_eq!(report["types"], serde_json::json!(["VIEWS"]));
    let link = &links(&report)[0];
    assert_eq!(link["type"], "VIEWS");
    let d = covered(1, "%Y%m%d");
    let file = format!("VIEWS_Daily Views_{d}_{d}.csv");
    assert_eq!(link["file"], file.as_str());
    // Expires in 30 minutes (link_minutes' default), in RFC 3339.
    let expires = DateTime::parse_from_rfc3339(link["expires"].as_str().unwrap()).unwrap();
    let lifetime = expires.with_timezone(&Utc) - before;
    assert!(
        (29 * 60..=30 * 60 + 5).contains(&lifetime.num_seconds()),
        "{lifetime}"
    );
    let url = link["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!(
        "{}/download/Daily_Views/VIEWS?expires=",
        server.base
    )));

    let r = get(&server.url("/reports/No_Such"), &[("X-API-Key", API_KEY)]);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text(),
        r.error_body("reportId", "No report with this id is served", "NOT FOUND")
    );

    // Inside its lifetime the link works, with GET and HEAD.
    let r = get(&url, &[]);
    assert_eq!(r.status, 200);
    let csv = std::fs::read_to_string(
        dir.path()
            .join("store/Daily_Views")
            .join(
                std::fs::read_dir(dir.path().join("store/Daily_Views"))
                    .unwrap()
                    .flatten()
                    .find(|e| e.path().is_dir())
                    .unwrap()
                    .file_name(),
            )
            .join(&file),
    )
    .unwrap();
    assert_eq!(r.text(), csv);
    let d = covered(1, "%Y-%m-%d");
    assert_eq!(csv, format!("first_day,last_day\n{d},{d}\n"));
    assert_eq!(r.header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        r.header("content-disposition"),
        format!(
            "attachment; filename=\"{file}\"; filename*=UTF-8''{}",
            file.replace(' ', "%20")
        )
    );
    let h = request("HEAD", &url, &[]);
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), csv.len().to_string());
    assert!(h.body.is_empty());

    // After its lifetime: a link signed with the server's secret that has expired.
    let past = Utc::now().timestamp() - 1;
    let expired = server.url(&format!(
        "/download/Daily_Views/VIEWS?expires={past}&sig={}",
        link_sig("Daily_Views", "VIEWS", past)
    ));
    let r = get(&expired, &[]);
    assert_eq!(r.status, 410);
    let at = DateTime::from_timestamp(past, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        r.text(),
        r.error_body(
            "expires",
            &format!("The link expired at {at}; get a new one from GET /reports/{{id}}"),
            "GONE"
        )
    );
    // The same documented signature, with a time still ahead, works.
    let soon = Utc::now().timestamp() + 60;
    let fresh = server.url(&format!(
        "/download/Daily_Views/VIEWS?expires={soon}&sig={}",
        link_sig("Daily_Views", "VIEWS", soon)
    ));
    assert_eq!(get(&fresh, &[]).status, 200);

    // Tampered links: signature, expiry, type, or no signature at all.
    let (head, sig) = url.rsplit_once("&sig=").unwrap();
    let flipped = format!(
        "{head}&sig={}{}",
        if sig.starts_with('0') { '1' } else { '0' },
        &sig[1..]
    );
    let exp: i64 = head.rsplit_once("expires=").unwrap().1.parse().unwrap();
    let tampered = [
        flipped,
        url.replace(&format!("expires={exp}"), &format!("expires={}", exp + 600)),
        url.replace("/VIEWS?", "/CLICKS?"),
        url.replace("/Daily_Views/", "/Big_Export/")
            .replace("/VIEWS?", "/ROWS?"),
        head.to_string(),
        server.url("/download/Daily_Views/VIEWS"),
    ];
    for t in &tampered {
        let r = get(t, &[]);
        assert_eq!(r.status, 403, "{t}");
        assert_eq!(
            r.text(),
            r.error_body(
                "sig",
                "The link is not valid; get a new one from GET /reports/{id}",
                "FORBIDDEN"
            ),
            "{t}"
        );
    }

    let (code, log) = server.stop();
    assert_eq!(code, 0);
    assert_no_secrets(&log);
    assert!(
        log.iter()
            .any(|l| l.contains("\"GET /download/Daily_Views/VIEWS\" 410 ")
                && l.contains("(link expired)")),
        "{log:#?}"
    );
}

/// Nothing secret in any log line: keys, secrets, link signatures, query strings.
fn assert_no_secrets(log: &[String]) {
    for line in log {
        for s in [
            API_KEY,
            LINK_SECRET,
            ACME_KEY,
            ACME_SECRET,
            "sig=",
            "expires=",
            "?",
        ] {
            assert!(!line.contains(s), "log line shows {s:?}: {line}");
        }
        assert!(!line.contains("Signature"), "{line}");
    }
}

#[test]
fn a_newer_file_replaces_the_older_and_never_the_reverse() {
    let dir = setup(7);
    deliver(dir.path(), "Daily Views", ago(3));
    let server = Server::start(dir.path());
    let listing = || {
        get(
            &server.url("/reports/Daily_Views"),
            &[("Authorization", &bearer())],
        )
        .json()
    };
    let old = links(&listing())[0].clone();
    let old_url = old["url"].as_str().unwrap().to_string();
    let day = |n: i64| covered(n, "%Y-%m-%d");
    assert_eq!(
        get(&old_url, &[]).text(),
        format!("first_day,last_day\n{0},{0}\n", day(3))
    );

    // A later run replaces it: the listing, and the link handed out before, serve the newer.
    deliver(dir.path(), "Daily Views", ago(1));
    let new = links(&listing())[0].clone();
    assert_ne!(new["file"], old["file"]);
    let newer = format!("first_day,last_day\n{0},{0}\n", day(1));
    assert_eq!(get(new["url"].as_str().unwrap(), &[]).text(), newer);
    assert_eq!(get(&old_url, &[]).text(), newer);
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("store/Daily_Views"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(runs.len(), 1, "the replaced file is removed");

    // An earlier run delivered late does not replace it.
    let out = run(
        dir.path(),
        &["run", "Daily Views", "--now", &ago(2).to_rfc3339(), "-v"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("completed"), "{out:?}");
    assert_eq!(links(&listing())[0]["file"], new["file"]);
    assert_eq!(get(new["url"].as_str().unwrap(), &[]).text(), newer);
    let history = run(dir.path(), &["history", "--json"]);
    assert!(
        history.stdout.contains("not kept:"),
        "the receipt says so: {history:?}"
    );
    assert_eq!(server.stop().0, 0);
}

#[test]
#[ignore = "needs python3: scripts/test"]
fn files_past_keep_days_are_not_served() {
    let dir = setup(7);
    // Delivered 6 days ago: within keep_days = 7, so on disk and not pruned.
    deliver(dir.path(), "Daily Views", ago(6));
    deliver(dir.path(), "Report test", ago(6));
    let name6 = format!("Report_test_{}.zip", ago(6).format("%Y%m%d"));
    assert!(
        std::fs::read_dir(dir.path().join("store/Report_test"))
            .unwrap()
            .flatten()
            .any(|e| e.path().join(&name6).exists()),
        "the app's zip is in the store"
    );

    // A server whose keep_days is 5 checks ages at request time, before any pruning.
    write(dir.path(), "reports.toml", &config(5));
    let server = Server::start(dir.path());
    let report = get(
        &server.url("/reports/Daily_Views"),
        &[("Authorization", &bearer())],
    )
    .json();
    assert!(links(&report).is_empty(), "{report}");
    let sig = python_signature("acme", &name6, ACME_SECRET);
    let r = get(
        &server.url(&format!("/campaign_reports/rest_api/acme/{name6}")),
        &[
            ("Authorization", &basic("acme", ACME_KEY)),
            ("Signature", &sig),
        ],
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r.error_body(
            "filename",
            "Requested report is older than 5 days",
            "BAD REQUEST"
        )
    );
    assert_eq!(server.stop().0, 0);

    // Past keep_days = 7: pruned by the run that delivers it, gone for good.
    let dir = setup(7);
    deliver(dir.path(), "Daily Views", ago(8));
    let files: Vec<_> = walk(&dir.path().join("store/Daily_Views"));
    assert!(
        files.iter().all(|f| !f.ends_with(".csv")),
        "pruned: {files:?}"
    );
    let server = Server::start(dir.path());
    let report = get(
        &server.url("/reports/Daily_Views"),
        &[("Authorization", &bearer())],
    )
    .json();
    assert!(links(&report).is_empty(), "{report}");
    assert_eq!(server.stop().0, 0);
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(list) = std::fs::read_dir(dir) {
        for e in list.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}

#[test]
#[ignore = "needs python3: scripts/test"]
fn app_download_endpoint_status_codes_and_bodies() {
    let dir = setup(7);
    let day = ago(1);
    deliver(dir.path(), "Report test", day);
    let server = Server::start(dir.path());
    let name = format!("Report_test_{}.zip", day.format("%Y%m%d"));
    let url =
        |app: &str, file: &str| server.url(&format!("/campaign_reports/rest_api/{app}/{file}"));
    let auth = basic("acme", ACME_KEY);

    // 200: Basic auth and a signature computed exactly as the reference Python sample does.
    let sig = python_signature("acme", &name, ACME_SECRET);
    assert_eq!(sig, rust_signature("acme", &name, ACME_SECRET));
    let r = get(
        &url("acme", &name),
        &[("Authorization", &auth), ("Signature", &sig)],
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), "application/zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.body.clone())).unwrap();
    assert_eq!(zip.len(), 1);
    let mut inner = String::new();
    let d = covered(1, "%Y%m%d");
    zip.by_name(&format!("VIEWS_Report test_{d}_{d}.csv"))
        .unwrap()
        .read_to_string(&mut inner)
        .unwrap();
    assert!(inner.starts_with("first_day,last_day\n"), "{inner}");
    // Hex in capitals is the same signature.
    let r = get(
        &url("acme", &name),
        &[("Authorization", &auth), ("Signature", &sig.to_uppercase())],
    );
    assert_eq!(r.status, 200);

    // 401 with an empty body: missing or wrong signature, missing or wrong Basic auth.
    let wrong_sig = rust_signature("acme", &name, "not-the-secret");
    let other_file = rust_signature("acme", "Report_test_20200101.zip", ACME_SECRET);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no signature", vec![("Authorization", &auth)]),
        (
            "wrong signature",
            vec![("Authorization", &auth), ("Signature", &wrong_sig)],
        ),
        (
            "signature of another file",
            vec![("Authorization", &auth), ("Signature", &other_file)],
        ),
        (
            "not hex",
            vec![("Authorization", &auth), ("Signature", "xyz")],
        ),
        ("no Basic auth", vec![("Signature", &sig)]),
    ];
    let wrong_key = basic("acme", "nope");
    let wrong_user = basic("other", ACME_KEY);
    let more: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "wrong API key",
            vec![("Authorization", &wrong_key), ("Signature", &sig)],
        ),
        (
            "user is not the app",
            vec![("Authorization", &wrong_user), ("Signature", &sig)],
        ),
    ];
    for (what, headers) in cases.iter().chain(more.iter()) {
        let r = get(&url("acme", &name), headers);
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(r.body, b"", "{what}");
        assert_eq!(r.header("content-type"), "application/json", "{what}");
    }

    // 400 with the endpoint's JSON error body.
    let signed = |file: &str| rust_signature("acme", file, ACME_SECRET);
    let r = get(
        &url("nope", &name),
        &[
            ("Authorization", &basic("nope", ACME_KEY)),
            ("Signature", &sig),
        ],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.text(),
        r.error_body("app_id", "Incorrect App Id", "BAD REQUEST")
    );
    let malformed = "Report_test_2026-11-23.zip";
    let r = get(
        &url("acme", malformed),
        &[("Authorization", &auth), ("Signature", &signed(malformed))],
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r.error_body(
            "filename",
            "Invalid report file name: expected REPORT_NAME_YYYYMMDD.zip",
            "BAD REQUEST"
        )
    );
    let old = format!("Report_test_{}.zip", ago(9).format("%Y%m%d"));
    let r = get(
        &url("acme", &old),
        &[("Authorization", &auth), ("Signature", &signed(&old))],
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r.error_body(
            "filename",
            "Requested report is older than 7 days",
            "BAD REQUEST"
        )
    );
    for missing in [
        format!("Report_test_{}.zip", ago(-1).format("%Y%m%d")),
        format!("Daily_Views_{}.zip", day.format("%Y%m%d")),
    ] {
        let r = get(
            &url("acme", &missing),
            &[("Authorization", &auth), ("Signature", &signed(&missing))],
        );
        assert_eq!(r.status, 400, "{missing}");
        assert_eq!(
            r.text(),
            r.error_body(
                "filename",
                &format!("No report file named {missing}"),
                "BAD REQUEST"
            )
        );
    }
    let (code, log) = server.stop();
    assert_eq!(code, 0);
    assert_no_secrets(&log);
    assert!(
        log.iter()
            .any(|l| l.contains(" 401 0 ") && l.contains("(wrong signature)")),
        "{log:#?}"
    );
}

#[test]
fn traversal_attempts_are_refused() {
    let dir = setup(7);
    deliver(dir.path(), "Daily Views", ago(1));
    deliver(dir.path(), "Report test", ago(1));
    std::fs::write(dir.path().join("secret.txt"), "TOP SECRET CONTENT").unwrap();
    let server = Server::start(dir.path());
    let auth = basic("acme", ACME_KEY);

    // The app download endpoint, authenticated and signed for the decoded names.
    for (encoded, decoded) in [
        ("..%2F..%2Fsecret.txt", "../../secret.txt"),
        ("..%2fDaily_Views%2fVIEWS.json", "../Daily_Views/VIEWS.json"),
        (
            "%2E%2E%2F%2E%2E%2FReport_test_20261123.zip",
            "../../Report_test_20261123.zip",
        ),
        ("..%5C..%5Csecret.txt", "..\\..\\secret.txt"),
        (
            "Report_test%2F..%2F..%2Fsecret_20261123.zip",
            "Report_test/../../secret_20261123.zip",
        ),
    ] {
        let sig = rust_signature("acme", decoded, ACME_SECRET);
        let r = get(
            &server.url(&format!("/campaign_reports/rest_api/acme/{encoded}")),
            &[("Authorization", &auth), ("Signature", &sig)],
        );
        assert_eq!(r.status, 400, "{encoded}: {}", r.text());
        assert_eq!(
            r.text(),
            r.error_body(
                "filename",
                "Invalid report file name: expected REPORT_NAME_YYYYMMDD.zip",
                "BAD REQUEST"
            ),
            "{encoded}"
        );
    }

    // Download links signed (with the server's secret) for ids and types that climb out.
    let exp = Utc::now().timestamp() + 60;
    for (id_enc, kind_enc, id, kind) in [
        ("..%2F..", "secret.txt", "../..", "secret.txt"),
        (
            "Daily_Views",
            "..%2FVIEWS.json",
            "Daily_Views",
            "../VIEWS.json",
        ),
        ("..", "secret.txt", "..", "secret.txt"),
        ("%2E%2E", "VIEWS", "..", "VIEWS"),
    ] {
        let url = server.url(&format!(
            "/download/{id_enc}/{kind_enc}?expires={exp}&sig={}",
            link_sig(id, kind, exp)
        ));
        let r = get(&url, &[]);
        assert_eq!(r.status, 404, "{url}");
        assert_eq!(
            r.text(),
            r.error_body(
                "reportId",
                "No report with this id and type is served",
                "NOT FOUND"
            )
        );
    }

    // Dot segments and separators on the wire, exactly as written.
    for path in [
        "/download/../../secret.txt",
        "/download/Daily_Views/../../../secret.txt",
        "/campaign_reports/rest_api/acme/../../../secret.txt",
        "/reports/..%2F..%2Fsecret.txt",
        "/reports/../secret.txt",
        "/%2e%2e/%2e%2e/secret.txt",
        "//etc/passwd",
    ] {
        let (status, text) = raw(
            &server.addr,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
                bearer()
            ),
        );
        assert!(status == 404 || status == 400, "{path}: {text}");
        assert!(!text.contains("TOP SECRET"), "{path}");
    }
    assert_eq!(server.stop().0, 0);
}

#[test]
fn limits_timeouts_and_methods() {
    let dir = setup(7);
    let server = Server::start(dir.path());
    // Headers beyond max_request_bytes (16 KiB by default).
    let big = "x".repeat(40 * 1024);
    let (status, _) = raw(
        &server.addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n"),
    );
    assert_eq!(status, 431);
    // A declared body beyond it.
    let (status, text) = raw(
        &server.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"type\":\"PAYLOAD TOO LARGE\""), "{text}");
    // Other methods.
    let (status, text) = raw(
        &server.addr,
        "DELETE /reports HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 405, "{text}");
    assert!(text.contains("allow: GET, HEAD"), "{text}");
    // A client that never finishes its headers is cut off after request_timeout_seconds (2).
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let start = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "closed after {waited:?}"
    );
    // (An idle keep-alive connection closed after `idle_timeout_seconds` is shown by
    // serve_stall::an_idle_connection_is_closed_after_the_idle_timeout, with a 1-second
    // timeout: the check that was here discarded its own read result and could not fail.)
    assert_eq!(get(&server.url("/healthz"), &[]).text(), "ok\n");
    let (code, log) = server.stop();
    assert_eq!(code, 0);
    assert!(
        !log.iter().any(|l| l.contains(&big[..100])),
        "no header values in logs"
    );
}

#[test]
fn sigterm_lets_a_download_in_flight_finish() {
    let dir = setup(7);
    deliver(dir.path(), "Big Export", ago(1));
    let server = Server::start(dir.path());
    let report = get(
        &server.url("/reports/Big_Export"),
        &[("Authorization", &bearer())],
    )
    .json();
    let link = &links(&report)[0];
    let size = link["bytes"].as_u64().unwrap();
    assert!(size > 30_000_000, "{size}");
    let url = link["url"].as_str().unwrap();
    let path = url.strip_prefix(&server.base).unwrap();

    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut first = [0u8; 4096];
    let n = s.read(&mut first).unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200 OK"));
    server.terminate();
    // Still finishing: the rest arrives in full, then the connection closes.
    std::thread::sleep(Duration::from_millis(300));
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let mut all = first[..n].to_vec();
    all.extend(rest);
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &all[split..];
    assert_eq!(body.len() as u64, size);
    assert_eq!(
        hex::encode(Sha256::digest(body)),
        link["sha256"].as_str().unwrap()
    );
    // New connections are refused once it stopped.
    let (code, log) = server.stop();
    assert_eq!(code, 0, "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("SIGTERM: shutting down; 1 connection open")),
        "{log:#?}"
    );
    assert!(log
        .iter()
        .any(|l| l.contains("\"GET /download/Big_Export/ROWS\" 200 ")));
    assert_eq!(log.last().unwrap(), "reportctl: serve: stopped");
}

#[test]
fn configuration_errors() {
    let base = config(7);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "naming",
            base.replace("naming = \"dated-zip\"", "naming = \"moengage\""),
            "reports.toml:16:10: destination \"moe\", key `naming`: \"moengage\" is not allowed; allowed: report, dated-zip",
        ),
        (
            "app without its zip naming",
            base.replace("naming = \"dated-zip\"\n", ""),
            "reports.toml:16:10: destination \"moe\", key `app_id`: an app downloads one {name_}_{YYYYMMDD}.zip per run; add naming = \"dated-zip\"",
        ),
        (
            "unknown app",
            base.replace("app_id = \"acme\"", "app_id = \"acme2\""),
            "reports.toml:17:10: destination \"moe\", key `app_id`: unknown app \"acme2\"; defined: acme",
        ),
        (
            "two pickup destinations",
            base.replace("destinations = [\"moe\"]", "destinations = [\"moe\", \"api\"]"),
            "reports.toml:42:24: report \"Report test\", key `destinations`: \"moe\" and \"api\" are both pickup destinations; a report is served from one pickup store",
        ),
        (
            "pickup ids",
            base.replace("name = \"Big Export\"", "name = \"Daily_Views\""),
            "reports.toml:48:8: report \"Daily_Views\", key `name`: its pickup id \"Daily_Views\" (the name with spaces as underscores) is already used by report \"Daily Views\"; rename one of them",
        ),
        (
            "listen",
            base.replace("request_timeout_seconds = 2", "listen = \"localhost:80\""),
            "reports.toml:23:10: key `serve.listen`: \"localhost:80\" is not an IP address and port; write e.g. \"127.0.0.1:8080\" or \"[::]:8080\"",
        ),
        (
            "link_minutes",
            base.replace("request_timeout_seconds = 2", "link_minutes = 0"),
            "reports.toml:23:16: key `serve.link_minutes`: 0 is out of range; allowed: 1 to 1440 minutes",
        ),
        (
            "send_timeout_seconds",
            base.replace("request_timeout_seconds = 2", "send_timeout_seconds = 0"),
            "reports.toml:23:24: key `serve.send_timeout_seconds`: 0 is out of range; allowed: 1 to 3600 seconds",
        ),
        (
            "idle_timeout_seconds",
            base.replace("request_timeout_seconds = 2", "idle_timeout_seconds = 7200"),
            "reports.toml:23:24: key `serve.idle_timeout_seconds`: 7200 is out of range; allowed: 1 to 3600 seconds",
        ),
        (
            "max_connections_per_client",
            base.replace("request_timeout_seconds = 2", "max_connections_per_client = 0"),
            "reports.toml:23:30: key `serve.max_connections_per_client`: 0 is out of range; allowed: 1 to 100000",
        ),
        (
            "missing api_key",
            base.replace("api_key = { env = \"T_API_KEY\" }\n", ""),
            "reports.toml:20:1: key `serve.api_key`: missing key `serve.api_key`: the key clients send to GET /reports, a secret such as { env = \"NAME\" } or { file = \"/path\" }",
        ),
        (
            "plain secret",
            base.replace("signature_secret = { env = \"T_ACME_SECRET\" }", "signature_secret = \"abc\""),
            "reports.toml:27:20: key `serve.apps.acme.signature_secret`: a secret must not be written in the configuration; a secret is { env = \"NAME\" } or { file = \"/path/to/file\" }, or set [settings] allow_plain_secrets = true",
        ),
        (
            "unknown serve key",
            base.replace("request_timeout_seconds = 2", "timeout = 2"),
            "reports.toml:23:1: key `serve.timeout`: unknown key `timeout`; allowed: `listen`, `public_url`, `api_key`, `link_secret`, `link_minutes`, `request_timeout_seconds`, `max_request_bytes`, `max_connections`, `max_connections_per_client`, `send_timeout_seconds`, `idle_timeout_seconds`, `shutdown_grace_seconds`, `apps`",
        ),
        (
            "public_url",
            base.replace("request_timeout_seconds = 2", "public_url = \"reports.example.com\""),
            "reports.toml:23:14: key `serve.public_url`: expected the URL clients reach the server at, such as https://reports.example.com or https://example.com/reports (no query)",
        ),
    ];
    let mut failures = Vec::new();
    for (what, toml, want) in &cases {
        let dir = tempdir();
        write(dir.path(), "init.sql", "");
        write(dir.path(), "reports.toml", toml);
        let out = command(dir.path(), &["validate"])
            .envs(SECRETS.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = format!("reportctl: error: {want}\n");
        if out.status.code() != Some(2) || stderr != want {
            failures.push(format!("{what}:\n  want: {want}  got:  {stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `naming = "seed002"`, the deprecated name of `"dated-zip"`, still loads: every command
/// that reads the configuration warns on stderr and says what to write instead, and a
/// run stores the same dated zip as with `"dated-zip"`, which gives no warning.
#[test]
fn the_deprecated_naming_value_loads_with_a_warning() {
    let warning = "reportctl: warning: reports.toml:16:10: destination \"moe\", key `naming`: \"seed002\" is the deprecated name of \"dated-zip\"; write naming = \"dated-zip\" instead\n";
    // The wall clock stands still at the run (`command_at`): the pickup store keeps
    // files keep_days from then, whatever today's date.
    let now = "2026-11-23T12:00:00Z";
    let mut stored = Vec::new();
    for (naming, stderr) in [("seed002", warning), ("dated-zip", "")] {
        let dir = setup(7);
        let text = config(7).replace("naming = \"dated-zip\"", &format!("naming = \"{naming}\""));
        write(dir.path(), "reports.toml", &text);
        for args in [
            &["validate"][..],
            &["list", "--now", now],
            &["plan", "Report test", "--now", now],
            &["destinations"],
            &["run", "Report test", "--now", now],
            &["history"],
        ] {
            let out = crate::common::command_at(dir.path(), now, args)
                .envs(SECRETS.iter().copied())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{naming} {args:?}: {out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                stderr,
                "{naming} {args:?}"
            );
        }
        let out = crate::common::command_at(dir.path(), now, &["validate", "--json"])
            .envs(SECRETS.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["valid"], true);
        assert_eq!(doc["errors"], serde_json::json!([]));
        let warnings = doc["warnings"].as_array().unwrap();
        if naming == "seed002" {
            assert_eq!(warnings.len(), 1, "{doc}");
            assert_eq!(warnings[0]["line"], 16);
            assert_eq!(warnings[0]["column"], 10);
            assert_eq!(warnings[0]["subject"], "destination");
            assert_eq!(warnings[0]["name"], "moe");
            assert_eq!(warnings[0]["key"], "naming");
            assert!(
                warning.ends_with(&format!("{}\n", warnings[0]["message"].as_str().unwrap())),
                "{doc}"
            );
        } else {
            assert!(warnings.is_empty(), "{doc}");
        }
        let mut names: Vec<String> = walk(&dir.path().join("store/Report_test"))
            .iter()
            .filter_map(|p| Path::new(p).file_name()?.to_str().map(String::from))
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        stored.push(names);
    }
    assert_eq!(stored[0], stored[1]);
    assert!(
        stored[0].contains(&"Report_test_20261123.zip".to_string()),
        "{:?}",
        stored[0]
    );
}

#[test]
fn destinations_shows_pickup_stores() {
    let dir = setup(7);
    let out = run(dir.path(), &["destinations"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "TYPE    ID   TARGET\npickup  api  pickup store store\npickup  moe  pickup store store (app acme)\n"
    );
}

#[test]
fn serve_refuses_to_start_without_what_it_needs() {
    let dir = setup(7);
    // A secret that cannot be read, or a link secret too short to sign with.
    let out = command(dir.path(), &["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "reportctl: error: [serve] link_secret: environment variable T_LINK_SECRET is not set\n"
    );
    let out = command(dir.path(), &["serve", "--listen", "127.0.0.1:0"])
        .envs(SECRETS.iter().copied())
        .env("T_LINK_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "reportctl: error: [serve] link_secret: the secret is 5 bytes long; at least 32 are needed (e.g. `openssl rand -hex 32`)\n"
    );
    // No [serve] table.
    let text = config(7);
    let cut = text.find("[serve]").unwrap();
    let end = text.find("[[reports]]").unwrap();
    let no_serve = format!("{}{}", &text[..cut], &text[end..]).replace("app_id = \"acme\"\n", "");
    write(dir.path(), "reports.toml", &no_serve);
    let out = run(dir.path(), &["serve"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml has no [serve] table; add one with api_key and link_secret (see docs/serve.md)\n"
    );
    // An address already in use.
    write(dir.path(), "reports.toml", &config(7));
    let server = Server::start(dir.path());
    let out = command(dir.path(), &["serve", "--listen", &server.addr])
        .envs(SECRETS.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with(&format!("reportctl: error: listening on {}: ", server.addr)),
        "{out:?}"
    );
    assert_eq!(server.stop().0, 0);
}

/// The commented pickup and [serve] blocks of reports.example.toml are valid as written.
#[test]
fn the_example_pickup_and_serve_blocks_load() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Uncomment each block, from its table header to the next blank line.
    let mut out = String::new();
    let mut on = false;
    for line in text.lines() {
        on = (on && !line.is_empty())
            || [
                "# [destinations.api]",
                "# [destinations.partner_api]",
                "# [serve]",
            ]
            .iter()
            .any(|h| line.starts_with(h));
        let line = match line.strip_prefix("# ") {
            Some(rest) if on => rest,
            _ if on && line == "#" => "",
            _ => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    let config = reportctl::config::load_str(&path, &out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let serve = config.serve.expect("[serve] uncommented");
    assert_eq!(serve.link_minutes, 30);
    assert_eq!(serve.apps.len(), 1);
    assert!(serve.apps.contains_key("ACME42"));
    assert_eq!(
        config.destinations["partner_api"].kind.kind_name(),
        "pickup"
    );
    assert_eq!(config.destinations["api"].kind.kind_name(), "pickup");
}
