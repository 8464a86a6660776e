//! Metrics through the binary: `run-due` writes `metrics_file` after every call (also
//! when nothing was due and when it failed), with each report's last run, the delivery
//! counters kept in the ledger (never going down, also across the migration that
//! starts them from older receipts), and its own figures; Prometheus's `promtool`
//! accepts the file; `serve` answers the same on `/metrics` behind its API key.
//!
//! Deliveries fail without any server: the directory destination `bad` is a regular
//! file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::pickup_serve::{pickup_store, Server, API_KEY};
use crate::common::{self, run_at, tempdir, write};

/// `common::daily_config` ("Daily" at 06:00 to the directory `out`, given up after
/// one attempt), the metrics file, and "Broken" at 06:00 to the broken `bad`.
fn config() -> String {
    let settings = "max_attempts = 1\ndelivery_retries = 0\nmetrics_file = \"reportctl.prom\"";
    common::daily_config(settings, "SELECT n FROM t", DAILY)
        + &format!(
            "\n[destinations.bad]\nkind = \"directory\"\npath = \"bad\"\n\n[[reports]]\nname = \"Broken\"\ntype = \"B\"\nsource = \"db\"\ndestinations = [\"bad\"]\nquery = \"SELECT n FROM t\"\n[reports.schedule]\n{DAILY}\n"
        )
}

const DAILY: &str = "frequency = \"daily\"\nat = \"06:00\"";

/// The label set of the first report (label escaping: the unit tests of `metrics.rs`;
/// report names hold no quotes or backslashes).
const SALES: &str = r#"report="Daily""#;

fn workspace() -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "data.sql",
        "create table t(n integer);\ninsert into t values (1), (2);\n",
    );
    write(d, "reports.toml", &config());
    write(d, "bad", "not a directory\n");
    dir
}

/// The samples of an exposition: series (name and labels) to value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series and value");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

fn metrics_file(d: &Path) -> BTreeMap<String, f64> {
    samples(&std::fs::read_to_string(d.join("reportctl.prom")).expect("metrics file"))
}

fn value(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    *m.get(series)
        .unwrap_or_else(|| panic!("no {series} in {m:#?}"))
}

