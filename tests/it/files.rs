//! Files as a user receives them: compression (always and above a size), Excel options,
//! several outputs per report, and the directory destination's pruning.

use crate::common;

use std::io::Read;
use std::path::Path;

use crate::common::{run, tempdir, write};

fn config(csv: &str, extra_report: &str) -> String {
    format!(
        r#"[settings]
timezone = "UTC"

[sources.gen]
kind = "sqlite"
init = ["data.sql"]

[destinations.out]
kind = "directory"
path = "out"

[[reports]]
name = "Numbers"
source = "gen"
destinations = ["out"]
{extra_report}
[[reports.outputs]]
type = "SMALL"
query = "SELECT n, 'row ' || n AS label FROM numbers WHERE n <= 3 ORDER BY n"
[[reports.outputs]]
type = "BIG"
query = "SELECT n, printf('%020d', n) AS padded, '=cmd' AS formula, -n AS neg FROM numbers ORDER BY n"
[reports.csv]
{csv}
[reports.schedule]
frequency = "daily"
"#
    )
}

fn setup(dir: &Path, csv: &str) {
    write(
        dir,
        "data.sql",
        "CREATE TABLE numbers (n INTEGER);
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 50000)
         INSERT INTO numbers SELECT n FROM c;",
    );
    write(dir, "reports.toml", &config(csv, ""));
}

fn plain(dir: &Path) -> (String, String) {
    let d = tempdir();
    setup(d.path(), "");
    let out = run_day(d.path(), &["-o", "plain"]);
    assert_eq!(out.code, 0, "{out:?}");
    let _ = dir;
    let read = |t: &str| {
        std::fs::read_to_string(
            d.path()
                .join(format!("plain/{t}_Numbers_20261101_20261101.csv")),
        )
        .unwrap()
    };
    (read("SMALL"), read("BIG"))
}

