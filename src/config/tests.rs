//! Loading whole configurations into the checked model.

use std::path::Path;

use super::*;
use crate::schedule::{Frequency, Schedule, WindowRule};

fn load_text(text: &str) -> Result<Config, ConfigErrors> {
    load_str(Path::new("reports.toml"), text)
}

fn messages(e: ConfigErrors) -> Vec<String> {
    e.0.into_iter().map(|d| d.to_string()).collect()
}

const MINIMAL: &str = r#"
[sources.events]
kind = "sqlite"
path = "events.db"

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
"#;

#[test]
fn the_example_configuration_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports.example.toml");
    let c = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.reports.len(), 7);
    assert_eq!(c.settings.timezone, chrono_tz::America::New_York);
    let pair = c.report("Storyboard Weekly").unwrap();
    let types: Vec<_> = pair.outputs.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(types, ["VIEWS", "ENGAGEMENT"]);
    assert_eq!(
        c.report("Weekly Clicks UTC").unwrap().timezone,
        chrono_tz::Tz::UTC
    );
    assert_eq!(
        c.report("Quarterly Countries").unwrap().status,
        Status::Draft
    );
    let kinds: Vec<_> = c.sources.values().map(|s| s.kind.kind_name()).collect();
    assert_eq!(kinds, ["sqlite", "command"]);
}

#[test]
fn defaults_are_filled_in() {
    let c = load_text(MINIMAL).unwrap();
    let r = &c.reports[0];
    assert_eq!(r.date_format, "%Y%m%d");
    assert_eq!(r.csv, CsvOptions::default());
    assert_eq!(r.max_attempts, 5);
    assert_eq!(c.settings.max_range_days, 90);
    assert_eq!(
        c.settings.state,
        StateLocation::Sqlite(Path::new(".reportctl/ledger.sqlite").to_path_buf())
    );
    match &r.schedule {
        Schedule::Recurring(rec) => {
            assert_eq!(rec.frequency, Frequency::Daily);
            assert_eq!(rec.at.to_string(), "06:00:00");
            assert_eq!(rec.window, WindowRule::TodayMinusTwo);
        }
        other => panic!("{other:?}"),
    }
    match &c.destinations["local"].kind {
        DestinationKind::Directory(d) => assert_eq!(d.keep_days, 7),
        other => panic!("{other:?}"),
    }
}

#[test]
fn csv_options_layer_report_over_settings() {
    let text = format!(
        "[settings.csv]\ndelimiter = \";\"\nbom = true\n{}\n[reports.csv]\nbom = false\nline_ending = \"crlf\"\ncompression = \"gzip\"\ncompress_above_mb = 0.5\n",
        MINIMAL
    );
    let c = load_text(&text).unwrap();
    let o = &c.reports[0].csv;
    assert_eq!((o.delimiter, o.bom, o.crlf), (b';', false, true));
    assert_eq!(o.compression, Compression::Gzip);
    assert_eq!(o.compress_above, Some(512 * 1024));
}

