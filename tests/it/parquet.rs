//! `format = "parquet"` through the binary: a table of every column type, on SQLite and
//! on PostgreSQL, read back by independent readers (pyarrow and DuckDB, from the test
//! venv) with their schema types and values compared; a file of 300,000 rows in small
//! row groups read back complete; a value that does not fit its column's inferred type
//! failing the run with a message naming report, output, column and row.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common::pg;
use crate::common::servers::env;
use crate::common::{run, tempdir, write};

/// A report "Types" writing one parquet output `T` of `query` on `source` into `out`.
fn config(source: &str, query: &str, parquet: &str) -> String {
    format!(
        "[settings]\ntimezone = \"UTC\"\n\n{source}\n[destinations.local]\nkind = \"directory\"\npath = \"out\"\n\n[[reports]]\nname = \"Types\"\ntype = \"T\"\nsource = \"db\"\ndestinations = [\"local\"]\nformat = \"parquet\"\nquery = '''\n{query}\n'''\n[reports.parquet]\n{parquet}\n[reports.schedule]\nfrequency = \"daily\"\n"
    )
}

const DAY: [&str; 7] = [
    "run",
    "Types",
    "--from",
    "2026-03-01",
    "--to",
    "2026-03-01",
    "--output",
];

/// Runs the report for one day into `dir/got`; returns the parquet file.
fn run_report(dir: &Path) -> PathBuf {
    let mut args = DAY.to_vec();
    args.push("got");
    let out = run(dir, &args);
    assert_eq!(out.code, 0, "{out:?}");
    let file = dir.join("got/T_Types_20260301_20260301.parquet");
    assert!(file.is_file(), "{out:?}");
    file
}

/// A SQLite source `db` made from `sql` in `dir`.
fn sqlite_source(dir: &Path, sql: &str) -> &'static str {
    write(dir, "data.sql", sql);
    "[sources.db]\nkind = \"sqlite\"\ninit = [\"data.sql\"]\n"
}

/// What pyarrow and DuckDB read from `file`: schema types, rows, row groups (pyarrow)
/// and column types, rows (DuckDB), values as JSON (dates and times in ISO 8601, bytes
/// in hex).
const READ_BACK: &str = r#"
import datetime, decimal, json, sys
import duckdb, pyarrow.parquet as pq

