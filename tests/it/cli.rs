//! The command line as a user meets it: validation errors (exact stderr, exit 2), the
//! `plan --json` contract, `list`, `destinations`, completions.

use crate::common;

use crate::common::{run, tempdir, write};

const BASE: &str = r#"[sources.events]
kind = "sqlite"
init = ["events.sql"]

[destinations.local]
kind = "directory"
path = "out"
"#;

/// A single daily report with one line changed or added.
fn report(extra_report: &str, schedule: &str) -> String {
    format!(
        "{BASE}\n[[reports]]\nname = \"Daily Views\"\ntype = \"VIEWS\"\nsource = \"events\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n{extra_report}\n[reports.schedule]\n{schedule}\n"
    )
}

/// One broken configuration per validation rule, and the exact message it gets.
#[test]
fn broken_configs_get_exact_errors_and_exit_2() {
    let cases: Vec<(&str, String, &str)> = vec![
        ("syntax", format!("{BASE}\n[[reports]]\nname = \"Daily Views\n"),
         "reports.toml:10:20: invalid basic string, expected `\"`"),
        ("unknown top-level key", format!("{BASE}\n[setings]\ntimezone = \"UTC\"\n"),
         "reports.toml:9:2: unknown top-level key `setings`; did you mean `settings`? allowed: settings, sources, destinations, reports, serve"),
        ("unknown report key", report("destination = [\"local\"]", "frequency = \"daily\""),
         "reports.toml:15:1: report \"Daily Views\", key `destination`: unknown key `destination`; did you mean `destinations`? allowed: `name`, `type`, `source`, `query`, `query_file`, `destinations`, `notify`, `notify_on`, `ping_url`, `timezone`, `status`, `backfill`, `file_name`, `date_format`, `max_attempts`, `send_empty`, `condition`, `format`, `outputs`, `csv`, `parquet`, `schedule`, `events`, `recipients`"),
        ("unknown schedule key", report("", "frequncy = \"daily\""),
         "reports.toml:17:1: report \"Daily Views\", key `schedule.frequncy`: unknown key `frequncy`; did you mean `frequency`? allowed: `frequency`, `every`, `run_on`, `at`, `delay`, `previous_time`, `window`, `start`, `stop`, `send_at`, `included_range_days`, `once`, `from`, `to`"),
        ("wrong type", report("", "frequency = \"daily\"\nevery = \"2\""),
         "reports.toml:18:9: report \"Daily Views\", key `schedule.every`: expected an integer, found string \"2\""),
        ("report name characters", report("", "frequency = \"daily\"").replace("name = \"Daily Views\"", "name = \"Daily/Views\""),
         "reports.toml:10:8: report \"Daily/Views\", key `name`: \"Daily/Views\" contains `/`; only letters, digits, spaces and underscores are allowed"),
        ("duplicate report name", format!("{}{}", report("", "frequency = \"daily\""), report("", "frequency = \"daily\"").replace(BASE, "").replace("Daily Views", "daily views")),
         "reports.toml:20:8: report \"daily views\", key `name`: the name is already used by report \"Daily Views\"; report names must be unique (ignoring case)"),
        ("time zone", report("timezone = \"America/NewYork\"", "frequency = \"daily\""),
         "reports.toml:15:12: report \"Daily Views\", key `timezone`: \"America/NewYork\" is not an IANA time zone; did you mean America/New_York? use a name such as America/New_York, Europe/Berlin or UTC"),
        ("unknown frequency", report("", "frequency = \"dayly\""),
         "reports.toml:17:13: report \"Daily Views\", key `schedule.frequency`: \"dayly\" is not a frequency; did you mean \"daily\"? allowed: hourly, daily, weekly, monthly, quarterly"),
        ("every out of range", report("", "frequency = \"daily\"\nevery = 9\nstart = 2026-01-01"),
         "reports.toml:18:9: report \"Daily Views\", key `schedule.every`: 9 is out of range; allowed: 1 to 6 (daily periods between runs)"),
        ("every without start", report("", "frequency = \"weekly\"\nevery = 2"),
         "reports.toml:18:9: report \"Daily Views\", key `schedule.every`: every = 2 counts periods from `start`; add `start`, a local date-time such as 2026-01-01T00:00:00"),
        ("weekly run_on", report("", "frequency = \"weekly\"\nrun_on = 8"),
         "reports.toml:18:10: report \"Daily Views\", key `schedule.run_on`: 8 is out of range; allowed: 1 to 7 for weekly (the ISO weekday, 1 = Monday … 7 = Sunday)"),
        ("hourly run_on", report("", "frequency = \"hourly\"\nrun_on = 60"),
         "reports.toml:18:10: report \"Daily Views\", key `schedule.run_on`: 60 is out of range; allowed: 0 to 59 for hourly (the minute of the hour)"),
        ("monthly run_on", report("", "frequency = \"monthly\"\nrun_on = 0"),
         "reports.toml:18:10: report \"Daily Views\", key `schedule.run_on`: 0 is out of range; allowed: 1 to 31 for monthly (the day of the month, clamped to the month's last day)"),
        ("at format", report("", "frequency = \"daily\"\nat = \"6am\""),
         "reports.toml:18:6: report \"Daily Views\", key `schedule.at`: \"6am\" is not a time of day; write \"HH:MM\", from \"00:00\" to \"23:59\""),
        ("at with hourly", report("", "frequency = \"hourly\"\nat = \"06:00\""),
         "reports.toml:18:6: report \"Daily Views\", key `schedule.at`: hourly runs take the minute from `run_on`; `at` is for daily and longer frequencies"),
        ("run_on and at", report("", "frequency = \"daily\"\nrun_on = 6\nat = \"06:00\""),
         "reports.toml:18:10: report \"Daily Views\", key `schedule.run_on`: give either `run_on` (the hour) or `at` (\"HH:MM\") for a daily schedule, not both"),
        ("delay without previous_time", report("", "frequency = \"daily\"\ndelay = 2"),
         "reports.toml:18:9: report \"Daily Views\", key `schedule.delay`: `delay` needs `previous_time`, the window's length in hours"),
        ("hourly delay range", report("", "frequency = \"hourly\"\ndelay = 2000\nprevious_time = 60"),
         "reports.toml:18:9: report \"Daily Views\", key `schedule.delay`: 2000 is out of range; allowed: 0 to 1440 minutes for hourly"),
        ("monthly previous_time range", report("", "frequency = \"monthly\"\nprevious_time = 13"),
         "reports.toml:18:17: report \"Daily Views\", key `schedule.previous_time`: 13 is out of range; allowed: 1 to 12 months for monthly"),
        ("send_at 23:45", report("", "send_at = \"23:45\""),
         "reports.toml:17:11: report \"Daily Views\", key `schedule.send_at`: \"23:45\" is not on a 30-minute slot; allowed: \"00:00\" to \"23:30\" in steps of 30 minutes (UTC)"),
        ("send_at 12:15", report("", "send_at = \"12:15\""),
         "reports.toml:17:11: report \"Daily Views\", key `schedule.send_at`: \"12:15\" is not on a 30-minute slot; allowed: \"00:00\" to \"23:30\" in steps of 30 minutes (UTC)"),
        ("send_at 24:00", report("", "send_at = \"24:00\""),
         "reports.toml:17:11: report \"Daily Views\", key `schedule.send_at`: \"24:00\" is not a UTC time of day; allowed: \"00:00\" to \"23:30\" in steps of 30 minutes"),
        ("included_range_days", report("", "send_at = \"09:00\"\nincluded_range_days = 2"),
         "reports.toml:18:23: report \"Daily Views\", key `schedule.included_range_days`: 2 is not allowed; allowed: 1, 3 or 7"),
        ("send_at zone", report("timezone = \"Europe/Berlin\"", "send_at = \"09:00\""),
         "reports.toml:15:12: report \"Daily Views\", key `timezone`: a send_at schedule works in UTC; remove `timezone` or set it to \"UTC\""),
        ("one-time window too long", report("", "once = \"asap\"\nfrom = 2026-01-01\nto = 2026-12-31"),
         "reports.toml:19:6: report \"Daily Views\", key `schedule.to`: 2026-01-01 to 2026-12-31 is 365 days; at most max_range_days = 90 days are allowed"),
        ("one-time to before from", report("", "once = 2026-12-01T08:00:00\nfrom = 2026-11-30\nto = 2026-11-01"),
         "reports.toml:19:6: report \"Daily Views\", key `schedule.to`: to (2026-11-01) is before from (2026-11-30)"),
        ("mixed schedule forms", report("", "frequency = \"daily\"\nsend_at = \"09:00\""),
         "reports.toml:16:1: report \"Daily Views\", key `schedule`: the schedule mixes keys of different forms; a schedule is one of: recurring (`frequency`, `every`, `run_on`, `at`, `window` or `delay` and `previous_time`, `start`, `stop`), daily at a UTC time (`send_at`, `included_range_days`) or one-time (`once`, `from`, `to`)"),
        ("stop before start", report("", "frequency = \"daily\"\nstart = 2026-06-01T00:00:00\nstop = 2026-05-01T00:00:00"),
         "reports.toml:19:8: report \"Daily Views\", key `schedule.stop`: stop (2026-05-01 00:00:00) must be after start (2026-06-01 00:00:00)"),
        ("start with an offset", report("", "frequency = \"daily\"\nstart = 2026-01-01T00:00:00Z"),
         "reports.toml:18:9: report \"Daily Views\", key `schedule.start`: 2026-01-01T00:00:00Z has a UTC offset; write a local date-time in the report's zone, e.g. 2026-01-01T06:00:00"),
        ("missing schedule", report("", "").replace("[reports.schedule]\n", ""),
         "reports.toml:9:1: report \"Daily Views\", key `schedule`: missing table [reports.schedule]; a schedule is recurring (`frequency` …), daily at a UTC time (`send_at` …) or one-time (`once` …)"),
        ("undefined source", report("", "frequency = \"daily\"").replace("source = \"events\"", "source = \"warehouse\""),
         "reports.toml:12:10: report \"Daily Views\", key `source`: unknown source \"warehouse\"; defined: events"),
        ("undefined destination", report("", "frequency = \"daily\"").replace("[\"local\"]", "[\"local\", \"partner\"]"),
         "reports.toml:13:26: report \"Daily Views\", key `destinations`: unknown destination \"partner\"; defined: local"),
        ("plain secret", format!("{BASE}\n[destinations.partner]\nkind = \"sftp\"\nhost = \"sftp.example.com\"\nuser = \"acme\"\npath = \"/in\"\npassword = \"hunter2\"\n"),
         "reports.toml:14:12: destination \"partner\", key `password`: a secret must not be written in the configuration; a secret is { env = \"NAME\" } or { file = \"/path/to/file\" }, or set [settings] allow_plain_secrets = true"),
        ("destination kind", format!("{BASE}\n[destinations.partner]\nkind = \"ftp\"\n"),
         "reports.toml:10:8: destination \"partner\", key `kind`: \"ftp\" is not a kind; did you mean \"sftp\"? allowed: directory, email, sftp, s3, pickup, webhook, slack, teams"),
        ("file name escaping its directory", report("file_name = \"../{name}.csv\"", "frequency = \"daily\""),
         "reports.toml:15:13: report \"Daily Views\", key `file_name`: \"../{name}.csv\" contains `/`: a file name cannot name another directory"),
        ("file name placeholder", report("file_name = \"{name}_{form}.csv\"", "frequency = \"daily\""),
         "reports.toml:15:13: report \"Daily Views\", key `file_name`: unknown placeholder {form}; allowed: {type}, {name}, {name_}, {from}, {to}, {run_date}, {token}"),
        ("date format", report("date_format = \"%m/%d/%Y\"", "frequency = \"daily\""),
         "reports.toml:15:15: report \"Daily Views\", key `date_format`: \"%m/%d/%Y\" produces `/`, which a file name cannot contain; use `-` or `_` between fields"),
        ("several outputs without {type}", format!("{BASE}\n[[reports]]\nname = \"Pair\"\nsource = \"events\"\ndestinations = [\"local\"]\nfile_name = \"{{name}}_{{from}}.csv\"\n[[reports.outputs]]\ntype = \"VIEWS\"\nquery = \"select 1\"\n[[reports.outputs]]\ntype = \"ENGAGEMENT\"\nquery = \"select 2\"\n[reports.schedule]\nfrequency = \"daily\"\n"),
         "reports.toml:13:13: report \"Pair\", key `file_name`: a report with several outputs needs {type} in its file name, or the files would overwrite each other"),
        ("email address", format!("{BASE}\n[destinations.team]\nkind = \"email\"\nto = [\"not an address\"]\nsmtp = {{ host = \"localhost\", tls = \"none\", from = \"r@example.com\" }}\n"),
         "reports.toml:11:7: destination \"team\", key `to`: \"not an address\" is not an email address; write name@example.com or \"Name <name@example.com>\""),
        ("in-run retries", format!("[settings]\ndelivery_retries = 11\n{BASE}"),
         "reports.toml:2:20: [settings], key `delivery_retries`: 11 is out of range; allowed: 0 to 10 retries"),
        ("notify without a sender", format!("[settings.smtp]\nhost = \"localhost\"\ntls = \"none\"\n{}", report("notify = [\"ops@example.com\"]", "frequency = \"daily\"")),
         "reports.toml:18:10: report \"Daily Views\", key `notify`: notify mails need a sender: add `from` to [settings.smtp]"),
    ];
    let mut failures = Vec::new();
    for (what, toml, want) in &cases {
        let dir = tempdir();
        write(dir.path(), "events.sql", "create table t(x);");
        write(dir.path(), "reports.toml", toml);
        let out = run(dir.path(), &["validate"]);
        let want = format!("reportctl: error: {want}\n");
        if out.code != 2 || out.stderr != want || !out.stdout.is_empty() {
            failures.push(format!("{what}:\n  want: {want}  got:  {out:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One pass reports every problem it can find, in file order.
#[test]
fn validate_reports_all_errors_in_one_pass() {
    let dir = tempdir();
    write(dir.path(), "events.sql", "");
    let toml = format!(
        r#"[settings]
timezone = "Mars/Olympus"
{BASE}
[[reports]]
name = "A-1"
type = "VIEWS"
source = "nope"
destinations = ["local"]
query = "select 1"
[reports.schedule]
frequency = "daily"
every = 0

[[reports]]
name = "B"
type = "VIEWS"
source = "events"
destinations = ["local"]
query = "select 1"
[reports.schedule]
send_at = "23:45"
included_range_days = 5
"#
    );
    write(dir.path(), "reports.toml", &toml);
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "\
reportctl: error: reports.toml:2:12: [settings], key `timezone`: \"Mars/Olympus\" is not an IANA time zone; use a name such as America/New_York, Europe/Berlin or UTC
reportctl: error: reports.toml:12:8: report \"A-1\", key `name`: \"A-1\" contains `-`; only letters, digits, spaces and underscores are allowed
reportctl: error: reports.toml:14:10: report \"A-1\", key `source`: unknown source \"nope\"; defined: events
reportctl: error: reports.toml:19:9: report \"A-1\", key `schedule.every`: 0 is out of range; allowed: 1 to 6 (daily periods between runs)
reportctl: error: reports.toml:28:11: report \"B\", key `schedule.send_at`: \"23:45\" is not on a 30-minute slot; allowed: \"00:00\" to \"23:30\" in steps of 30 minutes (UTC)
reportctl: error: reports.toml:29:23: report \"B\", key `schedule.included_range_days`: 5 is not allowed; allowed: 1, 3 or 7
"
    );

    let out = run(dir.path(), &["validate", "--json"]);
    assert_eq!(out.code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["errors"].as_array().unwrap().len(), 6);
    assert_eq!(doc["errors"][5]["line"], 29);
    assert_eq!(doc["errors"][5]["name"], "B");
    assert_eq!(doc["errors"][5]["key"], "schedule.included_range_days");
}

/// validate checks what runs will need: secrets and files, without printing a secret.
#[test]
fn validate_finds_missing_secrets_and_files() {
    let dir = tempdir();
    let toml = format!(
        r#"{BASE}
[destinations.partner]
kind = "sftp"
host = "sftp.example.com"
user = "acme"
path = "/in"
password = {{ env = "REPORTCTL_TEST_UNSET_PASSWORD" }}

[destinations.bucket]
kind = "s3"
bucket = "reports"
access_key_id = {{ env = "REPORTCTL_TEST_KEY_ID" }}
secret_access_key = {{ file = "secret.txt" }}
"#
    );
    write(dir.path(), "reports.toml", &toml);
    let out = common::command(dir.path(), &["validate"])
        .env("REPORTCTL_TEST_KEY_ID", "AKIAEXAMPLE")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    let base = dir.path().display().to_string();
    assert_eq!(
        stderr.replace(&base, "DIR"),
        "\
reportctl: error: reports.toml:3:9: source \"events\", key `init`: events.sql does not exist
reportctl: error: reports.toml:14:12: destination \"partner\", key `password`: environment variable REPORTCTL_TEST_UNSET_PASSWORD is not set
reportctl: error: reports.toml:20:21: destination \"bucket\", key `secret_access_key`: cannot read secret file secret.txt: No such file or directory (os error 2)
"
    );
    assert!(!stderr.contains("AKIAEXAMPLE"));

    // The same file is fine for commands that do not need the outside world.
    let out = run(dir.path(), &["destinations"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn valid_config_validates_quietly() {
    let dir = tempdir();
    write(dir.path(), "events.sql", "");
    write(
        dir.path(),
        "reports.toml",
        &report("", "frequency = \"daily\""),
    );
    let out = run(dir.path(), &["validate"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    let out = run(dir.path(), &["-v", "validate"]);
    assert_eq!(
        out.stderr,
        "reportctl: reports.toml: 1 reports, 1 sources, 1 destinations: no problems found\n"
    );
}

#[test]
fn missing_config_file() {
    let dir = tempdir();
    let out = run(dir.path(), &["plan"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml: cannot read the configuration: No such file or directory (os error 2); give its path with --config or REPORTCTL_CONFIG\n"
    );
}

const PLAN_CONFIG: &str = r#"[settings]
timezone = "America/New_York"

[sources.events]
kind = "sqlite"
init = ["events.sql"]

[destinations.local]
kind = "directory"
path = "out"

[[reports]]
name = "Daily Views"
type = "VIEWS"
source = "events"
destinations = ["local"]
query = "select 1"
[reports.schedule]
frequency = "daily"

[[reports]]
name = "Weekend"
type = "WEEKEND"
source = "events"
query = "select 1"
destinations = ["local"]
timezone = "Europe/Berlin"
date_format = "%Y-%m-%d"
[reports.schedule]
frequency = "weekly"
run_on = 1
at = "00:00"
delay = 0
previous_time = 2

[[reports]]
name = "Clicks"
type = "CLICKS"
source = "events"
query = "select 1"
destinations = ["local"]
file_name = "{name_}_{run_date}_{token}.csv"
[reports.csv]
compression = "gzip"
[reports.schedule]
send_at = "09:30"
included_range_days = 3

[[reports]]
name = "Paused"
type = "X"
source = "events"
query = "select 1"
destinations = ["local"]
status = "draft"
[reports.schedule]
frequency = "hourly"
"#;

/// The stable `plan --json` interface: one object per line, merged in time order.
#[test]
fn plan_json_is_exact() {
    let dir = tempdir();
    write(dir.path(), "reports.toml", PLAN_CONFIG);
    let out = run(
        dir.path(),
        &[
            "plan",
            "--now",
            "2026-11-23T12:00:00Z",
            "--count",
            "2",
            "--json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    // Run tokens pinned to their values: hosts of different versions sharing a ledger
    // must agree on them (the first 8 bytes of SHA-256 over "reportctl slot\n", the
    // report's name, "\n" and the slot's UTC time; python's hashlib gives the same).
    let token1 = "4ed547920afdf3fb";
    let token2 = "7b174c9b5a832a39";
    let want = format!(
        r#"{{"report":"Clicks","run_at":"2026-11-24T09:30:00+00:00","from":"2026-11-21T00:00:00+00:00","to":"2026-11-24T00:00:00+00:00","files":["Clicks_20261124_{token1}.csv.gz"],"recipient":null}}
{{"report":"Daily Views","run_at":"2026-11-24T06:00:00-05:00","from":"2026-11-22T00:00:00-05:00","to":"2026-11-23T00:00:00-05:00","files":["VIEWS_Daily Views_20261122_20261122.csv"],"recipient":null}}
{{"report":"Clicks","run_at":"2026-11-25T09:30:00+00:00","from":"2026-11-22T00:00:00+00:00","to":"2026-11-25T00:00:00+00:00","files":["Clicks_20261125_{token2}.csv.gz"],"recipient":null}}
{{"report":"Daily Views","run_at":"2026-11-25T06:00:00-05:00","from":"2026-11-23T00:00:00-05:00","to":"2026-11-24T00:00:00-05:00","files":["VIEWS_Daily Views_20261123_20261123.csv"],"recipient":null}}
{{"report":"Weekend","run_at":"2026-11-30T00:00:00+01:00","from":"2026-11-28T00:00:00+01:00","to":"2026-11-30T00:00:00+01:00","files":["WEEKEND_Weekend_2026-11-28_2026-11-29.csv"],"recipient":null}}
{{"report":"Weekend","run_at":"2026-12-07T00:00:00+01:00","from":"2026-12-05T00:00:00+01:00","to":"2026-12-07T00:00:00+01:00","files":["WEEKEND_Weekend_2026-12-05_2026-12-06.csv"],"recipient":null}}
"#
    );
    assert_eq!(out.stdout, want);

    // Named reports only; the brief's own example line.
    let out = run(
        dir.path(),
        &[
            "plan",
            "Daily Views",
            "--now",
            "2026-11-24T12:00:00-05:00",
            "--count",
            "1",
            "--json",
        ],
    );
    assert_eq!(
        out.stdout,
        "{\"report\":\"Daily Views\",\"run_at\":\"2026-11-25T06:00:00-05:00\",\"from\":\"2026-11-23T00:00:00-05:00\",\"to\":\"2026-11-24T00:00:00-05:00\",\"files\":[\"VIEWS_Daily Views_20261123_20261123.csv\"],\"recipient\":null}\n"
    );

    // A draft is never due.
    let out = run(
        dir.path(),
        &["plan", "Paused", "--now", "2026-11-24T12:00:00Z", "--json"],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));

    // An unknown report is a usage error.
    let out = run(dir.path(), &["plan", "Nope"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "reportctl: error: no report named \"Nope\" in reports.toml; reports: Daily Views, Weekend, Clicks, Paused\n"
    );

    // A bad --now is a usage error from clap.
    let out = run(dir.path(), &["plan", "--now", "tomorrow"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("\"tomorrow\" is not a date or time; write an RFC 3339 instant"),
        "{out:?}"
    );
}

#[test]
fn plan_human_table() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &report("", "frequency = \"daily\""),
    );
    let out = run(
        dir.path(),
        &["plan", "--now", "2026-11-23T12:00:00Z", "--count", "1"],
    );
    assert_eq!(
        out.stdout,
        "\
REPORT       RUN AT                     FROM                       TO                         FILES
Daily Views  2026-11-24T06:00:00+00:00  2026-11-22T00:00:00+00:00  2026-11-23T00:00:00+00:00  VIEWS_Daily Views_20261122_20261122.csv
"
    );
}

#[test]
fn list_paginates_and_describes() {
    let dir = tempdir();
    write(dir.path(), "reports.toml", PLAN_CONFIG);
    let out = run(
        dir.path(),
        &[
            "list",
            "--json",
            "--limit",
            "2",
            "--offset",
            "1",
            "--now",
            "2026-11-23T12:00:00Z",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["total"], 4);
    assert_eq!(doc["offset"], 1);
    let reports = doc["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["name"], "Weekend");
    assert_eq!(reports[0]["next_run"], "2026-11-30T00:00:00+01:00");
    assert_eq!(
        reports[0]["schedule"],
        "weekly on Monday at 00:00 Europe/Berlin, covering 2 days ending at midnight of the run date"
    );
    assert_eq!(
        reports[1]["schedule"],
        "daily at 09:30 UTC, covering the 3 UTC days before the run date"
    );

    let out = run(
        dir.path(),
        &[
            "list",
            "--limit",
            "1",
            "--offset",
            "3",
            "--now",
            "2026-11-23T12:00:00Z",
        ],
    );
    assert_eq!(
        out.stdout,
        "NAME    STATUS  NEXT RUN  LAST RUN  SCHEDULE\nPaused  draft   -         -         hourly at minute 0, covering the hour before the run's hour\n"
    );
    let out = run(
        dir.path(),
        &["list", "--limit", "1", "--now", "2026-11-23T12:00:00Z"],
    );
    assert_eq!(
        out.stderr,
        "reportctl: warning: showing 1 of 4 reports; see more with --offset 1\n"
    );
}

#[test]
fn destinations_by_type_and_id_without_secrets() {
    let dir = tempdir();
    let toml = format!(
        r#"[settings]
allow_plain_secrets = true
{BASE}
[destinations.partner]
kind = "sftp"
host = "sftp.example.com"
user = "acme"
path = "/in"
password = "hunter2"
"#
    );
    write(dir.path(), "reports.toml", &toml);
    let out = run(dir.path(), &["destinations", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "{\"destinations\":[{\"type\":\"directory\",\"id\":\"local\",\"target\":\"out\"},{\"type\":\"sftp\",\"id\":\"partner\",\"target\":\"sftp://acme@sftp.example.com:22/in\"}]}\n"
    );
    let out = run(dir.path(), &["destinations"]);
    assert!(!out.stdout.contains("hunter2"));
    assert_eq!(
        out.stdout,
        "TYPE       ID       TARGET\ndirectory  local    out\nsftp       partner  sftp://acme@sftp.example.com:22/in\n"
    );
}

#[test]
fn completions_and_help() {
    let dir = tempdir();
    let out = run(dir.path(), &["completions", "bash"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("_reportctl()"), "{out:?}");
    let out = run(dir.path(), &["--help"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Exit status:"));
    let out = run(dir.path(), &["frobnicate"]);
    assert_eq!(out.code, 2);
}

/// `reportctl plan | head -1` ends quietly when head closes the pipe.
#[test]
fn broken_pipe_is_quiet() {
    let dir = tempdir();
    write(
        dir.path(),
        "reports.toml",
        &report("", "frequency = \"hourly\""),
    );
    let script = format!(
        "set -o pipefail; '{}' plan --count 10000 --now 2026-01-01T00:00:00Z | head -c 10 >/dev/null",
        common::bin().display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