#[test]
fn cross_field_rules() {
    let cases = [
        (
            "[destinations.p]\nkind = \"sftp\"\nhost = \"h\"\nuser = \"u\"\npath = \"/\"\nagent = true\npassword = { env = \"P\" }\n",
            "give exactly one way to log in",
        ),
        (
            "[destinations.p]\nkind = \"sftp\"\nhost = \"h\"\nuser = \"u\"\npath = \"/\"\n",
            "give exactly one way to log in",
        ),
        (
            "[settings.smtp]\nhost = \"mail.example.com\"\ntls = \"none\"\nuser = \"u\"\npassword = { env = \"P\" }\n",
            "tls = \"none\" would send the password in clear to mail.example.com",
        ),
        (
            "[destinations.b]\nkind = \"s3\"\nbucket = \"Bad_Bucket\"\n",
            "a bucket name is 3 to 63 lowercase letters",
        ),
        (
            "[destinations.b]\nkind = \"s3\"\nbucket = \"good\"\naccess_key_id = { env = \"K\" }\n",
            "`access_key_id` needs `secret_access_key`",
        ),
        (
            "[destinations.m]\nkind = \"email\"\nto = [\"a@example.com\"]\n",
            "no SMTP server",
        ),
        (
            "[destinations.m]\nkind = \"email\"\nto = [\"a@example.com\"]\nsmtp = { host = \"localhost\", tls = \"none\" }\n",
            "no sender address",
        ),
        (
            "[destinations.m]\nkind = \"email\"\nto = [\"a@example.com\"]\nfrom = \"r@example.com\"\nsubject = \"{nam}\"\nsmtp = { host = \"localhost\" }\n",
            "unknown placeholder {nam}",
        ),
        (
            "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://u:secret@db/x\"\n",
            "the URL holds a password",
        ),
        (
            "[settings]\nstate = \"postgres://u:secret@db/ledger\"\n",
            "the URL holds a password",
        ),
        (
            "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://u@db/x?sslmode=require\"\n",
            "give TLS settings as the keys `sslmode`",
        ),
        (
            "[settings]\nstate = \"postgres://u@db/ledger?sslmode=verify-ca\"\n",
            "sslmode=verify-ca is not allowed; allowed: disable, prefer, require, verify-full",
        ),
        (
            "[sources.c]\nkind = \"command\"\nprogram = \"psql\"\nargs = [\"-c\", \"{querry}\"]\n",
            "unknown placeholder {querry}; allowed (as a whole argument): {from}, {to},",
        ),
        ("[sources.s]\nkind = \"sqlite\"\n", "missing key `path`"),
        ("[sources.s]\nkind = \"command\"\n", "missing key `program`"),
        ("[sources.s]\npath = \"x\"\n", "missing key `kind`; allowed: sqlite, postgres, command"),
    ];
    for (extra, want) in cases {
        let text = format!("{extra}\n{MINIMAL}");
        let errs = messages(load_text(&text).unwrap_err());
        assert!(
            errs.iter().any(|e| e.contains(want)),
            "{extra}\nwant {want}\ngot {errs:#?}"
        );
        assert!(
            !errs.iter().any(|e| e.contains("secret@")),
            "a secret was shown: {errs:#?}"
        );
    }
}

#[test]
fn report_without_name_is_named_by_position() {
    let text = MINIMAL.replace("name = \"Daily Views\"\n", "");
    let errs = messages(load_text(&text).unwrap_err());
    assert_eq!(
        errs,
        ["reports.toml:10:1: report #1, key `name`: missing key `name`; every report needs a name (letters, digits, spaces and underscores)"]
    );
}

#[test]
fn nested_unknown_keys_are_located() {
    let text = format!("{MINIMAL}\n[reports.csv]\ndelimeter = \";\"\n");
    let errs = messages(load_text(&text).unwrap_err());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("reports.toml:20:1: report \"Daily Views\", key `csv.delimeter`: unknown key `delimeter`; did you mean `delimiter`? allowed: `delimiter`,"),
        "{}",
        errs[0]
    );
    let text = MINIMAL.replace("kind = \"directory\"\n", "kind = \"directory\"\nkeep = 3\n");
    let errs = messages(load_text(&text).unwrap_err());
    assert!(errs[0].contains("destination \"local\", key `keep`: unknown key `keep`; did you mean `keep_days`? allowed: `kind`, `path`, `keep_days`"), "{errs:?}");
}