def enc(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return v

path = sys.argv[1]
f = pq.ParquetFile(path)
t = f.read()
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
q = "SELECT * FROM read_parquet(?)"
print(json.dumps({
    "pyarrow_types": [str(x.type) for x in t.schema],
    "pyarrow_rows": [[enc(v) for v in r.values()] for r in t.to_pylist()],
    "row_groups": f.num_row_groups,
    "duckdb_types": [r[1] for r in con.execute("DESCRIBE " + q, [path]).fetchall()],
    "duckdb_rows": [[enc(v) for v in r] for r in con.execute(q, [path]).fetchall()],
}))
"#;

/// Runs `script` with the test venv's python on `file`; returns what it printed.
fn python(script: &str, file: &Path) -> String {
    let out = Command::new(env("PostgreSQL", "PYTHON"))
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const QUERY: &str = "SELECT id, i, r, n, s, d, ts, tz, flag, b FROM t ORDER BY id";

/// Checks what the readers saw against the rows both sources hold; `n` differs: SQLite's
/// NUMERIC stores numbers (read as DOUBLE), PostgreSQL's numeric exact digits (text).
fn check(got: &Value, n_arrow: &str, n_duck: &str, [n1, n2]: [Value; 2]) {
    let rows = json!([
        [
            1,
            -7,
            0.1,
            n1,
            "=cmd",
            "2026-02-28",
            "2026-03-01T12:30:45.500000",
            "2026-03-01T11:00:00+00:00",
            true,
            "00ff"
        ],
        [
            2,
            9_007_199_254_740_993_i64,
            3.0,
            n2,
            "",
            "1969-12-31",
            "2026-03-01T00:00:00",
            "2026-03-01T05:00:00+00:00",
            false,
            ""
        ],
        [3, null, null, null, null, null, null, null, null, null],
    ]);
    assert_eq!(
        got["pyarrow_types"],
        json!([
            "int64",
            "int64",
            "double",
            n_arrow,
            "string",
            "date32[day]",
            "timestamp[us]",
            "timestamp[us, tz=UTC]",
            "bool",
            "binary"
        ]),
    );
    assert_eq!(
        got["duckdb_types"],
        json!([
            "BIGINT",
            "BIGINT",
            "DOUBLE",
            n_duck,
            "VARCHAR",
            "DATE",
            "TIMESTAMP",
            "TIMESTAMP WITH TIME ZONE",
            "BOOLEAN",
            "BLOB"
        ]),
    );
    assert_eq!(got["pyarrow_rows"], rows);
    assert_eq!(got["duckdb_rows"], rows);
    assert_eq!(got["row_groups"], 1);
}

fn read_back(file: &Path) -> Value {
    serde_json::from_str(&python(READ_BACK, file)).unwrap()
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_type_table_in_sqlite_reads_back_in_pyarrow_and_duckdb() {
    let dir = tempdir();
    let source = sqlite_source(
        dir.path(),
        "CREATE TABLE t (id INTEGER, i INTEGER, r REAL, n NUMERIC, s TEXT, d DATE, ts DATETIME, tz TIMESTAMPTZ, flag BOOLEAN, b BLOB);
         INSERT INTO t VALUES (1, -7, 0.1, 12.5, '=cmd', '2026-02-28', '2026-03-01 12:30:45.5', '2026-03-01T11:00:00Z', 1, x'00ff');
         INSERT INTO t VALUES (2, 9007199254740993, 3, 10, '', '1969-12-31', '2026-03-01T00:00:00', '2026-03-01T05:00:00Z', 0, x'');
         INSERT INTO t (id) VALUES (3);",
    );
    write(dir.path(), "reports.toml", &config(source, QUERY, ""));
    let got = read_back(&run_report(dir.path()));
    check(&got, "double", "DOUBLE", [json!(12.5), json!(10.0)]);
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_type_table_in_postgresql_reads_back_in_pyarrow_and_duckdb() {
    let pg = pg::server();
    let db = pg.fresh_db("rctl_parquet_types");
    pg.client(&db)
        .batch_execute(
            "CREATE TABLE t (id int, i bigint, r double precision, n numeric(30,2), s text, d date,
                             ts timestamp, tz timestamptz, flag boolean, b bytea);
             INSERT INTO t VALUES
               (1, -7, 0.1, 12345678901234567890.12, '=cmd', '2026-02-28', '2026-03-01 12:30:45.5',
                '2026-03-01 06:00:00-05', true, '\\x00ff'),
               (2, 9007199254740993, 3, 10, '', '1969-12-31', '2026-03-01 00:00', '2026-03-01T05:00:00Z',
                false, '\\x');
             INSERT INTO t (id) VALUES (3);",
        )
        .unwrap();
    let dir = tempdir();
    let source = format!(
        "[sources.db]\nkind = \"postgres\"\nurl = \"{}\"\npassword = {{ env = \"RCTL_TEST_PG_PASSWORD\" }}\n",
        pg.url(&db)
    );
    write(dir.path(), "reports.toml", &config(&source, QUERY, ""));
    let got = read_back(&run_report(dir.path()));
    check(
        &got,
        "string",
        "VARCHAR",
        [json!("12345678901234567890.12"), json!("10.00")],
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn three_hundred_thousand_rows_in_small_row_groups_read_back_complete() {
    let dir = tempdir();
    let source = sqlite_source(dir.path(), "CREATE TABLE unused (x);");
    let query =
        "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < 300000)
                 SELECT x AS id, x * 0.5 AS half, 'row ' || x AS label FROM seq";
    write(
        dir.path(),
        "reports.toml",
        &config(
            source,
            query,
            "row_group_rows = 1000\ncompression = \"zstd\"\n",
        ),
    );
    let file = run_report(dir.path());
    let script = "import sys, duckdb, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1]); t = f.read()
d = duckdb.sql(f\"SELECT count(*), sum(id), count(DISTINCT label) FROM '{sys.argv[1]}'\").fetchall()[0]
print(f.num_row_groups, t.num_rows, sum(t.column('id').to_pylist()), t.column('half')[299999].as_py(), *d)";
    assert_eq!(
        python(script, &file).trim(),
        "300 300000 45000150000 150000.0 300000 45000150000 300000"
    );
}

#[test]
fn a_value_that_does_not_fit_the_inferred_type_fails_the_run_naming_it() {
    let dir = tempdir();
    let source = sqlite_source(dir.path(), "CREATE TABLE unused (x);");
    let query = "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < 5)
                 SELECT CASE WHEN x < 4 THEN x ELSE x + 0.5 END AS amount FROM seq";
    write(
        dir.path(),
        "reports.toml",
        &config(source, query, "row_group_rows = 3\n"),
    );
    let mut args = DAY.to_vec();
    args.push("got");
    let out = run(dir.path(), &args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("report \"Types\", output T: source \"db\": row 4, column \"amount\": a real number does not fit the column's Parquet type INT64; declare the column's type in the output's `types` or CAST it in the query"),
        "{out:?}"
    );
}
