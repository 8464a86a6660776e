//! Named windows (`[reports.schedule] window`) through the binary: each window across
//! the DST changes of Europe/Paris and America/New_York, a month end and a leap day,
//! against tables computed by hand; `list` in words; the refusals; `at = "7:00"`; the
//! forms of `--now`.

use crate::common::{run, tempdir, write};

const WINDOWS: [&str; 11] = [
    "yesterday",
    "day_before_yesterday",
    "last_2_days",
    "last_3_days",
    "last_7_days",
    "last_366_days",
    "previous_week",
    "previous_month",
    "previous_quarter",
    "week_to_date",
    "month_to_date",
];

/// A report per window and zone, daily at 7:00 (one-digit hour), named "<zone> <window>".
fn config() -> String {
    let mut s = String::from(
        "[settings]\ntimezone = \"Europe/Paris\"\n\n[sources.ev]\nkind = \"sqlite\"\ninit = [\"events.sql\"]\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n",
    );
    for (short, zone) in [("paris", "Europe/Paris"), ("ny", "America/New_York")] {
        for w in WINDOWS {
            s.push_str(&format!(
                "\n[[reports]]\nname = \"{short} {w}\"\ntype = \"V\"\nsource = \"ev\"\ndestinations = [\"local\"]\nquery = \"select 1\"\ntimezone = \"{zone}\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"7:00\"\nwindow = \"{w}\"\n"
            ));
        }
    }
    s
}

fn workspace(toml: &str) -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "reports.toml", toml);
    write(dir.path(), "events.sql", "CREATE TABLE t(x);\n");
    dir
}

/// (run_at, from, to) of each `plan --json` line.
fn plan(dir: &std::path::Path, args: &[&str]) -> Vec<(String, String, String)> {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    out.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            (s("run_at"), s("from"), s("to"))
        })
        .collect()
}

