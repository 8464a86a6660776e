//! Structured outputs (summary and detail) on SQLite: each spec against a hand-written
//! SQL query computing the same thing, the guards, and bad input refused at validate.

use std::path::Path;

use crate::common::{run, tempdir, write};

/// The example data and its events mapping, with `body` (reports) appended.
fn config(dir: &Path, zone: &str, body: &str) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/events.sql");
    std::fs::copy(data, dir.join("events.sql")).unwrap();
    write(
        dir,
        "reports.toml",
        &format!(
            r#"[settings]
timezone = "{zone}"

[sources.events]
kind = "sqlite"
init = ["events.sql"]

[sources.events.events]
table = "events"
time = "event_time"
traffic = "event_type"
id = "id"
tags = "tags"
default_columns = ["time", "traffic", "network", "country", "os", "revenue"]
[sources.events.events.dimensions]
network = "network"
country = "country"
storyboard = "storyboard"
statistics_id = "statistics_id"
event_name = "event_name"
os = "os"
device_type = "device_type"
location = "location"
[sources.events.events.measures]
revenue = "revenue"

[destinations.out]
kind = "directory"
path = "out"

{body}"#
        ),
    );
}

fn report(name: &str, output: &str) -> String {
    format!(
        "[[reports]]\nname = \"{name}\"\nsource = \"events\"\ndestinations = [\"out\"]\n[[reports.outputs]]\ntype = \"X\"\n{output}\n[reports.schedule]\nfrequency = \"daily\"\n\n"
    )
}

fn csv_of(dir: &Path, name: &str, from: &str, to: &str) -> String {
    let out = run(
        dir,
        &["run", name, "--from", from, "--to", to, "--output", "-"],
    );
    assert_eq!(out.code, 0, "{name}: {out:?}");
    out.stdout
}

/// (spec, hand-written SQL computing the same thing), compared over two windows.
#[test]
fn specs_match_hand_written_sql() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "count by network",
            "kind = \"summary\"\ngroup_by = [\"network\"]",
            "SELECT network, count(*) AS count FROM events WHERE event_time >= :from AND event_time < :to GROUP BY network ORDER BY network",
        ),
        (
            "daily buckets and every counter",
            "kind = \"summary\"\ngroup_by = [\"country\"]\ntime_series = 24\ncounters = [\"count\", \"count:click\", \"distinct:network\", \"sum:revenue\", \"nonzero:revenue\"]",
            "SELECT substr(event_time, 1, 10) AS date, country, count(*) AS count,
                    sum(CASE WHEN event_type = 'click' THEN 1 ELSE 0 END) AS click_count,
                    count(DISTINCT network) AS distinct_network, round(sum(revenue), 6) AS revenue_sum,
                    sum(CASE WHEN revenue > 0 THEN 1 ELSE 0 END) AS revenue_events
             FROM events WHERE event_time >= :from AND event_time < :to
             GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "hourly buckets by traffic, two traffic types",
            "kind = \"summary\"\ntraffic = [\"click\", \"install\"]\ngroup_by = [\"traffic\"]\ntime_series = 1",
            "SELECT substr(event_time, 1, 13) || ':00:00+00:00' AS hour, event_type AS traffic, count(*) AS count
             FROM events WHERE event_time >= :from AND event_time < :to AND event_type IN ('click', 'install')
             GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "include, exclude and tag filters",
            "kind = \"summary\"\ngroup_by = [\"network\", \"country\"]\n[reports.outputs.filter]\nnetwork = [\"BlueMedia\", \"Delta Ads\"]\nexclude_country = [\"us\", \"de\"]\ntags_any = [\"promo\", \"vip\"]\ntags_none = [\"q4\"]",
            "SELECT network, country, count(*) AS count FROM events
             WHERE event_time >= :from AND event_time < :to
               AND network IN ('BlueMedia', 'Delta Ads') AND country NOT IN ('us', 'de')
               AND (instr(',' || tags || ',', ',promo,') > 0 OR instr(',' || tags || ',', ',vip,') > 0)
               AND instr(',' || tags || ',', ',q4,') = 0
             GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "tags contain only",
            "kind = \"summary\"\ngroup_by = [\"storyboard\"]\n[reports.outputs.filter]\ntags_only = [\"promo\", \"q4\"]",
            "SELECT storyboard, count(*) AS count FROM events
             WHERE event_time >= :from AND event_time < :to AND tags IN ('promo', 'q4', 'promo,q4', 'q4,promo')
             GROUP BY 1 ORDER BY 1",
        ),
        (
            "per-traffic filter",
            "kind = \"summary\"\ngroup_by = [\"traffic\", \"country\"]\ntraffic = [\"install\", \"click\"]\n[reports.outputs.traffic_filter.install]\ncountry = [\"us\", \"ca\"]",
            "SELECT event_type AS traffic, country, count(*) AS count FROM events
             WHERE event_time >= :from AND event_time < :to AND event_type IN ('install', 'click')
               AND (event_type <> 'install' OR country IN ('us', 'ca'))
             GROUP BY 1, 2 ORDER BY 1, 2",
        ),
        (
            "detail with chosen columns",
            "kind = \"detail\"\ntraffic = [\"event\"]\ncolumns_order = [\"id\", \"event_name\", \"revenue\", \"time\", \"network\"]\n[reports.outputs.filter]\nevent_name = [\"purchase\"]",
            "SELECT id, event_name, revenue, substr(event_time, 1, 19) || '+00:00' AS time, network FROM events
             WHERE event_time >= :from AND event_time < :to AND event_type = 'event' AND event_name = 'purchase'
             ORDER BY event_time, id",
        ),
        (
            "detail, default columns without the privacy ones",
            "kind = \"detail\"\ntraffic = [\"install\"]\nexclude_data = [\"os\", \"device_type\", \"location\"]",
            "SELECT substr(event_time, 1, 19) || '+00:00' AS time, event_type AS traffic, network, country, revenue FROM events
             WHERE event_time >= :from AND event_time < :to AND event_type = 'install'
             ORDER BY event_time, id",
        ),
    ];
    let dir = tempdir();
    let d = dir.path();
    let mut body = String::new();
    for (i, (_, spec, sql)) in cases.iter().enumerate() {
        body.push_str(&report(&format!("Spec {i}"), spec));
        body.push_str(&report(
            &format!("Hand {i}"),
            &format!("query = \"\"\"\n{sql}\n\"\"\""),
        ));
    }
    config(d, "UTC", &body);
    let out = run(d, &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    for (i, (what, _, _)) in cases.iter().enumerate() {
        for (from, to) in [("2026-06-01", "2026-06-03"), ("2026-10-30", "2026-11-02")] {
            let spec = csv_of(d, &format!("Spec {i}"), from, to);
            let hand = csv_of(d, &format!("Hand {i}"), from, to);
            assert!(
                spec.lines().count() > 2,
                "{what}: too few rows to compare:\n{spec}"
            );
            assert_eq!(spec, hand, "{what}, {from} to {to}");
        }
    }
}