#[test]
fn every_allowed_top_level_key_is_read() {
    // Each key named in the "allowed" list of the unknown-key message must be read, so that
    // the list and the reader cannot drift apart.
    let text = format!("{MINIMAL}\n[settings]\ntimezone = \"UTC\"\n\n[serve]\nlisten = \"127.0.0.1:8080\"\napi_key = {{ env = \"K\" }}\nlink_secret = {{ env = \"S\" }}\n");
    let raw = toml::from_str::<toml::Table>(&text).unwrap();
    let mut keys: Vec<_> = raw.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut allowed: Vec<_> = raw::read::TOP_LEVEL.split(", ").collect();
    allowed.sort_unstable();
    assert_eq!(keys, allowed);
    let c = load_text(&text).unwrap_or_else(|e| panic!("{}", messages(e).join("\n")));
    let serve = c.serve.expect("[serve]");
    // Connection limits default to: cut off a client that reads nothing for 30 s, close
    // a connection with no request for 10 s, 64 connections from one address.
    assert_eq!(serve.send_timeout, std::time::Duration::from_secs(30));
    assert_eq!(serve.idle_timeout, std::time::Duration::from_secs(10));
    assert_eq!(serve.max_connections_per_client, 64);
}

/// Thousands of reports are read and checked on two threads: the result and every
/// message are those of reading them one by one, wherever the problems are.
#[test]
fn many_reports_read_on_two_threads_as_on_one() {
    let head = "[settings]\ntimezone = \"Europe/Berlin\"\n\n[sources.events]\nkind = \"sqlite\"\npath = \"events.db\"\n\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n";
    let report = |i: usize, name: &str, extra: &str| {
        format!("\n[[reports]]\nname = \"{name}\"\ntype = \"T\"\nsource = \"events\"\ndestinations = [\"local\"]\nquery = \"select 1\"\n{extra}[reports.schedule]\nfrequency = \"daily\"\nat = \"{:02}:00\"\n", i % 24)
    };
    let n = 4000;
    let build = |bad: &dyn Fn(usize) -> Option<(String, String)>| {
        let mut text = head.to_string();
        for i in 0..n {
            let (name, extra) = bad(i).unwrap_or_else(|| (format!("R{i:04}"), String::new()));
            text.push_str(&report(i, &name, &extra));
        }
        text
    };
    assert!(
        build(&|_| None).len() > raw::halves::MIN_LEN,
        "large enough to be cut"
    );

    let clean = load_text(&build(&|_| None)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(clean.reports.len(), n);
    assert!(clean
        .reports
        .iter()
        .enumerate()
        .all(|(i, r)| r.name == format!("R{i:04}")));
    assert!(clean
        .reports
        .iter()
        .all(|r| r.timezone == chrono_tz::Europe::Berlin));

    // Problems in both halves, and a name in the second half that the first already uses.
    let text = build(&|i| match i {
        5 => Some(("R0005".into(), "timezone = \"Mars/Olympus\"\n".into())),
        3990 => Some(("r0010".into(), String::new())),
        3995 => Some(("R3995".into(), "max_attempts = 0\n".into())),
        _ => None,
    });
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() + 1;
    let got = messages(load_text(&text).unwrap_err());
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0].starts_with(&format!(
            "reports.toml:{}:12: report \"R0005\", key `timezone`",
            line_of("Mars")
        )),
        "{}",
        got[0]
    );
    assert_eq!(
        got[1],
        format!("reports.toml:{}:8: report \"r0010\", key `name`: the name is already used by report \"R0010\"; report names must be unique (ignoring case)", line_of("\"r0010\""))
    );
    assert!(
        got[2].starts_with(&format!("reports.toml:{}:", line_of("max_attempts = 0"))),
        "{}",
        got[2]
    );

    // An unreadable report in the second half: read again as a whole, with the message
    // and the position (report #3001 has no name to go by) of the one-thread reading.
    let text = build(&|i| (i == 3000).then(|| (String::new(), "frequency = 1\n".into())));
    let got = messages(load_text(&text).unwrap_err());
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].contains("report #3001"), "{}", got[0]);
}

