//! `run-due` executing runs side by side (`max_parallel`): runs overlap up to the limit
//! and never beyond it (start and end times the source command writes to a file), a
//! source's `max_concurrent_queries` holds its queries back, every slot is delivered
//! once with overlapping processes, and each result line is printed whole; mails to one
//! server share one connection.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{command_at, run_at, tempdir, write};

pub(crate) const NOW: &str = "2026-11-02T12:00:00Z";

/// A command source `name` that writes `start REPORT T PID` and `end REPORT T PID` to
/// `times.log` around a sleep of `sleep` seconds, then one row.
pub(crate) fn source(name: &str, sleep: &str, extra: &str) -> String {
    let script = format!(
        "printf 'start %s %s %s\\n' \"$REPORTCTL_REPORT\" \"$(date +%s.%N)\" $$ >> times.log; sleep {sleep}; printf 'end %s %s %s\\n' \"$REPORTCTL_REPORT\" \"$(date +%s.%N)\" $$ >> times.log; printf 'n\\n1\\n'"
    );
    format!(
        "[sources.{name}]\nkind = \"command\"\nprogram = \"sh\"\nargs = [\"-c\", '''{script}''']\n{extra}\n"
    )
}

/// One-time reports `R0`… on `sources` (in turn), all due at `NOW`, delivered to the
/// directory `out`.
pub(crate) fn config(settings: &str, sources: &str, names: &[&str], reports: usize) -> String {
    let mut toml = format!(
        "[settings]\ntimezone = \"UTC\"\n{settings}\n\n{sources}\n[destinations.out]\nkind = \"directory\"\npath = \"out\"\n"
    );
    for i in 0..reports {
        let src = names[i % names.len()];
        toml.push_str(&format!(
            "\n[[reports]]\nname = \"R{i}\"\ntype = \"T\"\nsource = \"{src}\"\ndestinations = [\"out\"]\nquery = \"SELECT 1\"\n[reports.schedule]\nonce = 2026-11-02T06:00:00\nfrom = 2026-11-01\nto = 2026-11-01\n"
        ));
    }
    toml
}

/// The (report, start, end) of each command that ran, from `times.log`.
fn intervals(dir: &Path) -> Vec<(String, f64, f64)> {
    let log = std::fs::read_to_string(dir.join("times.log")).unwrap_or_default();
    let mut starts = std::collections::HashMap::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let t: f64 = f[2].parse().unwrap();
        let command = (f[1], f[3]);
        match f[0] {
            "start" => {
                assert!(starts.insert(command, t).is_none(), "{log}");
            }
            _ => out.push((f[1].to_string(), starts[&command], t)),
        }
    }
    out
}

/// The most commands (of reports in `only`, or all) that ran at the same time.
fn most_at_once(runs: &[(String, f64, f64)], only: Option<&[&str]>) -> usize {
    let runs: Vec<_> = runs
        .iter()
        .filter(|r| only.is_none_or(|o| o.contains(&r.0.as_str())))
        .collect();
    runs.iter()
        .map(|a| runs.iter().filter(|b| b.1 <= a.1 && a.1 < b.2).count())
        .max()
        .unwrap_or(0)
}

/// Every stdout line is a whole JSON object of a completed run; returns their reports.
pub(crate) fn completed_reports(text: &str) -> Vec<String> {
    let mut reports: Vec<String> = text
        .lines()
        .map(|l| {
            let run: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("not a whole JSON line ({e}): {l:?}\n{text}");
            });
            assert_eq!(run["status"], "completed", "{l}");
            run["report"].as_str().unwrap().to_string()
        })
        .collect();
    reports.sort();
    reports
}

fn out_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("out")).map_or(0, |d| d.count())
}

pub(crate) fn names(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n).map(|i| format!("R{i}")).collect();
    v.sort();
    v
}

