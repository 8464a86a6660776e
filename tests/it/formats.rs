//! The typed formats through the binary: a type table (integers, reals, numeric, text
//! with `=cmd`, empty text, dates, timestamps, timestamps with zones, NULL, blobs,
//! booleans) in SQLite and PostgreSQL written as JSON Lines and xlsx and read back by
//! independent readers (Python's `json`, openpyxl); command sources with `types`;
//! several outputs in one workbook and the sheets that follow past the row limit; the
//! configuration errors of `format`, `types` and `workbook`.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::pg::{self, Pg};
use crate::common::{command, output, run, servers, tempdir, write};

/// The type table in SQLite: declared types map to column types.
const SQLITE_TABLE: &str = "CREATE TABLE t (id INTEGER, i INTEGER, r REAL, n NUMERIC(12,2), s TEXT, e TEXT, d DATE, ts DATETIME, tz TIMESTAMPTZ, b BLOB, ok BOOLEAN);
INSERT INTO t VALUES (1, 42, 0.5, 12.25, '=cmd|'' /C calc''!A0', '', '2026-11-01', '2026-11-01 10:20:30.25', '2026-11-01T12:20:30+02:00', x'00ff', 1);
INSERT INTO t VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t VALUES (3, -9007199254740993, -1.5e300, -0.5, 'é \"q\"', ' ', '1850-01-01', '2026-11-01T00:00:00', '2026-11-01 00:00:00Z', x'', 0);";

/// The same table in PostgreSQL, with its own types.
const PG_TABLE: &str = "CREATE TABLE t (id integer, i bigint, r double precision, n numeric(12,2), s text, e varchar(5), d date, ts timestamp, tz timestamptz, b bytea, ok boolean);
INSERT INTO t VALUES (1, 42, 0.5, 12.25, '=cmd|'' /C calc''!A0', '', '2026-11-01', '2026-11-01 10:20:30.25', '2026-11-01 12:20:30+02', '\\x00ff', true);
INSERT INTO t VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t VALUES (3, -9007199254740993, -1.5e300, -0.5, 'é \"q\"', ' ', '1850-01-01', '2026-11-01 00:00:00', '2026-11-01 00:00:00+00', '\\x', false);";

const QUERY: &str = "SELECT i, r, n, s, e, d, ts, tz, b, ok FROM t ORDER BY id";

/// The rows as JSON Lines must give them, whatever the source.
fn expected_json() -> Vec<Value> {
    vec![
        json!({"i": 42, "r": 0.5, "n": 12.25, "s": "=cmd|' /C calc'!A0", "e": "", "d": "2026-11-01",
               "ts": "2026-11-01T10:20:30.250", "tz": "2026-11-01T10:20:30Z", "b": "AP8=", "ok": true}),
        json!({"i": null, "r": null, "n": null, "s": null, "e": null, "d": null,
               "ts": null, "tz": null, "b": null, "ok": null}),
        json!({"i": -9007199254740993i64, "r": -1.5e300, "n": -0.5, "s": "é \"q\"", "e": " ", "d": "1850-01-01",
               "ts": "2026-11-01T00:00:00", "tz": "2026-11-01T00:00:00Z", "b": "", "ok": false}),
    ]
}

/// The cells openpyxl must see, each `[data_type, value, number_format]` (see
/// `READ_XLSX`): numbers, dates, text kept as text, booleans; integers past 2^53 and
/// dates before 1900 as text; NULL, empty text and empty blobs as empty cells.
fn expected_cells() -> Value {
    json!([
        [
            ["n", "42", "General"],
            ["n", "0.5", "General"],
            ["n", "12.25", "General"],
            ["s", "=cmd|' /C calc'!A0", "General"],
            ["n", null, "General"],
            ["d", "2026-11-01T00:00:00", "yyyy-mm-dd"],
            ["d", "2026-11-01T10:20:30.250000", "yyyy-mm-dd hh:mm:ss"],
            ["d", "2026-11-01T10:20:30", "yyyy-mm-dd hh:mm:ss"],
            ["s", "AP8=", "General"],
            ["b", "True", "General"]
        ],
        [
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"],
            ["n", null, "General"]
        ],
        [
            ["s", "-9007199254740993", "General"],
            ["n", "-1.5e+300", "General"],
            ["n", "-0.5", "General"],
            ["s", "é \"q\"", "General"],
            ["s", " ", "General"],
            ["s", "1850-01-01", "General"],
            ["d", "2026-11-01T00:00:00", "yyyy-mm-dd hh:mm:ss"],
            ["d", "2026-11-01T00:00:00", "yyyy-mm-dd hh:mm:ss"],
            ["n", null, "General"],
            ["b", "False", "General"]
        ]
    ])
}