/// `naming = "seed002"` is read as `"dated-zip"`, with one warning pointing at it;
/// `"dated-zip"` loads without any.
#[test]
fn the_old_name_of_dated_zip_loads_with_a_warning() {
    let pickup = |naming: &str| {
        format!("{MINIMAL}\n[destinations.apps]\nkind = \"pickup\"\nnaming = \"{naming}\"\n")
    };
    let old = load_text(&pickup("seed002")).unwrap();
    let warnings: Vec<String> = old.warnings.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        warnings,
        ["reports.toml:21:10: destination \"apps\", key `naming`: \"seed002\" is the deprecated name of \"dated-zip\"; write naming = \"dated-zip\" instead"]
    );
    let new = load_text(&pickup("dated-zip")).unwrap();
    assert!(new.warnings.is_empty(), "{:?}", new.warnings);
    for c in [old, new] {
        match &c.destinations["apps"].kind {
            DestinationKind::Pickup(p) => assert_eq!(p.naming, PickupNaming::DatedZip),
            other => panic!("{other:?}"),
        }
    }
}

/// The ranges in messages come from the limits table; these are the words users saw
/// before the table existed.
#[test]
fn range_messages_name_the_limits() {
    let text = MINIMAL.replace(
        "kind = \"directory\"\npath = \"out\"",
        "kind = \"directory\"\npath = \"out\"\nkeep_days = 0\n\n[destinations.mail]\nkind = \"email\"\nto = [\"a@example.com\"]\nfrom = \"r@example.com\"\nsmtp = { host = \"localhost\", port = 70000 }\nmax_attachment_mb = 2000\n\n[destinations.box]\nkind = \"sftp\"\nhost = \"h\"\nuser = \"u\"\npath = \"/in\"\nagent = true\nio_timeout_seconds = 0",
    ) + "every = 7\nstart = 2026-01-01\n";
    let m = messages(load_text(&text).unwrap_err());
    assert_eq!(
        m,
        [
            "reports.toml:9:13: destination \"local\", key `keep_days`: 0 is out of range; allowed: 1 to 3650 days",
            "reports.toml:15:37: destination \"mail\", key `smtp.port`: 70000 is out of range; allowed: 1 to 65535",
            "reports.toml:16:21: destination \"mail\", key `max_attachment_mb`: 2000 is out of range; allowed: more than 0 up to 1000 (MB)",
            "reports.toml:24:22: destination \"box\", key `io_timeout_seconds`: 0 is out of range; allowed: 1 to 3600 seconds",
            "reports.toml:34:9: report \"Daily Views\", key `schedule.every`: 7 is out of range; allowed: 1 to 6 (daily periods between runs)",
        ]
    );
}

#[test]
fn parquet_options_layer_report_over_settings_over_defaults() {
    let c = load_text(MINIMAL).unwrap();
    assert_eq!(c.reports[0].parquet, ParquetOptions::default());
    assert_eq!(c.reports[0].parquet.compression, ParquetCompression::Snappy);
    assert_eq!(c.reports[0].parquet.row_group_rows, 100_000);
    let text = format!(
        "[settings.parquet]\ncompression = \"zstd\"\nrow_group_rows = 5000\n{MINIMAL}\n[reports.parquet]\nrow_group_rows = 20\n"
    );
    let c = load_text(&text).unwrap();
    assert_eq!(
        c.reports[0].parquet,
        ParquetOptions {
            compression: ParquetCompression::Zstd,
            row_group_rows: 20,
        }
    );
    let text =
        format!("{MINIMAL}\n[reports.parquet]\ncompression = \"gzip\"\nrow_group_rows = 0\n");
    let errs = messages(load_text(&text).unwrap_err());
    assert_eq!(
        errs,
        [
            "reports.toml:20:15: report \"Daily Views\", key `parquet.compression`: \"gzip\" is not allowed; allowed: none, snappy, zstd",
            "reports.toml:21:18: report \"Daily Views\", key `parquet.row_group_rows`: 0 is out of range; allowed: 1 to 10000000 rows",
        ]
    );
}