/// Buckets in a zone with DST: days are local days (the fall-back day is 25 hours) and
/// the repeated hour keeps its two offsets apart.
#[test]
fn buckets_in_the_report_zone_across_fall_back() {
    let dir = tempdir();
    let d = dir.path();
    let body = format!(
        "{}{}",
        report("Daily", "kind = \"summary\"\ntime_series = 24"),
        report("Hourly", "kind = \"summary\"\ntime_series = 1")
    );
    config(d, "America/New_York", &body);
    let daily = csv_of(d, "Daily", "2026-10-31", "2026-11-02");
    let hours: u64 = 300; // one event every 308 s on average
    let counts: Vec<u64> = daily
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(daily.lines().next(), Some("date,count"));
    assert!(daily.contains("\n2026-11-01,"), "{daily}");
    // The 25-hour day has about 25/24 of a normal day's events.
    assert!(
        counts[1] > counts[0] + 5 && counts[1] < counts[0] + hours,
        "{daily}"
    );
    let hourly = csv_of(d, "Hourly", "2026-11-01", "2026-11-01");
    assert_eq!(
        hourly.lines().count(),
        26,
        "25 hours and a header:\n{hourly}"
    );
    assert!(hourly.contains("\n2026-11-01T01:00:00-04:00,"));
    assert!(hourly.contains("\n2026-11-01T01:00:00-05:00,"));
    assert!(hourly.contains("\n2026-11-01T00:00:00-04:00,"));
    assert!(hourly
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("2026-11-01T23:00:00-05:00,"));
}