/// Reads an xlsx file with openpyxl and prints, as JSON, each sheet's name, header,
/// whether the header is bold, the freeze pane, the autofilter range and the cells.
const READ_XLSX: &str = r#"
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    rows = list(ws.iter_rows())
    def cell(c):
        v = c.value
        if v is None: s = None
        elif isinstance(v, datetime.datetime): s = v.isoformat()
        elif isinstance(v, float) and v.is_integer() and abs(v) < 1e15: s = str(int(v))
        else: s = str(v)
        return [c.data_type, s, c.number_format]
    out.append({
        "name": ws.title,
        "header": [c.value for c in rows[0]] if rows else [],
        "bold": all(c.font.b for c in rows[0]) if rows else False,
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "cells": [[cell(c) for c in r] for r in rows[1:]],
    })
print(json.dumps(out))
"#;

/// Reads JSON Lines with Python's `json`, one object per line, and prints them as one
/// JSON array (keys in file order are checked separately).
const READ_JSONL: &str = r#"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
print(json.dumps({"rows": rows, "keys": [list(r) for r in rows]}))
"#;

fn python(script: &str, file: &Path) -> Value {
    let py = servers::env("SMTP", "PYTHON");
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
        .expect("the test venv's python (scripts/install-test-deps.sh)");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sqlite_source(dir: &Path) -> String {
    write(dir, "types.sql", SQLITE_TABLE);
    "[sources.db]\nkind = \"sqlite\"\ninit = [\"types.sql\"]\n".to_string()
}

fn pg_source(pg: &Pg, db: &str) -> String {
    format!(
        "[sources.db]\nkind = \"postgres\"\nurl = \"{}\"\npassword = {{ env = \"RCTL_TEST_PG_PASSWORD\" }}\n",
        pg.url(db)
    )
}

/// One report `Types` with the given outputs (TOML of `[[reports.outputs]]` tables).
fn config(source: &str, outputs: &str, csv: &str) -> String {
    format!(
        "[settings]\ntimezone = \"UTC\"\n\n{source}\n[destinations.out]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Types\"\nsource = \"db\"\ndestinations = [\"out\"]\n{outputs}\n[reports.csv]\n{csv}\n[reports.schedule]\nfrequency = \"daily\"\n"
    )
}

fn typed_outputs() -> String {
    format!(
        "[[reports.outputs]]\ntype = \"JL\"\nformat = \"jsonl\"\nquery = \"{QUERY}\"\n[[reports.outputs]]\ntype = \"XL\"\nformat = \"xlsx\"\nquery = \"{QUERY}\"\n"
    )
}

const DAY: [&str; 6] = ["run", "Types", "--from", "2026-11-01", "--to", "2026-11-01"];

/// Runs the day into `plain/`; returns the paths of the jsonl and xlsx files.
fn run_typed(dir: &Path, source: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    write(
        dir,
        "reports.toml",
        &config(source, &typed_outputs(), "blob = \"base64\""),
    );
    let mut args = DAY.to_vec();
    args.extend(["-o", "plain"]);
    let out = run(dir, &args);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("JL_Types_20261101_20261101.jsonl: 3 rows"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("XL_Types_20261101_20261101.xlsx: 3 rows"),
        "{out:?}"
    );
    (
        dir.join("plain/JL_Types_20261101_20261101.jsonl"),
        dir.join("plain/XL_Types_20261101_20261101.xlsx"),
    )
}

/// Reads both files back with the independent readers and checks every value.
fn check_read_back(jsonl: &Path, xlsx: &Path) {
    let j = python(READ_JSONL, jsonl);
    assert_eq!(j["rows"], Value::Array(expected_json()));
    let keys = json!(["i", "r", "n", "s", "e", "d", "ts", "tz", "b", "ok"]);
    assert!(
        j["keys"].as_array().unwrap().iter().all(|k| k == &keys),
        "{j}"
    );
    let x = python(READ_XLSX, xlsx);
    let sheet = &x[0];
    assert_eq!(x.as_array().unwrap().len(), 1, "{x}");
    assert_eq!(sheet["name"], "XL");
    assert_eq!(sheet["header"], keys);
    assert_eq!(sheet["bold"], true);
    assert_eq!(sheet["freeze"], "A2");
    assert_eq!(sheet["filter"], "A1:J4");
    assert_eq!(sheet["cells"], expected_cells(), "{x}");
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn sqlite_type_table_reads_back_in_json_and_openpyxl() {
    let dir = tempdir();
    let (jsonl, xlsx) = run_typed(dir.path(), &sqlite_source(dir.path()));
    check_read_back(&jsonl, &xlsx);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn postgresql_type_table_reads_back_in_json_and_openpyxl() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_formats");
    pg.client(&db).batch_execute(PG_TABLE).unwrap();
    let dir = tempdir();
    let (jsonl, xlsx) = run_typed(dir.path(), &pg_source(&pg, &db));
    check_read_back(&jsonl, &xlsx);
}

/// Without Python: the JSON Lines text itself, byte for byte.
#[test]
fn sqlite_type_table_as_json_lines() {
    let dir = tempdir();
    let (jsonl, _) = run_typed(dir.path(), &sqlite_source(dir.path()));
    assert_eq!(
        std::fs::read_to_string(jsonl).unwrap(),
        "{\"i\":42,\"r\":0.5,\"n\":12.25,\"s\":\"=cmd|' /C calc'!A0\",\"e\":\"\",\"d\":\"2026-11-01\",\"ts\":\"2026-11-01T10:20:30.250\",\"tz\":\"2026-11-01T10:20:30Z\",\"b\":\"AP8=\",\"ok\":true}\n\
         {\"i\":null,\"r\":null,\"n\":null,\"s\":null,\"e\":null,\"d\":null,\"ts\":null,\"tz\":null,\"b\":null,\"ok\":null}\n\
         {\"i\":-9007199254740993,\"r\":-1.5e300,\"n\":-0.5,\"s\":\"é \\\"q\\\"\",\"e\":\" \",\"d\":\"1850-01-01\",\"ts\":\"2026-11-01T00:00:00\",\"tz\":\"2026-11-01T00:00:00Z\",\"b\":\"\",\"ok\":false}\n"
    );
}

/// The parts of an xlsx file (a zip archive) by name.
fn xlsx_part(path: &Path, part: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name(part)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Without Python: text that looks like a formula is an inline string, never a
/// formula element.
#[test]
fn xlsx_text_is_never_a_formula() {
    let dir = tempdir();
    let (_, xlsx) = run_typed(dir.path(), &sqlite_source(dir.path()));
    let sheet = xlsx_part(&xlsx, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "{sheet}");
    assert!(
        sheet.contains("<is><t>=cmd|' /C calc'!A0</t></is>"),
        "{sheet}"
    );
}

#[test]
fn command_source_with_declared_types() {
    let dir = tempdir();
    let source = "[sources.db]\nkind = \"command\"\nprogram = \"sh\"\nargs = [\"-c\", \"printf 'day,n,amount,flag,note\\\\n2026-11-01,5,1.50,t,=x\\\\nsoon,,abc,no,\\\\n'\"]\n";
    let outputs = "[[reports.outputs]]\ntype = \"C\"\nformat = \"jsonl\"\nquery = \"-\"\ntypes = { day = \"date\", n = \"int\", amount = \"numeric\", flag = \"bool\" }\n";
    write(dir.path(), "reports.toml", &config(source, outputs, ""));
    let mut args = DAY.to_vec();
    args.extend(["-o", "-"]);
    let out = run(dir.path(), &args);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "{\"day\":\"2026-11-01\",\"n\":5,\"amount\":1.50,\"flag\":true,\"note\":\"=x\"}\n\
         {\"day\":\"soon\",\"n\":null,\"amount\":\"abc\",\"flag\":false,\"note\":null}\n"
    );
    // A declared column the command does not print fails the run, naming it.
    let bad = outputs.replace("flag = \"bool\"", "flags = \"bool\"");
    write(dir.path(), "reports.toml", &config(source, &bad, ""));
    let out = run(dir.path(), &args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("report \"Types\", output C: ")
            && out.stderr.contains(
                "`types` names column \"flags\", which the query does not return; its columns: day, n, amount, flag, note"
            ),
        "{out:?}"
    );
}

/// Outputs naming one workbook are its sheets; past the row limit (lowered by a
/// debug-build variable) rows go on in `KIND (2)` with the header repeated.
fn workbook_run(dir: &Path) -> std::path::PathBuf {
    let source = sqlite_source(dir);
    let outputs = format!(
        "[[reports.outputs]]\ntype = \"ALL\"\nformat = \"xlsx\"\nworkbook = \"BOOK\"\nquery = \"{QUERY}\"\n\
         [[reports.outputs]]\ntype = \"IDS\"\nformat = \"xlsx\"\nworkbook = \"BOOK\"\nquery = \"SELECT id FROM t ORDER BY id\"\n\
         [[reports.outputs]]\ntype = \"CSV\"\nquery = \"SELECT id FROM t ORDER BY id\"\n"
    );
    write(
        dir,
        "reports.toml",
        &config(&source, &outputs, "blob = \"hex\""),
    );
    let mut args = DAY.to_vec();
    args.extend(["-o", "plain"]);
    let mut cmd = command(dir, &args);
    cmd.env("REPORTCTL_TEST_XLSX_ROWS", "2");
    let out = output(cmd);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("BOOK_Types_20261101_20261101.xlsx: 6 rows"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("CSV_Types_20261101_20261101.csv: 3 rows"),
        "{out:?}"
    );
    dir.join("plain/BOOK_Types_20261101_20261101.xlsx")
}

#[test]
fn several_outputs_in_one_workbook() {
    let dir = tempdir();
    let book = workbook_run(dir.path());
    let names = xlsx_part(&book, "xl/workbook.xml");
    for sheet in ["ALL", "ALL (2)", "IDS", "IDS (2)"] {
        assert!(names.contains(&format!("name=\"{sheet}\"")), "{names}");
    }
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn workbook_sheets_read_back_in_openpyxl() {
    let dir = tempdir();
    let book = workbook_run(dir.path());
    let x = python(READ_XLSX, &book);
    let names: Vec<&str> = x
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ALL", "ALL (2)", "IDS", "IDS (2)"]);
    assert_eq!(x[1]["header"], x[0]["header"]);
    assert_eq!(x[1]["bold"], true);
    assert_eq!(x[1]["filter"], "A1:J2");
    assert_eq!(x[3]["cells"], json!([[["n", "3", "General"]]]));
    assert_eq!(x[0]["cells"][0][8], json!(["s", "00ff", "General"]));
}

#[test]
fn format_configuration_errors() {
    let dir = tempdir();
    let source = sqlite_source(dir.path());
    let outputs = "[[reports.outputs]]\ntype = \"A\"\nformat = \"xls\"\nquery = \"SELECT 1\"\n\
        [[reports.outputs]]\ntype = \"B\"\nquery = \"SELECT 1 AS x\"\ntypes = { x = \"int\" }\n\
        [[reports.outputs]]\ntype = \"C\"\nformat = \"jsonl\"\nquery = \"SELECT 1 AS x\"\ntypes = { x = \"integer\" }\n\
        [[reports.outputs]]\ntype = \"D\"\nformat = \"jsonl\"\nworkbook = \"W\"\nquery = \"SELECT 1\"\n\
        [[reports.outputs]]\ntype = \"E\"\nformat = \"xlsx\"\nquery = \"SELECT 1\"\n";
    write(
        dir.path(),
        "reports.toml",
        &config(&source, outputs, "compression = \"gzip\""),
    );
    let out = run(dir.path(), &["validate", "--offline"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml:18:10: report \"Types\", key `outputs[0].format`: \"xls\" is not allowed; did you mean \"xlsx\"? allowed: csv, xlsx, jsonl, parquet\n\
         reportctl: error: reports.toml:23:9: report \"Types\", key `outputs[1].types`: `types` sets column types for the typed formats; set format = \"xlsx\", \"jsonl\" or \"parquet\" (CSV writes values as the source gives them)\n\
         reportctl: error: reports.toml:28:15: report \"Types\", key `outputs[2].types.x`: \"integer\" is not a column type; allowed: int, real, numeric, text, bool, date, timestamp, timestamptz\n\
         reportctl: error: reports.toml:32:12: report \"Types\", key `outputs[3].workbook`: `workbook` puts xlsx outputs into one file, one sheet each; set format = \"xlsx\"\n\
         reportctl: error: reports.toml:40:15: report \"Types\", key `csv.compression`: compression = \"gzip\" applies to csv and jsonl files, not to output E (format = \"xlsx\": an xlsx file is a zip archive already); set it to \"none\", or put the xlsx or parquet output in a report of its own\n"
    );
}

/// A report of one output of `format` (the type table's query) and `csv` options, run
/// for the day with `-o OUT`: the command, ready to run.
fn single_output(dir: &Path, format: &str, csv: &str, out: &str) -> std::process::Command {
    let source = sqlite_source(dir);
    let outputs = format!("type = \"OUT\"\nformat = \"{format}\"\nquery = \"{QUERY}\"\n");
    write(dir, "reports.toml", &config(&source, &outputs, csv));
    let mut args = DAY.to_vec();
    args.extend(["-o", out]);
    command(dir, &args)
}

#[test]
fn jsonl_is_compressed_like_csv() {
    let dir = tempdir();
    let cmd = single_output(
        dir.path(),
        "jsonl",
        "compression = \"zip\"\nblob = \"hex\"",
        "plain",
    );
    let out = output(cmd);
    assert_eq!(out.code, 0, "{out:?}");
    let zip = dir.path().join("plain/OUT_Types_20261101_20261101.zip");
    let text = xlsx_part(&zip, "OUT_Types_20261101_20261101.jsonl");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("\"b\":\"00ff\""), "{text}");
}

/// `run -o -` writes an xlsx file to standard output when it is not a terminal (here a
/// pipe): a complete workbook.
#[test]
fn xlsx_to_a_redirected_stdout() {
    let dir = tempdir();
    let out = single_output(dir.path(), "xlsx", "blob = \"hex\"", "-")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let path = dir.path().join("stdout.xlsx");
    std::fs::write(&path, &out.stdout).unwrap();
    let sheet = xlsx_part(&path, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<is><t>00ff</t></is>"), "{sheet}");
}

/// `validate` prepares the query and checks that `types` names its columns (a run
/// would fail on it too, see `command_source_with_declared_types`).
#[test]
fn validate_checks_the_columns_types_names() {
    let dir = tempdir();
    let source = sqlite_source(dir.path());
    let outputs = format!(
        "[[reports.outputs]]\ntype = \"JL\"\nformat = \"jsonl\"\nquery = \"{QUERY}\"\ntypes = {{ d = \"date\", day = \"date\" }}\n"
    );
    write(dir.path(), "reports.toml", &config(&source, &outputs, ""));
    let out = run(dir.path(), &["validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        "reportctl: error: reports.toml:20:9: report \"Types\", key `outputs[0].types`: column \"day\" is not one the query returns on source \"db\"; its columns: i, r, n, s, e, d, ts, tz, b, ok\n"
    );
    let out = run(dir.path(), &["validate", "--offline"]);
    assert_eq!(out.code, 0, "{out:?}");
}
