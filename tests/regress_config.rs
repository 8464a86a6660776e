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