/// `reportctl run Numbers` for 2026-11-01, with more arguments.
fn run_day(dir: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "run",
        "Numbers",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-01",
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn gzip_and_zip_hold_the_same_csv() {
    let (small, big) = plain(Path::new("."));
    assert_eq!(small, "n,label\n1,row 1\n2,row 2\n3,row 3\n");
    assert!(
        big.starts_with("n,padded,formula,neg\n1,00000000000000000001,=cmd,-1\n"),
        "{}",
        &big[..80]
    );

    let dir = tempdir();
    let d = dir.path();
    setup(d, "compression = \"gzip\"");
    assert_eq!(run_day(d, &[]).code, 0);
    assert_eq!(
        names(&d.join("out")),
        [
            "BIG_Numbers_20261101_20261101.csv.gz",
            "SMALL_Numbers_20261101_20261101.csv.gz"
        ]
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(d.join("out/BIG_Numbers_20261101_20261101.csv.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    assert_eq!(text, big);

    let dir = tempdir();
    let d = dir.path();
    setup(d, "compression = \"zip\"");
    assert_eq!(run_day(d, &[]).code, 0);
    assert_eq!(
        names(&d.join("out")),
        [
            "BIG_Numbers_20261101_20261101.zip",
            "SMALL_Numbers_20261101_20261101.zip"
        ]
    );
    let mut zip = zip::ZipArchive::new(
        std::fs::File::open(d.join("out/SMALL_Numbers_20261101_20261101.zip")).unwrap(),
    )
    .unwrap();
    assert_eq!(zip.len(), 1);
    let mut entry = zip.by_index(0).unwrap();
    assert_eq!(entry.name().unwrap(), "SMALL_Numbers_20261101_20261101.csv");
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    assert_eq!(text, small);
}

#[test]
fn compression_above_a_size_only() {
    let dir = tempdir();
    let d = dir.path();
    setup(d, "compression = \"gzip\"\ncompress_above_mb = 0.5");
    let out = run_day(d, &["--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    // The big file (about 2 MB) is compressed, the small one is not.
    assert_eq!(
        names(&d.join("out")),
        [
            "BIG_Numbers_20261101_20261101.csv.gz",
            "SMALL_Numbers_20261101_20261101.csv"
        ]
    );
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["files"][0]["name"], "SMALL_Numbers_20261101_20261101.csv");
    assert_eq!(v["files"][0]["rows"], 3);
    assert_eq!(v["files"][1]["rows"], 50000);
    // The recorded size and checksum are those of the delivered file.
    let gz = std::fs::read(d.join("out/BIG_Numbers_20261101_20261101.csv.gz")).unwrap();
    assert_eq!(v["files"][1]["bytes"], gz.len());
    assert_eq!(v["files"][1]["sha256"].as_str().unwrap(), sha256_hex(&gz));
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn excel_options_through_the_binary() {
    let dir = tempdir();
    let d = dir.path();
    setup(
        d,
        "delimiter = \";\"\nbom = true\nline_ending = \"crlf\"\nformula_guard = true",
    );
    let out = run_day(d, &["-o", "x"]);
    assert_eq!(out.code, 0, "{out:?}");
    let big = std::fs::read_to_string(d.join("x/BIG_Numbers_20261101_20261101.csv")).unwrap();
    assert!(
        big.starts_with("\u{feff}n;padded;formula;neg\r\n1;00000000000000000001;'=cmd;-1\r\n"),
        "{:?}",
        &big[..60]
    );
}

#[test]
fn stdout_takes_one_output() {
    let dir = tempdir();
    let d = dir.path();
    setup(d, "");
    let out = run_day(d, &["-o", "-"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "reportctl: error: report \"Numbers\" has 2 outputs; --output - writes one: use --output DIR\n");
}

/// Files this destination delivered more than keep_days ago are pruned; newer ones,
/// replaced ones and files reportctl did not write stay.
#[test]
fn directory_prunes_only_its_own_old_files() {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        "data.sql",
        "CREATE TABLE t (x); INSERT INTO t VALUES (1);",
    );
    write(
        d,
        "reports.toml",
        r#"[settings]
timezone = "UTC"
[sources.gen]
kind = "sqlite"
init = ["data.sql"]
[destinations.out]
kind = "directory"
path = "out"
keep_days = 3
[[reports]]
name = "Tiny"
type = "T"
source = "gen"
destinations = ["out"]
query = "SELECT x FROM t"
[reports.schedule]
frequency = "daily"
"#,
    );
    for day in ["2026-11-01", "2026-11-02"] {
        assert_eq!(run(d, &["run", "Tiny", "--from", day, "--to", day]).code, 0);
    }
    write(d, "out/not-ours.csv", "x\n");
    // Age everything by ten days, then rerun the second day: it is replaced (new mtime).
    let old = filetime::FileTime::from_unix_time(chrono::Utc::now().timestamp() - 10 * 86_400, 0);
    for f in names(&d.join("out")) {
        filetime::set_file_mtime(d.join("out").join(f), old).unwrap();
    }
    let ledger = rusqlite::Connection::open(d.join(".reportctl/ledger.sqlite")).unwrap();
    ledger
        .execute(
            "UPDATE receipts SET delivered_at = '2026-01-01T00:00:00.000Z'",
            [],
        )
        .unwrap();
    drop(ledger);
    assert_eq!(
        run(
            d,
            &["run", "Tiny", "--from", "2026-11-02", "--to", "2026-11-02"]
        )
        .code,
        0
    );
    assert_eq!(
        names(&d.join("out")),
        ["T_Tiny_20261102_20261102.csv", "not-ours.csv"]
    );
}

/// Empty text and NULL stay apart, as in the sqlite3 shell: the CSV of a table holding
/// the edge cases (NULL, empty text, quotes, delimiters, line breaks, integers, reals,
/// text that looks like a number) is byte for byte what `sqlite3 -csv -header` writes.
/// (The shell also quotes text holding a space, a tab or a non-ASCII character, which
/// RFC 4180 does not ask for, and writes reals in its own `%g` form, `1.0e-07`:
/// reportctl does neither, so such values are not in the table.)
#[test]
#[ignore = "needs test servers: scripts/test"]
fn csv_is_byte_identical_to_the_sqlite3_shell() {
    let dir = tempdir();
    let d = dir.path();
    let conn = rusqlite::Connection::open(d.join("edge.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER, label TEXT, note TEXT, amount REAL);
         INSERT INTO t VALUES
           (1, NULL, '', 1.5),
           (2, '', NULL, NULL),
           (3, 'say\"hi\"', 'a,b', -0.25),
           (4, 'two
lines', '\"', 100.0),
           (5, '007', '=1+1', 2.5e10),
           (6, 'crlf' || char(13) || char(10) || 'end', ';', 3);",
    )
    .unwrap();
    drop(conn);
    let query = "SELECT id, label, note, amount FROM t ORDER BY id";
    write(
        d,
        "reports.toml",
        &format!(
            "[settings]\ntimezone = \"UTC\"\n\n[sources.db]\nkind = \"sqlite\"\npath = \"edge.db\"\n\n\
             [destinations.out]\nkind = \"directory\"\npath = \"out\"\n\n\
             [[reports]]\nname = \"Edge\"\ntype = \"E\"\nsource = \"db\"\ndestinations = [\"out\"]\n\
             query = \"{query}\"\n[reports.schedule]\nfrequency = \"daily\"\n"
        ),
    );
    let ours = run(
        d,
        &["run", "Edge", "-o", "-", "--now", "2026-11-30T12:00:00Z"],
    );
    assert_eq!((ours.code, ours.stderr.as_str()), (0, ""), "{ours:?}");
    let theirs = std::process::Command::new("sqlite3")
        .args(["-csv", "-header"])
        .arg(d.join("edge.db"))
        .arg(query)
        .output()
        .expect("sqlite3 (scripts/install-test-deps.sh installs it)");
    assert!(theirs.status.success(), "{theirs:?}");
    assert_eq!(ours.stdout, String::from_utf8(theirs.stdout).unwrap());
}
