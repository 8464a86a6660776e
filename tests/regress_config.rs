//! Regressions of issue 10 in configuration, schedules and `plan`: daily windows that
//! tile across a DST change, a bounded and streamed `plan --count`, `validate` refusing
//! configurations that cannot run, and messages that name what is wrong.

mod common;

use common::{run, tempdir, write};

const BASE: &str = r#"[sources.events]
kind = "sqlite"
init = ["events.sql"]

[destinations.local]
kind = "directory"
path = "out"
"#;

/// One report with `extra` report keys and the given schedule.
fn config(extra: &str, schedule: &str) -> String {
    format!(
        "{BASE}\n[[reports]]\nname = \"Daily Views\"\ntype = \"VIEWS\"\nsource = \"events\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n{extra}\n[reports.schedule]\n{schedule}\n"
    )
}

/// (from, to) of each `plan --json` line.
fn windows(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["from"].as_str().unwrap().to_string(),
                v["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A daily 02:15 report for the previous 24 hours in New York: the spring-forward run
/// (02:15 does not exist on 2026-03-08, it runs at 03:00) still covers from 02:15 the day
/// before, so no minute is left out.
#[test]
fn daily_previous_time_windows_tile_across_spring_forward() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config(
            "timezone = \"America/New_York\"",
            "frequency = \"daily\"\nat = \"02:15\"\ndelay = 0\nprevious_time = 24",
        ),
    );
    let out = run(
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-03-06T12:00:00Z",
            "--count",
            "4",
            "--json",
        ],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let got = windows(&out.stdout);
    let want = [
        ("2026-03-06T02:15:00-05:00", "2026-03-07T02:15:00-05:00"),
        ("2026-03-07T02:15:00-05:00", "2026-03-08T03:00:00-04:00"),
        ("2026-03-08T03:00:00-04:00", "2026-03-09T02:15:00-04:00"),
        ("2026-03-09T02:15:00-04:00", "2026-03-10T02:15:00-04:00"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    assert_eq!(got, want, "{out:?}");
    for pair in got.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "consecutive windows tile");
    }
}

/// `plan --count` is bounded: a huge count is a usage error naming the allowed range,
/// at once (it used to allocate gigabytes and run for minutes).
#[test]
fn plan_count_is_bounded() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config("", "frequency = \"hourly\""),
    );
    for count in ["10001", "1000000", "4294967295", "0"] {
        let started = std::time::Instant::now();
        let out = run(dir.path(), &["plan", "--count", count, "--json"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert_eq!(out.stdout, "");
        assert_eq!(
            out.stderr,
            format!("reportctl: error: --count {count} is out of range; allowed: 1 to 10000 runs per report (for runs further ahead, plan from a later --now)\n")
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

/// The largest count: every report's runs, merged in time order with ties in
/// configuration order, one line each.
#[test]
fn plan_count_at_the_limit_is_merged_in_order() {
    let dir = tempdir();
    let two = format!(
        "{}\n[[reports]]\nname = \"Hourly\"\ntype = \"H\"\nsource = \"events\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n[reports.schedule]\nfrequency = \"hourly\"\n",
        config("", "frequency = \"daily\"\nat = \"06:00\"")
    );
    write(dir.path(), "reports.toml", &two);
    let out = run(
        dir.path(),
        &[
            "plan",
            "--count",
            "10000",
            "--now",
            "2026-01-01T00:00:00Z",
            "--json",
        ],
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 20_000);
    let key = |v: &serde_json::Value| {
        let at = chrono::DateTime::parse_from_rfc3339(v["run_at"].as_str().unwrap()).unwrap();
        (at, v["report"] != "Daily Views")
    };
    for pair in lines.windows(2) {
        assert!(key(&pair[0]) < key(&pair[1]), "{pair:?}");
    }
    // 06:00 UTC: the daily run comes before the hourly run at the same instant.
    assert_eq!(lines[6]["report"], "Daily Views");
    assert_eq!(lines[6]["run_at"], "2026-01-01T06:00:00+00:00");
    assert_eq!(lines[7]["report"], "Hourly");
    assert_eq!(lines[7]["run_at"], "2026-01-01T06:00:00+00:00");
    assert_eq!(lines.last().unwrap()["run_at"], "2053-05-18T06:00:00+00:00");
}

/// `validate` on `text`: (exit code, stderr).
fn validate(text: &str) -> (i32, String) {
    let dir = tempdir();
    write(dir.path(), "reports.toml", text);
    write(dir.path(), "events.sql", "create table t(x);\n");
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.stdout, "");
    (out.code, out.stderr)
}

/// A duplicate key is named; a table given twice is named as a table.
#[test]
fn duplicate_keys_are_named() {
    let text = config("name = \"Again\"", "frequency = \"daily\"");
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:15:1: duplicate key `name`: it is already set in this table; keep one of them\n".to_string())
    );
    let text = config("", "frequency = \"daily\"\nfrequency = \"weekly\"");
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:18:1: duplicate key `frequency`: it is already set in this table; keep one of them\n".to_string())
    );
    let text = format!(
        "[settings]\ntimezone = \"UTC\"\n[settings]\ncatch_up = 3\n{}",
        config("", "frequency = \"daily\"")
    );
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:3:2: the table `[settings]` appears twice; put its keys under one `[settings]`\n".to_string())
    );
}

/// An integer too large for 64 bits gets the key's allowed range, like any other
/// value out of range.
#[test]
fn huge_integers_get_the_allowed_range() {
    for huge in [
        "99999999999999999999",
        "18446744073709551615",
        "-9223372036854775809",
    ] {
        let text = config(
            "",
            &format!("frequency = \"daily\"\nevery = {huge}\nstart = 2026-01-01"),
        );
        assert_eq!(
            validate(&text),
            (2, format!("reportctl: error: reports.toml:18:9: report \"Daily Views\", key `schedule.every`: {huge} is out of range; allowed: 1 to 6 (daily periods between runs)\n"))
        );
    }
    let text = format!(
        "[settings]\ncatch_up = 99999999999999999999\n{}",
        config("", "frequency = \"daily\"")
    );
    assert_eq!(
        validate(&text),
        (2, "reportctl: error: reports.toml:2:12: [settings], key `catch_up`: 99999999999999999999 is out of range; allowed: 1 to 1000 slots\n".to_string())
    );
}

/// A `TZ` that names no zone is not ignored silently: one warning names it and the zone
/// used instead.
#[test]
fn unknown_tz_value_is_warned_about_once() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &config("", "frequency = \"daily\""),
    );
    let out = common::command(
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-01-01T00:00:00Z",
            "--count",
            "1",
            "--json",
        ],
    )
    .env("TZ", "Mars/Base")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let prefix = "reportctl: warning: TZ=\"Mars/Base\" is not an IANA time zone name; using ";
    let suffix = " (the system zone) instead; set TZ to a name such as America/New_York, or `timezone` in [settings]\n";
    assert!(
        stderr.starts_with(prefix) && stderr.ends_with(suffix),
        "{stderr}"
    );
    // A zone name, or none: no warning.
    for tz in ["America/New_York", ":Europe/London"] {
        let out = common::command(
            dir.path(),
            &["plan", "--now", "2026-01-01T00:00:00Z", "--count", "1"],
        )
        .env("TZ", tz)
        .output()
        .unwrap();
        assert_eq!(
            (out.status.code(), out.stderr.as_slice()),
            (Some(0), &b""[..])
        );
    }
}