#[test]
fn runs_overlap_up_to_max_parallel_each_delivered_once_each_line_whole() {
    let d = tempdir();
    let toml = config("max_parallel = 4", &source("cmd", "1", ""), &["cmd"], 8);
    write(d.path(), "reports.toml", &toml);
    let started = std::time::Instant::now();
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completed_reports(&out.stdout), names(8));
    assert_eq!(out_files(d.path()), 8);
    let runs = intervals(d.path());
    assert_eq!(runs.len(), 8, "each command ran once");
    let most = most_at_once(&runs, None);
    assert!((2..=4).contains(&most), "{most} at once: {runs:?}");
    // 8 s of sleeping with up to 4 at once: well under the sum (a generous bound).
    assert!(took.as_secs_f64() < 6.5, "took {took:?}");
    // Done: a second call owes nothing.
    let again = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.stdout, "");
    assert_eq!(intervals(d.path()).len(), 8);
}

#[test]
fn max_parallel_1_runs_one_after_another_and_the_flag_wins() {
    let d = tempdir();
    let toml = config("max_parallel = 8", &source("cmd", "0.2", ""), &["cmd"], 4);
    write(d.path(), "reports.toml", &toml);
    let out = run_at(
        d.path(),
        NOW,
        &["run-due", "--now", NOW, "--json", "--max-parallel", "1"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completed_reports(&out.stdout), names(4));
    let runs = intervals(d.path());
    assert_eq!(runs.len(), 4);
    assert_eq!(most_at_once(&runs, None), 1, "{runs:?}");
    // In file order, as before parallel runs existed.
    let order: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(order, ["R0", "R1", "R2", "R3"]);
}

#[test]
fn a_source_limit_of_one_never_overlaps_its_queries() {
    let d = tempdir();
    let sources = source("slow", "0.4", "max_concurrent_queries = 1") + &source("fast", "0.4", "");
    // R0, R2, R4, R6 on "slow" (limit 1), the others on "fast".
    let toml = config("max_parallel = 4", &sources, &["slow", "fast"], 8);
    write(d.path(), "reports.toml", &toml);
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completed_reports(&out.stdout), names(8));
    let runs = intervals(d.path());
    let slow = ["R0", "R2", "R4", "R6"];
    assert_eq!(most_at_once(&runs, Some(&slow)), 1, "{runs:?}");
    assert!(most_at_once(&runs, None) >= 2, "{runs:?}");
}

/// A report's condition is a query on its source too: with `max_concurrent_queries =
/// 1` no condition overlaps another query of that source.
#[test]
fn a_source_limit_holds_the_condition_queries_back_too() {
    let d = tempdir();
    let sources = source("slow", "0.3", "max_concurrent_queries = 1") + &source("fast", "0.3", "");
    let toml = config("max_parallel = 4", &sources, &["slow", "fast"], 6).replace(
        "query = \"SELECT 1\"\n",
        "query = \"SELECT 1\"\ncondition = \"SELECT 1\"\n",
    );
    write(d.path(), "reports.toml", &toml);
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completed_reports(&out.stdout), names(6));
    let runs = intervals(d.path());
    let slow = ["R0", "R2", "R4"];
    let slow_queries = runs.iter().filter(|r| slow.contains(&r.0.as_str())).count();
    assert_eq!(slow_queries, 6, "a condition and an output each: {runs:?}");
    assert_eq!(most_at_once(&runs, Some(&slow)), 1, "{runs:?}");
}