fn counters(m: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    m.iter()
        .filter(|(k, _)| k.starts_with("reportctl_deliveries_total"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// First sight at midnight (nothing due), then the 06:00 slots of two days: one report
/// completes, the other fails. Returns the metrics after each call.
fn three_calls(d: &Path) -> Vec<BTreeMap<String, f64>> {
    let mut seen = Vec::new();
    for (wall, code) in [
        ("2026-11-02T00:00:00Z", 0),
        ("2026-11-02T06:00:00Z", 1),
        ("2026-11-03T06:00:00Z", 1),
    ] {
        let out = run_at(d, wall, &["run-due"]);
        assert_eq!(out.code, code, "{out:?}");
        assert!(!out.stderr.contains("metrics"), "{out:?}");
        seen.push(metrics_file(d));
    }
    seen
}

#[test]
fn run_due_writes_the_metrics_file_after_every_call() {
    let dir = workspace();
    let d = dir.path();
    let seen = three_calls(d);
    // Nothing due: run-due's own figures, the counters at 0, no report figures yet.
    let first = &seen[0];
    assert_eq!(value(first, "reportctl_run_due_success"), 1.0);
    assert_eq!(value(first, "reportctl_run_due_runs_claimed"), 0.0);
    assert_eq!(
        value(first, "reportctl_run_due_last_timestamp_seconds"),
        1_793_577_600.0
    );
    for dest in ["bad", "out"] {
        for outcome in ["delivered", "failed"] {
            let s = format!(
                "reportctl_deliveries_total{{destination=\"{dest}\",outcome=\"{outcome}\"}}"
            );
            assert_eq!(value(first, &s), 0.0);
        }
    }
    assert!(
        !first.keys().any(|k| k.starts_with("reportctl_report_")),
        "{first:#?}"
    );
    // The 06:00 slots: one completed, one failed.
    let m = &seen[1];
    assert_eq!(value(m, "reportctl_run_due_success"), 0.0);
    assert_eq!(value(m, "reportctl_run_due_runs_claimed"), 2.0);
    assert!(value(m, "reportctl_run_due_duration_seconds") > 0.0);
    let r = |name: &str, labels: &str| value(m, &format!("reportctl_report_{name}{{{labels}}}"));
    assert_eq!(r("last_success_timestamp_seconds", SALES), 1_793_599_200.0);
    assert_eq!(r("last_success_rows", SALES), 2.0);
    assert!(r("last_success_bytes", SALES) > 0.0);
    assert_eq!(
        r("last_run_duration_seconds", SALES),
        0.0,
        "the wall clock stands still"
    );
    for (status, on) in [
        ("completed", 1.0),
        ("failed", 0.0),
        ("skipped", 0.0),
        ("cancelled", 0.0),
    ] {
        assert_eq!(
            r("last_run_status", &format!("{SALES},status=\"{status}\"")),
            on
        );
        let broken = if status == "failed" { 1.0 } else { 0.0 };
        assert_eq!(
            r(
                "last_run_status",
                &format!("report=\"Broken\",status=\"{status}\"")
            ),
            broken
        );
    }
    assert!(
        !m.contains_key("reportctl_report_last_success_timestamp_seconds{report=\"Broken\"}"),
        "Broken never succeeded"
    );
    let c = |dest: &str, outcome: &str| {
        value(
            m,
            &format!("reportctl_deliveries_total{{destination=\"{dest}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!((c("out", "delivered"), c("out", "failed")), (1.0, 0.0));
    assert_eq!((c("bad", "delivered"), c("bad", "failed")), (0.0, 1.0));
    // The next day: the counters went up, never down.
    let next = &seen[2];
    for (series, before) in counters(m) {
        assert!(value(next, &series) >= before, "{series} went down");
    }
    assert_eq!(
        value(
            next,
            "reportctl_deliveries_total{destination=\"out\",outcome=\"delivered\"}"
        ),
        2.0
    );
    assert_eq!(
        value(
            next,
            "reportctl_deliveries_total{destination=\"bad\",outcome=\"failed\"}"
        ),
        2.0
    );
    // Readable by the collector, no temporary file left.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("reportctl.prom"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    assert!(!common::fixtures::files_under(d)
        .iter()
        .any(|f| f.ends_with(".tmp")));
}

#[test]
fn a_run_due_that_fails_still_writes_its_figures() {
    let dir = workspace();
    let d = dir.path();
    // The ledger is not a database: run-due cannot open it.
    write(d, ".reportctl/ledger.sqlite", &"not a ledger\n".repeat(200));
    let out = run_at(d, "2026-11-02T06:00:00Z", &["run-due"]);
    assert_ne!(out.code, 0, "{out:?}");
    let m = metrics_file(d);
    assert_eq!(value(&m, "reportctl_run_due_success"), 0.0);
    assert_eq!(value(&m, "reportctl_run_due_runs_claimed"), 0.0);
}

#[test]
fn the_counters_survive_the_migration_from_older_receipts() {
    let dir = workspace();
    let d = dir.path();
    let before = counters(&three_calls(d)[2]);
    // A ledger of schema version 3: no counters table, the receipts alone (and none
    // of the later versions' tables and columns).
    let ledger = d.join(".reportctl/ledger.sqlite");
    let conn = rusqlite::Connection::open(&ledger).unwrap();
    conn.execute_batch(
        "DROP TABLE delivery_counts;
         DROP TABLE not_sent_counts;
         ALTER TABLE runs DROP COLUMN outcome;
         DROP INDEX runs_slot;
         ALTER TABLE runs DROP COLUMN recipient;
         ALTER TABLE runs DROP COLUMN recipient_values;
         CREATE UNIQUE INDEX runs_slot ON runs (report, slot_at) WHERE slot_at IS NOT NULL;
         UPDATE meta SET value = '3' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(conn);
    let out = run_at(d, "2026-11-03T07:00:00Z", &["run-due"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(counters(&metrics_file(d)), before);
}

/// `promtool check metrics` (Prometheus's own linter) accepts the file: exit 0, no
/// output at all.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn promtool_accepts_the_metrics_file() {
    let dir = workspace();
    let d = dir.path();
    three_calls(d);
    promtool_accepts(&std::fs::read(d.join("reportctl.prom")).unwrap());
}

/// Asserts that `promtool check metrics` accepts `text`: exit 0, no output at all.
pub fn promtool_accepts(text: &[u8]) {
    let promtool = common::servers::env("promtool", "PROMTOOL");
    assert!(
        Path::new(&promtool).is_file(),
        "{promtool} missing: run scripts/install-test-deps.sh"
    );
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        (Some(0), "".into(), "".into()),
        "{}",
        String::from_utf8_lossy(text)
    );
}

fn get(url: &str, key: Option<&str>) -> (u16, String, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut req = agent.get(url);
    if let Some(k) = key {
        req = req.header("Authorization", &format!("Bearer {k}"));
    }
    let mut resp = req.call().unwrap();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        resp.status().as_u16(),
        ctype,
        resp.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn serve_answers_metrics_behind_its_api_key() {
    let dir = pickup_store(1, "");
    let server = Server::start(dir.path());
    let url = format!("http://{}/metrics", server.addr);
    let (status, _, body) = get(&url, None);
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("reportctl_"), "{body}");
    let (status, _, _) = get(&url, Some("wrong-key"));
    assert_eq!(status, 401);
    let (status, ctype, body) = get(&url, Some(API_KEY));
    assert_eq!(status, 200, "{body}");
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    let m = samples(&body);
    assert_eq!(
        value(
            &m,
            "reportctl_report_last_run_status{report=\"Big Export\",status=\"completed\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "reportctl_deliveries_total{destination=\"api\",outcome=\"delivered\"}"
        ),
        1.0
    );
}
