//! `run-due` executing runs side by side (`max_parallel`): runs overlap up to the limit
//! and never beyond it (start and end times the source command writes to a file), a
//! source's `max_concurrent_queries` holds its queries back, every slot is delivered
//! once with overlapping processes, and each result line is printed whole.

use std::path::Path;
use std::process::Stdio;

use crate::common::{command_at, run_at, tempdir, write};

const NOW: &str = "2026-11-02T12:00:00Z";

/// A command source `name` that writes `start REPORT T` and `end REPORT T` to
/// `times.log` around a sleep of `sleep` seconds, then one row.
fn source(name: &str, sleep: &str, extra: &str) -> String {
    let script = format!(
        "printf 'start %s %s\\n' \"$REPORTCTL_REPORT\" \"$(date +%s.%N)\" >> times.log; sleep {sleep}; printf 'end %s %s\\n' \"$REPORTCTL_REPORT\" \"$(date +%s.%N)\" >> times.log; printf 'n\\n1\\n'"
    );
    format!(
        "[sources.{name}]\nkind = \"command\"\nprogram = \"sh\"\nargs = [\"-c\", '''{script}''']\n{extra}\n"
    )
}

/// One-time reports `R0`… on `sources` (in turn), all due at `NOW`, delivered to the
/// directory `out`.
fn config(settings: &str, sources: &str, names: &[&str], reports: usize) -> String {
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
        match f[0] {
            "start" => {
                assert!(starts.insert(f[1].to_string(), t).is_none(), "{log}");
            }
            _ => out.push((f[1].to_string(), starts[f[1]], t)),
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
fn completed_reports(text: &str) -> Vec<String> {
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

fn names(n: usize) -> Vec<String> {
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