/// (report, --now, run_at, from, to), every value worked out by hand from the zones'
/// rules: Paris changes on 2026-03-29 (+01:00 → +02:00) and 2026-10-25 (back);
/// New York on 2026-03-08 (-05:00 → -04:00) and 2026-11-01 (back). `--now` is a local
/// date in the settings' zone (Paris) or an RFC 3339 instant.
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str, &str, &str)] = &[
    // Paris, spring: the run on Monday 2026-03-30.
    ("paris yesterday", "2026-03-30", "2026-03-30T07:00:00+02:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    ("paris day_before_yesterday", "2026-03-30", "2026-03-30T07:00:00+02:00", "2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00"),
    ("paris last_7_days", "2026-03-30", "2026-03-30T07:00:00+02:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    ("paris previous_week", "2026-03-30", "2026-03-30T07:00:00+02:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    ("paris week_to_date", "2026-03-30", "2026-03-30T07:00:00+02:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    ("paris month_to_date", "2026-03-30", "2026-03-30T07:00:00+02:00", "2026-03-01T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    // Paris, Wednesday 2026-04-01: the 1st, a new quarter.
    ("paris week_to_date", "2026-04-01", "2026-04-01T07:00:00+02:00", "2026-03-30T00:00:00+02:00", "2026-04-01T00:00:00+02:00"),
    ("paris month_to_date", "2026-04-01", "2026-04-01T07:00:00+02:00", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"),
    ("paris previous_month", "2026-04-01", "2026-04-01T07:00:00+02:00", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"),
    ("paris previous_quarter", "2026-04-01", "2026-04-01T07:00:00+02:00", "2026-01-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"),
    // Paris, autumn: the run on Monday 2026-10-26.
    ("paris yesterday", "2026-10-26", "2026-10-26T07:00:00+01:00", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
    ("paris day_before_yesterday", "2026-10-26", "2026-10-26T07:00:00+01:00", "2026-10-24T00:00:00+02:00", "2026-10-25T00:00:00+02:00"),
    ("paris last_2_days", "2026-10-26", "2026-10-26T07:00:00+01:00", "2026-10-24T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
    ("paris previous_week", "2026-10-26", "2026-10-26T07:00:00+01:00", "2026-10-19T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
    ("paris month_to_date", "2026-10-26", "2026-10-26T07:00:00+01:00", "2026-10-01T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
    // Paris, Sunday 2026-11-01.
    ("paris week_to_date", "2026-11-01", "2026-11-01T07:00:00+01:00", "2026-10-26T00:00:00+01:00", "2026-11-01T00:00:00+01:00"),
    ("paris month_to_date", "2026-11-01", "2026-11-01T07:00:00+01:00", "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00"),
    ("paris previous_month", "2026-11-01", "2026-11-01T07:00:00+01:00", "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00"),
    ("paris previous_quarter", "2027-01-04", "2027-01-04T07:00:00+01:00", "2026-10-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00"),
    // Paris, Friday 2024-03-01, after a leap day.
    ("paris yesterday", "2024-03-01", "2024-03-01T07:00:00+01:00", "2024-02-29T00:00:00+01:00", "2024-03-01T00:00:00+01:00"),
    ("paris month_to_date", "2024-03-01", "2024-03-01T07:00:00+01:00", "2024-02-01T00:00:00+01:00", "2024-03-01T00:00:00+01:00"),
    ("paris previous_month", "2024-03-01", "2024-03-01T07:00:00+01:00", "2024-02-01T00:00:00+01:00", "2024-03-01T00:00:00+01:00"),
    ("paris week_to_date", "2024-03-01", "2024-03-01T07:00:00+01:00", "2024-02-26T00:00:00+01:00", "2024-03-01T00:00:00+01:00"),
    ("paris last_366_days", "2024-03-01", "2024-03-01T07:00:00+01:00", "2023-03-01T00:00:00+01:00", "2024-03-01T00:00:00+01:00"),
    // New York, spring: the run on Monday 2026-03-09.
    ("ny yesterday", "2026-03-09T00:00:00-04:00", "2026-03-09T07:00:00-04:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"),
    ("ny day_before_yesterday", "2026-03-09T00:00:00-04:00", "2026-03-09T07:00:00-04:00", "2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00"),
    ("ny last_7_days", "2026-03-09T00:00:00-04:00", "2026-03-09T07:00:00-04:00", "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00"),
    ("ny previous_week", "2026-03-09T00:00:00-04:00", "2026-03-09T07:00:00-04:00", "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00"),
    ("ny week_to_date", "2026-03-09T00:00:00-04:00", "2026-03-09T07:00:00-04:00", "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-04:00"),
    ("ny month_to_date", "2026-03-09T00:00:00-04:00", "2026-03-09T07:00:00-04:00", "2026-03-01T00:00:00-05:00", "2026-03-09T00:00:00-04:00"),
    // New York, Wednesday 2026-04-01.
    ("ny previous_month", "2026-04-01T00:00:00-04:00", "2026-04-01T07:00:00-04:00", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"),
    ("ny month_to_date", "2026-04-01T00:00:00-04:00", "2026-04-01T07:00:00-04:00", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"),
    ("ny previous_quarter", "2026-04-01T00:00:00-04:00", "2026-04-01T07:00:00-04:00", "2026-01-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"),
    ("ny week_to_date", "2026-04-01T00:00:00-04:00", "2026-04-01T07:00:00-04:00", "2026-03-30T00:00:00-04:00", "2026-04-01T00:00:00-04:00"),
    // New York, autumn: the run on Monday 2026-11-02.
    ("ny yesterday", "2026-11-02T00:00:00-05:00", "2026-11-02T07:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"),
    ("ny day_before_yesterday", "2026-11-02T00:00:00-05:00", "2026-11-02T07:00:00-05:00", "2026-10-31T00:00:00-04:00", "2026-11-01T00:00:00-04:00"),
    ("ny last_3_days", "2026-11-02T00:00:00-05:00", "2026-11-02T07:00:00-05:00", "2026-10-30T00:00:00-04:00", "2026-11-02T00:00:00-05:00"),
    ("ny previous_week", "2026-11-02T00:00:00-05:00", "2026-11-02T07:00:00-05:00", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00"),
    ("ny month_to_date", "2026-11-02T00:00:00-05:00", "2026-11-02T07:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"),
    // New York, month ends: Tuesday 2026-12-01, Saturday 2026-01-31, a new year.
    ("ny previous_month", "2026-12-01T00:00:00-05:00", "2026-12-01T07:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"),
    ("ny month_to_date", "2026-12-01T00:00:00-05:00", "2026-12-01T07:00:00-05:00", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"),
    ("ny month_to_date", "2026-01-31T00:00:00-05:00", "2026-01-31T07:00:00-05:00", "2026-01-01T00:00:00-05:00", "2026-01-31T00:00:00-05:00"),
    ("ny previous_quarter", "2027-01-04T00:00:00-05:00", "2027-01-04T07:00:00-05:00", "2026-10-01T00:00:00-04:00", "2027-01-01T00:00:00-05:00"),
];

#[test]
fn each_named_window_across_dst_and_month_ends() {
    let dir = workspace(&config());
    let mut failures = Vec::new();
    for (report, now, run_at, from, to) in TABLE {
        let got = plan(dir.path(), &[report, "--now", now, "--count", "1"]);
        let want = vec![(run_at.to_string(), from.to_string(), to.to_string())];
        if got != want {
            failures.push(format!("{report} --now {now}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A schedule per frequency whose window is one period long: consecutive windows tile
/// across the DST changes and month ends.
#[test]
fn one_period_windows_tile() {
    let schedule = |name: &str, sched: &str| {
        format!("\n[[reports]]\nname = \"{name}\"\ntype = \"V\"\nsource = \"ev\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n[reports.schedule]\n{sched}\n")
    };
    let mut toml = config();
    toml.push_str(&schedule(
        "weekly",
        "frequency = \"weekly\"\nrun_on = 2\nwindow = \"previous_week\"",
    ));
    toml.push_str(&schedule(
        "monthly",
        "frequency = \"monthly\"\nrun_on = 3\nat = \"02:30\"\nwindow = \"previous_month\"",
    ));
    toml.push_str(&schedule(
        "quarterly",
        "frequency = \"quarterly\"\nwindow = \"previous_quarter\"",
    ));
    let dir = workspace(&toml);
    let s = |v: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        plan(
            dir.path(),
            &["weekly", "--now", "2026-03-20", "--count", "3"]
        ),
        s(&[
            (
                "2026-03-24T06:00:00+01:00",
                "2026-03-16T00:00:00+01:00",
                "2026-03-23T00:00:00+01:00"
            ),
            (
                "2026-03-31T06:00:00+02:00",
                "2026-03-23T00:00:00+01:00",
                "2026-03-30T00:00:00+02:00"
            ),
            (
                "2026-04-07T06:00:00+02:00",
                "2026-03-30T00:00:00+02:00",
                "2026-04-06T00:00:00+02:00"
            ),
        ])
    );
    // 02:30 on 2026-03-03 … 2026-05-03: never in a gap in Paris (the change is on the 29th).
    assert_eq!(
        plan(
            dir.path(),
            &["monthly", "--now", "2026-02-15", "--count", "3"]
        ),
        s(&[
            (
                "2026-03-03T02:30:00+01:00",
                "2026-02-01T00:00:00+01:00",
                "2026-03-01T00:00:00+01:00"
            ),
            (
                "2026-04-03T02:30:00+02:00",
                "2026-03-01T00:00:00+01:00",
                "2026-04-01T00:00:00+02:00"
            ),
            (
                "2026-05-03T02:30:00+02:00",
                "2026-04-01T00:00:00+02:00",
                "2026-05-01T00:00:00+02:00"
            ),
        ])
    );
    assert_eq!(
        plan(
            dir.path(),
            &["quarterly", "--now", "2026-02-15", "--count", "3"]
        ),
        s(&[
            (
                "2026-04-01T06:00:00+02:00",
                "2026-01-01T00:00:00+01:00",
                "2026-04-01T00:00:00+02:00"
            ),
            (
                "2026-07-01T06:00:00+02:00",
                "2026-04-01T00:00:00+02:00",
                "2026-07-01T00:00:00+02:00"
            ),
            (
                "2026-10-01T06:00:00+02:00",
                "2026-07-01T00:00:00+02:00",
                "2026-10-01T00:00:00+02:00"
            ),
        ])
    );
}

/// `list` says each window in words.
#[test]
fn list_says_the_window_in_words() {
    let dir = workspace(&config());
    let out = run(dir.path(), &["list", "--now", "2026-11-30"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let schedules: Vec<&str> = out
        .stdout
        .lines()
        .skip(1)
        .take(11)
        .map(|l| l.split_once("Europe/Paris, ").unwrap().1)
        .collect();
    assert_eq!(
        schedules,
        [
            "covering yesterday",
            "covering the day before yesterday",
            "covering the last 2 days, up to the end of yesterday",
            "covering the last 3 days, up to the end of yesterday",
            "covering the last 7 days, up to the end of yesterday",
            "covering the last 366 days, up to the end of yesterday",
            "covering the previous week, Monday to Sunday",
            "covering the previous calendar month",
            "covering the previous calendar quarter",
            "covering the week to date, Monday to yesterday (on Mondays the whole previous week)",
            "covering the month to date, the 1st to yesterday (on the 1st the whole previous month)",
        ]
    );
    assert!(
        out.stdout.contains("paris yesterday             active  2026-11-30T07:00:00+01:00  -         daily at 07:00 Europe/Paris, covering yesterday\n"),
        "{}",
        out.stdout
    );
}

/// One report with the given schedule lines, for the refusals.
fn refused(schedule: &str) -> String {
    let toml = format!("[sources.ev]\nkind = \"sqlite\"\ninit = [\"events.sql\"]\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"R\"\ntype = \"V\"\nsource = \"ev\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n[reports.schedule]\n{schedule}\n");
    let dir = workspace(&toml);
    let out = run(dir.path(), &["validate"]);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
    out.stderr
}

#[test]
fn refusals_name_the_key_and_what_is_allowed() {
    let allowed = "allowed: yesterday, day_before_yesterday, last_N_days (N from 1 to 366), previous_week, previous_month, previous_quarter, week_to_date, month_to_date";
    assert_eq!(
        refused("frequency = \"daily\"\nwindow = \"yesterdy\""),
        format!("reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: \"yesterdy\" is not a window; did you mean \"yesterday\"? {allowed}\n")
    );
    assert_eq!(
        refused("frequency = \"daily\"\nwindow = \"last7days\""),
        format!("reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: \"last7days\" is not a window; did you mean \"last_7_days\"? {allowed}\n")
    );
    assert_eq!(
        refused("frequency = \"daily\"\nwindow = \"fortnight\""),
        format!("reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: \"fortnight\" is not a window; {allowed}\n")
    );
    assert_eq!(
        refused("frequency = \"daily\"\nwindow = \"last_367_days\""),
        "reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: \"last_367_days\": N in last_N_days must be 1 to 366\n"
    );
    assert_eq!(
        refused("frequency = \"daily\"\nwindow = \"last_0_days\""),
        "reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: \"last_0_days\": N in last_N_days must be 1 to 366\n"
    );
    assert_eq!(
        refused("frequency = \"daily\"\nwindow = \"yesterday\"\ndelay = 7\nprevious_time = 24"),
        "reportctl: error: reports.toml:18:9: report \"R\", key `schedule.delay`: give either `window` (a named period) or `delay` and `previous_time` (counted back from the run), not both; `window` = \"yesterday\" is set\n"
    );
    assert_eq!(
        refused("frequency = \"daily\"\nprevious_time = 24\nwindow = \"yesterday\""),
        "reportctl: error: reports.toml:17:17: report \"R\", key `schedule.previous_time`: give either `window` (a named period) or `delay` and `previous_time` (counted back from the run), not both; `window` = \"yesterday\" is set\n"
    );
    assert_eq!(
        refused("frequency = \"hourly\"\nwindow = \"yesterday\""),
        "reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: `window` is for daily, weekly, monthly and quarterly schedules; an hourly run covers the `every` hours before its hour, or `previous_time` minutes ending `delay` minutes before the run\n"
    );
    assert_eq!(
        refused("send_at = \"09:30\"\nwindow = \"yesterday\""),
        "reportctl: error: reports.toml:17:10: report \"R\", key `schedule.window`: `window` is for recurring schedules (`frequency` = daily, weekly, monthly or quarterly); a `send_at` schedule covers the `included_range_days` UTC days before the run date\n"
    );
    assert_eq!(
        refused("once = \"asap\"\nfrom = 2026-11-01\nto = 2026-11-02\nwindow = \"yesterday\""),
        "reportctl: error: reports.toml:19:10: report \"R\", key `schedule.window`: `window` is for recurring schedules (`frequency` = daily, weekly, monthly or quarterly); a one-time schedule covers `from` to `to`\n"
    );
    assert_eq!(
        refused("frequency = \"daily\"\nat = \"7:5\""),
        "reportctl: error: reports.toml:17:6: report \"R\", key `schedule.at`: \"7:5\" is not a time of day; write \"HH:MM\", from \"00:00\" to \"23:59\"\n"
    );
}

/// No `window`: today's default, the day before yesterday, unchanged; `at = "7:00"` is
/// `at = "07:00"`.
#[test]
fn default_window_and_one_digit_hour() {
    let body = |at: &str, window: &str| {
        format!("[settings]\ntimezone = \"Europe/Paris\"\n[sources.ev]\nkind = \"sqlite\"\ninit = [\"events.sql\"]\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n[[reports]]\nname = \"R\"\ntype = \"V\"\nsource = \"ev\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n[reports.schedule]\nfrequency = \"daily\"\nat = \"{at}\"\n{window}\n")
    };
    let args = ["plan", "--json", "--now", "2026-10-26", "--count", "2"];
    let default = workspace(&body("07:00", ""));
    let named = workspace(&body("7:00", "window = \"day_before_yesterday\""));
    let a = run(default.path(), &args);
    let b = run(named.path(), &args);
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(
        a.stdout,
        "{\"report\":\"R\",\"run_at\":\"2026-10-26T07:00:00+01:00\",\"from\":\"2026-10-24T00:00:00+02:00\",\"to\":\"2026-10-25T00:00:00+02:00\",\"files\":[\"V_R_20261024_20261024.csv\"],\"recipient\":null}\n{\"report\":\"R\",\"run_at\":\"2026-10-27T07:00:00+01:00\",\"from\":\"2026-10-25T00:00:00+02:00\",\"to\":\"2026-10-26T00:00:00+01:00\",\"files\":[\"V_R_20261025_20261025.csv\"],\"recipient\":null}\n"
    );
}

/// `--now` takes an RFC 3339 instant, a local date (its midnight) or a local date-time
/// (with `T` or a space), read in the settings' zone, for every command that has it.
#[test]
fn now_forms() {
    let dir = workspace(&config());
    let first = |now: &str| {
        plan(
            dir.path(),
            &["paris yesterday", "--now", now, "--count", "1"],
        )
    };
    let at_seven = first("2026-11-30T06:00:00Z");
    assert_eq!(at_seven[0].0, "2026-11-30T07:00:00+01:00");
    assert_eq!(first("2026-11-30T07:00"), at_seven);
    assert_eq!(first("2026-11-30 07:00"), at_seven);
    assert_eq!(first("2026-11-30 07:00:00"), at_seven);
    assert_eq!(first("2026-11-30T07:00:00+01:00"), at_seven);
    assert_eq!(first("2026-11-30"), at_seven);
    // One second later, the next day's run.
    assert_eq!(
        first("2026-11-30T07:00:01")[0].0,
        "2026-12-01T07:00:00+01:00"
    );
    // The settings' zone reads the local form for every report, New York's too:
    // 2026-11-30 00:00 Paris is 2026-11-29 18:00 New York.
    let ny = plan(
        dir.path(),
        &["ny yesterday", "--now", "2026-11-30", "--count", "1"],
    );
    assert_eq!(ny[0].0, "2026-11-30T07:00:00-05:00");
    let ny = plan(
        dir.path(),
        &["ny yesterday", "--now", "2026-11-30T14:00", "--count", "1"],
    );
    assert_eq!(ny[0].0, "2026-12-01T07:00:00-05:00");

    let out = run(
        dir.path(),
        &["run-due", "--dry-run", "--now", "2026-11-30 07:00"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(
        dir.path(),
        &[
            "run",
            "paris yesterday",
            "-o",
            "-",
            "--now",
            "2026-11-30T08:00",
        ],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, "1\n1\n"), "{out:?}");
    let out = run(dir.path(), &["list", "--now", "2026-11-30T08:00"]);
    assert!(
        out.stdout
            .contains("paris yesterday             active  2026-12-01T07:00:00+01:00"),
        "{out:?}"
    );
    for cmd in [
        &["plan"][..],
        &["run-due"],
        &["list"],
        &["run", "paris yesterday"],
        &["send-test", "paris yesterday"],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--now", "30/11/2026"]);
        let out = run(dir.path(), &args);
        assert_eq!(out.code, 2, "{out:?}");
        assert_eq!(
            out.stderr,
            "error: invalid value '30/11/2026' for '--now <TIME>': \"30/11/2026\" is not a date or time; write an RFC 3339 instant (2026-11-30T06:00:00Z, 2026-11-30T07:00:00+01:00), a local date (2026-11-30, its midnight) or a local date-time (2026-11-30T07:00 or \"2026-11-30 07:00\"), read in the settings' time zone\n\nFor more information, try '--help'.\n",
            "{cmd:?}"
        );
    }
}