#[test]
fn limits_out_of_range_are_refused_with_the_allowed_range() {
    let d = tempdir();
    let toml = config(
        "max_parallel = 0",
        &source("cmd", "0", "max_concurrent_queries = 0"),
        &["cmd"],
        1,
    )
    .replace("path = \"out\"", "path = \"out\"\nmax_concurrent = 300");
    write(d.path(), "reports.toml", &toml);
    let out = run_at(d.path(), NOW, &["validate", "--offline"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml:3:16: [settings], key `max_parallel`: 0 is out of range; allowed: 1 to 256 runs
reportctl: error: reports.toml:9:26: source \"cmd\", key `max_concurrent_queries`: 0 is out of range; allowed: 1 to 256
reportctl: error: reports.toml:14:18: destination \"out\", key `max_concurrent`: 300 is out of range; allowed: 1 to 256
"
    );
}

#[test]
fn eight_overlapping_processes_deliver_each_slot_once() {
    let d = tempdir();
    let toml = config("max_parallel = 4", &source("cmd", "0.3", ""), &["cmd"], 8);
    write(d.path(), "reports.toml", &toml);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut c = command_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    let mut shown = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        shown.extend(completed_reports(&String::from_utf8(out.stdout).unwrap()));
    }
    shown.sort();
    assert_eq!(
        shown,
        names(8),
        "each run shown by the one process that ran it"
    );
    assert_eq!(out_files(d.path()), 8);
    assert_eq!(intervals(d.path()).len(), 8, "each command ran once");
}

/// What the SMTP test server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    mails: AtomicUsize,
    /// Mails being received now, and the most at once.
    receiving: AtomicUsize,
    most: AtomicUsize,
}

/// A plain SMTP server on 127.0.0.1 that accepts every mail, taking `accept_ms` to
/// accept each; returns its port and what it saw.
fn counting_smtp_server(accept_ms: u64) -> (u16, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            s.connections.fetch_add(1, Ordering::SeqCst);
            let s = s.clone();
            std::thread::spawn(move || smtp_session(stream.unwrap(), &s, accept_ms));
        }
    });
    (port, seen)
}

fn smtp_session(stream: TcpStream, seen: &Seen, accept_ms: u64) {
    let mut out = stream.try_clone().unwrap();
    let mut say = |s: &str| out.write_all(format!("{s}\r\n").as_bytes());
    let _ = say("220 localhost ESMTP");
    let mut lines = BufReader::new(stream).lines();
    while let Some(Ok(line)) = lines.next() {
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" | "HELO" => "250 localhost",
            "DATA" => {
                let now = seen.receiving.fetch_add(1, Ordering::SeqCst) + 1;
                seen.most.fetch_max(now, Ordering::SeqCst);
                let _ = say("354 go ahead");
                for l in lines.by_ref() {
                    if l.map_or(true, |l| l == ".") {
                        break;
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(accept_ms));
                seen.mails.fetch_add(1, Ordering::SeqCst);
                seen.receiving.fetch_sub(1, Ordering::SeqCst);
                "250 queued"
            }
            "QUIT" => {
                let _ = say("221 bye");
                return;
            }
            _ => "250 ok",
        };
        if say(reply).is_err() {
            return;
        }
    }
}

/// Six reports, four at once, each mailed to the server at `port` by a destination
/// with `limit` (a `max_concurrent` line, or nothing).
fn mail_workspace(port: u16, limit: &str) -> tempfile::TempDir {
    let d = tempdir();
    let smtp = format!(
        "max_parallel = 4\n\n[settings.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"reports@example.com\"\n"
    );
    let toml = config(&smtp, &source("cmd", "0.1", ""), &["cmd"], 6).replace(
        "destinations = [\"out\"]",
        "destinations = [\"out\", \"mail\"]",
    ) + &format!(
        "\n[destinations.mail]\nkind = \"email\"\nto = [\"partner@example.com\"]\n{limit}\n"
    );
    write(d.path(), "reports.toml", &toml);
    d
}