#[test]
fn row_and_cardinality_limits_fail_the_run_with_clear_messages() {
    let dir = tempdir();
    let d = dir.path();
    let body = format!(
        "{}{}",
        report("Rows", "kind = \"detail\"\nrow_limit = 100"),
        report("Groups", "kind = \"summary\"\ngroup_by = [\"network\", \"country\"]\ntime_series = 1\ncardinality_limit = 50")
    );
    config(d, "UTC", &body);
    let out = run(
        d,
        &["run", "Rows", "--from", "2026-06-01", "--to", "2026-06-02"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Row limit exceeded: more than 100 rows for this window; narrow the window or the filters, or raise row_limit"), "{out:?}");
    let out = run(
        d,
        &[
            "run",
            "Groups",
            "--from",
            "2026-06-01",
            "--to",
            "2026-06-02",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("Cardinality for timeframe exceeded: more than 50 groups for this window; group by fewer fields, use a shorter window or a coarser time_series, or raise cardinality_limit"), "{out:?}");
    assert!(!d.join("out").exists() || std::fs::read_dir(d.join("out")).unwrap().next().is_none());
    // Within the limits the same reports run.
    let out = run(
        d,
        &[
            "run",
            "Rows",
            "--from",
            "2026-06-01T00:00:00Z",
            "--to",
            "2026-06-01T02:00:00Z",
            "-o",
            "-",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

/// Bad input is refused at validate, naming the report (or source) and the key.
#[test]
fn bad_specs_and_mappings_are_refused_at_validate() {
    let cases: [(&str, &str, &str); 10] = [
        ("events", "table = \"events\\\"; DROP TABLE events; --\"", "source \"events\", key `events.table`: table \"events\\\"; DROP TABLE events; --\" is not a plain identifier"),
        ("events", "table = \"nope\"", "source \"events\", key `events.table`: the table nope does not exist in the database"),
        ("events", "network = \"net work\"", "source \"events\", key `events.dimensions.network`: column \"net work\" is not a plain identifier"),
        ("events", "campaign = \"campaign_name\"", "source \"events\", key `events`: the table events has no column \"campaign_name\""),
        ("spec", "kind = \"summary\"\ncounters = [\"median:revenue\"]", "report \"Bad\", key `outputs[0].counters`: \"median:revenue\" is not a counter; allowed: count, count:TRAFFIC, distinct:DIMENSION, sum:MEASURE, nonzero:MEASURE"),
        ("spec", "kind = \"summary\"\ntime_series = 6", "report \"Bad\", key `outputs[0].time_series`: 6 is not a bucket reportctl can compute; allowed: 1 (hours), 24 (days) or \"none\""),
        ("spec", "kind = \"summary\"\ngroup_by = [\"planet\"]", "report \"Bad\", key `outputs[0].group_by`: \"planet\" is not a dimension of the events mapping; allowed: country, device_type, event_name, location, network, os, statistics_id, storyboard, traffic"),
        ("spec", "kind = \"detail\"\ncolumns_order = [\"time\", \"revenue;--\"]", "report \"Bad\", key `outputs[0].columns_order`: \"revenue;--\" is not a column of the events mapping"),
        ("spec", "kind = \"detail\"\ngroup_by = [\"network\"]", "report \"Bad\", key `outputs[0].group_by`: `group_by` belongs to summary outputs"),
        ("command", "kind = \"summary\"", "report \"Bad\", key `outputs[0].kind`: source \"cli\" runs a command, which cannot compute summary or detail reports"),
    ];
    for (place, text, want) in cases {
        let dir = tempdir();
        let d = dir.path();
        let body = match place {
            "spec" => report("Bad", text),
            "command" => format!(
                "[sources.cli]\nkind = \"command\"\nprogram = \"true\"\n\n{}",
                report("Bad", text).replace("source = \"events\"", "source = \"cli\"")
            ),
            _ => report("Fine", "kind = \"summary\""),
        };
        config(d, "UTC", &body);
        if place == "events" {
            let cfg = std::fs::read_to_string(d.join("reports.toml")).unwrap();
            let cfg = match text.split_once(" = ") {
                Some(("table", _)) => cfg.replace("table = \"events\"", text),
                Some(("network", _)) => cfg.replace("network = \"network\"", text),
                _ => cfg.replace(
                    "[sources.events.events.dimensions]\n",
                    &format!("[sources.events.events.dimensions]\n{text}\n"),
                ),
            };
            write(d, "reports.toml", &cfg);
        }
        let out = run(d, &["validate"]);
        assert_eq!(out.code, 2, "{text}: {out:?}");
        assert!(
            out.stderr.contains(want),
            "{text}:\nwant {want}\ngot  {}",
            out.stderr
        );
    }
}
