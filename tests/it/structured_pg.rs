//! Differential: each structured spec, on the same events in SQLite and in PostgreSQL
//! (a real server started by scripts/test), gives byte-identical CSVs — in New York
//! across the fall-back weekend, and in UTC.

use crate::common::pg;
use crate::common::{run, tempdir, write};

const MAPPING: &str = r#"traffic = "event_type"
id = "id"
tags = "tags"
default_columns = ["time", "traffic", "network", "country", "tags", "revenue"]
dimensions = { network = "network", country = "country", storyboard = "storyboard", statistics_id = "statistics_id", event_name = "event_name", os = "os", device_type = "device_type", browser = "browser", location = "location", touchpoint = ["network", "site"] }
measures = { revenue = "revenue" }
"#;

/// Every kind, bucket, counter and filter at least once.
const SPECS: [(&str, &str); 12] = [
    ("count by network", "kind = \"summary\"\ngroup_by = [\"network\"]"),
    ("daily buckets, every counter", "kind = \"summary\"\ngroup_by = [\"country\"]\ntime_series = 24\ncounters = [\"count\", \"count:click\", \"distinct:network\", \"sum:revenue\", \"nonzero:revenue\"]"),
    ("hourly buckets by traffic", "kind = \"summary\"\ntraffic = [\"click\", \"install\"]\ngroup_by = [\"traffic\"]\ntime_series = 1"),
    ("hourly, no grouping", "kind = \"summary\"\ntime_series = 1\ncounters = [\"count\", \"sum:revenue\"]"),
    ("no buckets, no grouping", "kind = \"summary\"\ncounters = [\"count\", \"distinct:country\", \"distinct:storyboard\"]"),
    ("include and exclude", "kind = \"summary\"\ngroup_by = [\"network\", \"country\"]\ntime_series = 24\n[reports.outputs.filter]\nnetwork = [\"BlueMedia\", \"Delta Ads\"]\nexclude_country = [\"us\", \"de\"]"),
    ("several columns for one dimension", "kind = \"summary\"\ngroup_by = [\"storyboard\"]\n[reports.outputs.filter]\nexclude_touchpoint = [\"BlueMedia\", \"games.example\"]\ntouchpoint = [\"AdNet North\", \"news.example\"]"),
    ("tag filters", "kind = \"summary\"\ngroup_by = [\"storyboard\", \"statistics_id\"]\n[reports.outputs.filter]\ntags_any = [\"promo\", \"vip\"]\ntags_none = [\"q4\"]"),
    ("tags only, per-traffic filter", "kind = \"summary\"\ngroup_by = [\"traffic\"]\ntime_series = 24\n[reports.outputs.filter]\ntags_only = [\"promo\", \"q4\", \"retention\"]\n[reports.outputs.traffic_filter.install]\ncountry = [\"us\", \"ca\"]"),
    ("detail, chosen columns", "kind = \"detail\"\ntraffic = [\"event\"]\ncolumns_order = [\"id\", \"event_name\", \"revenue\", \"time\", \"network\", \"tags\"]\n[reports.outputs.filter]\nevent_name = [\"purchase\", \"subscribe\"]"),
    ("detail, default columns, privacy", "kind = \"detail\"\ntraffic = [\"install\", \"view\"]\nexclude_data = [\"os\", \"device_type\", \"browser\", \"location\", \"country\"]"),
    ("detail without traffic filter, per-traffic filter", "kind = \"detail\"\ncolumns_order = [\"time\", \"traffic\", \"country\"]\n[reports.outputs.traffic_filter.click]\nnetwork = [\"Clickstream\"]"),
];

#[test]
#[ignore = "needs test servers: scripts/test"]
fn sqlite_and_postgresql_give_identical_csvs() {
    let server = pg::server();
    let db = server.fresh_db("structured");
    server.load_events(&db);
    let dir = tempdir();
    let d = dir.path();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/events.sql"),
        d.join("events.sql"),
    )
    .unwrap();
    let mut cfg = format!(
        r#"[sources.lite]
kind = "sqlite"
init = ["events.sql"]
[sources.lite.events]
table = "events"
time = "event_time"
time_format = "text"
{MAPPING}
[sources.pg]
kind = "postgres"
url = "{url}"
password = {{ env = "RCTL_TEST_PG_PASSWORD" }}
sslmode = "disable"
[sources.pg.events]
table = "events"
time = "event_time"
{MAPPING}
[destinations.out]
kind = "directory"
path = "out"

"#,
        url = server.url(&db)
    );
    for zone in ["America/New_York", "UTC"] {
        for (i, (_, spec)) in SPECS.iter().enumerate() {
            for source in ["lite", "pg"] {
                let tag = zone.replace('/', "");
                cfg.push_str(&format!(
                    "[[reports]]\nname = \"{source} {tag} {i}\"\nsource = \"{source}\"\ndestinations = [\"out\"]\ntimezone = \"{zone}\"\n[[reports.outputs]]\ntype = \"X\"\n{spec}\n[reports.schedule]\nfrequency = \"daily\"\n\n"
                ));
            }
        }
    }
    write(d, "reports.toml", &cfg);
    let out = run(d, &["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut compared = 0;
    for zone in ["AmericaNew_York", "UTC"] {
        for (i, (what, _)) in SPECS.iter().enumerate() {
            // New York's fall-back weekend, and a plain stretch in June.
            for (from, to) in [("2026-10-31", "2026-11-02"), ("2026-06-10", "2026-06-11")] {
                let get = |source: &str| {
                    let name = format!("{source} {zone} {i}");
                    let out = run(
                        d,
                        &["run", &name, "--from", from, "--to", to, "--output", "-"],
                    );
                    assert_eq!(out.code, 0, "{name}: {out:?}");
                    out.stdout
                };
                let (lite, pg) = (get("lite"), get("pg"));
                assert!(
                    lite.lines().count() >= 2,
                    "{what} ({zone}): no rows:\n{lite}"
                );
                assert_eq!(
                    lite, pg,
                    "{what} ({zone}, {from} to {to}): SQLite and PostgreSQL differ"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * SPECS.len() * 2);
}

/// With validate, a mapping is checked against the PostgreSQL table too.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn postgresql_mappings_are_checked_against_the_table() {
    let server = pg::server();
    let db = server.fresh_db("structured_check");
    server.load_events(&db);
    let dir = tempdir();
    let d = dir.path();
    let cfg = format!(
        r#"[sources.pg]
kind = "postgres"
url = "{url}"
password = {{ env = "RCTL_TEST_PG_PASSWORD" }}
sslmode = "disable"
[sources.pg.events]
table = "{table}"
time = "event_time"
dimensions = {{ network = "network", campaign = "campaign_name" }}
[destinations.out]
kind = "directory"
path = "out"
"#,
        url = server.url(&db),
        table = "events"
    );
    write(d, "reports.toml", &cfg);
    let out = run(d, &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("source \"pg\", key `events`: the table events has no column \"campaign_name\"; its columns: id, event_time, event_type"), "{out:?}");
    write(
        d,
        "reports.toml",
        &cfg.replace("table = \"events\"", "table = \"public.nothing\""),
    );
    let out = run(d, &["validate"]);
    assert!(
        out.stderr.contains(
            "key `events.table`: the table public.nothing does not exist in the database"
        ),
        "{out:?}"
    );
}