#[test]
fn mails_to_one_server_reuse_one_connection() {
    let (port, seen) = counting_smtp_server(0);
    // One delivery at a time to the mail destination: one connection for all six.
    let d = mail_workspace(port, "max_concurrent = 1");
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(completed_reports(&out.stdout), names(6));
    assert_eq!(seen.mails.load(Ordering::SeqCst), 6);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn a_destination_limit_holds_its_deliveries_back() {
    // The server takes 300 ms per mail: without a limit, mails of runs side by side
    // overlap (each on a connection of its own); with max_concurrent = 1 they never do.
    let (port, free) = counting_smtp_server(300);
    let d = mail_workspace(port, "");
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(completed_reports(&out.stdout), names(6), "{out:?}");
    assert!(
        free.most.load(Ordering::SeqCst) >= 2,
        "no overlap without a limit"
    );
    // A connection per mail being sent at once (at most max_parallel), reused after.
    assert!(free.connections.load(Ordering::SeqCst) <= 4);
    let (port, limited) = counting_smtp_server(300);
    let d = mail_workspace(port, "max_concurrent = 1");
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(completed_reports(&out.stdout), names(6), "{out:?}");
    assert_eq!(limited.most.load(Ordering::SeqCst), 1);
    assert_eq!(limited.mails.load(Ordering::SeqCst), 6);
}

#[test]
fn killed_mid_run_each_run_completes_once_after_the_lease() {
    let d = tempdir();
    let settings = "max_parallel = 4\nlease_seconds = 60\nretry_delay_seconds = 0";
    // Each command sleeps as long as the file `delay` says.
    let toml = config(settings, &source("cmd", "$(cat delay)", ""), &["cmd"], 8);
    write(d.path(), "reports.toml", &toml);
    write(d.path(), "delay", "30");
    let mut child = command_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let log = d.path().join("times.log");
    while std::fs::read_to_string(&log).map_or(0, |l| l.lines().count()) < 4 {
        assert!(std::time::Instant::now() < deadline, "4 runs never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL, with 4 runs in flight
    child.wait().unwrap();
    write(d.path(), "delay", "0");
    // Within the lease: the 4 claimed runs are left alone; the other 4 run.
    let within = run_at(
        d.path(),
        "2026-11-02T12:00:30Z",
        &["run-due", "--now", NOW, "--json"],
    );
    assert_eq!(within.code, 0, "{within:?}");
    assert_eq!(completed_reports(&within.stdout).len(), 4);
    // After the lease: the 4 killed runs are taken over, once.
    let after = run_at(
        d.path(),
        "2026-11-02T12:01:01Z",
        &["run-due", "--now", NOW, "--json"],
    );
    assert_eq!(after.code, 0, "{after:?}");
    let mut all = completed_reports(&within.stdout);
    all.extend(completed_reports(&after.stdout));
    all.sort();
    assert_eq!(all, names(8));
    for line in after.stdout.lines() {
        let run: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(run["attempts"], 2, "{line}");
    }
    assert_eq!(out_files(d.path()), 8);
    let done = run_at(
        d.path(),
        "2026-11-02T12:05:00Z",
        &["run-due", "--now", NOW, "--json"],
    );
    assert_eq!((done.code, done.stdout.as_str()), (0, ""));
}

#[test]
fn the_recipients_of_a_report_run_side_by_side_each_once() {
    let d = tempdir();
    let list: Vec<String> = (0..8).map(|i| format!("{{ id = \"p{i}\" }}")).collect();
    let toml = config("max_parallel = 4", &source("cmd", "0.5", ""), &["cmd"], 1).replace(
        "query = \"SELECT 1\"",
        "query = \"SELECT 1\"\nfile_name = \"{type}_{recipient.id}.csv\"",
    ) + &format!(
        "[reports.recipients]\nkey = \"id\"\nlist = [{}]\n",
        list.join(", ")
    );
    write(d.path(), "reports.toml", &toml);
    let out = run_at(d.path(), NOW, &["run-due", "--now", NOW, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 8, "{out:?}");
    assert_eq!(out_files(d.path()), 8);
    let runs = intervals(d.path());
    assert_eq!(runs.len(), 8);
    let most = most_at_once(&runs, None);
    assert!((2..=4).contains(&most), "{most} at once: {runs:?}");
}
