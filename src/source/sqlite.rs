//! The embedded default: a SQLite database file opened read-only with a busy timeout,
//! or an in-memory database built by `init` scripts (the bundled example data). The
//! query's named parameters are bound by name; rows are streamed, never collected.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{bail, Context, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{allowed_params, Cell, Column, ColumnType, ParamValue, RowSink, WindowParams};
use crate::config::SqliteSource;

/// In-memory databases built from `init` scripts, kept for the life of the process so
/// that a run-due with several reports builds each only once.
type Memory = Mutex<HashMap<Vec<PathBuf>, Arc<Mutex<Connection>>>>;
static MEMORY: OnceLock<Memory> = OnceLock::new();

/// Runs `f` with the source's database open (also for `validate`'s checks).
pub(crate) fn with_db<T>(
    source: &SqliteSource,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    if source.path.is_some() {
        return f(&open(source)?);
    }
    let db = {
        let mut cache = MEMORY.get_or_init(Memory::default).lock().unwrap();
        match cache.get(&source.init) {
            Some(db) => db.clone(),
            None => {
                let db = Arc::new(Mutex::new(open(source)?));
                cache.insert(source.init.clone(), db.clone());
                db
            }
        }
    };
    let conn = db.lock().unwrap();
    f(&conn)
}

/// Opens the source's database.
pub fn open(source: &SqliteSource) -> Result<Connection> {
    let conn = match &source.path {
        Some(path) => {
            if !path.exists() {
                bail!("database {} does not exist", path.display());
            }
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI;
            Connection::open_with_flags(path, flags)
                .with_context(|| format!("opening database {}", path.display()))?
        }
        None => {
            let conn = Connection::open_in_memory().context("opening an in-memory database")?;
            for script in &source.init {
                load_script(&conn, script)?;
            }
            conn
        }
    };
    conn.busy_timeout(source.busy_timeout)?;
    crate::structured::sqlite_fns::register(&conn)?;
    Ok(conn)
}

/// The columns of a table, `None` if there is no such table.
pub fn table_columns(source: &SqliteSource, table: &[String]) -> Result<Option<Vec<String>>> {
    with_db(source, |conn| {
        let (schema, name) = match table {
            [schema, name] => (schema.as_str(), name.as_str()),
            [name] => ("main", name.as_str()),
            _ => bail!("a table name is `table` or `schema.table`"),
        };
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1, ?2) ORDER BY cid")?;
        let cols: Vec<String> = stmt
            .query_map([name, schema], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok((!cols.is_empty()).then_some(cols))
    })
}

/// Runs a compiled structured query (positional parameters) and streams the rows.
pub fn query_compiled(
    source: &SqliteSource,
    compiled: &crate::structured::Compiled,
    sink: &mut dyn RowSink,
) -> Result<()> {
    use crate::structured::Param;
    with_db(source, |conn| {
        let mut stmt = conn
            .prepare(&compiled.sql)
            .map_err(|e| anyhow::anyhow!("{}", describe(&e, &compiled.sql)))?;
        for (i, p) in compiled.params.iter().enumerate() {
            match p {
                Param::Text(t) => stmt.raw_bind_parameter(i + 1, t)?,
                Param::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
                Param::TextList(v) => stmt.raw_bind_parameter(i + 1, v.join(","))?,
            }
        }
        stream(&mut stmt, &compiled.sql, sink)
    })
}

fn load_script(conn: &Connection, script: &Path) -> Result<()> {
    let sql = std::fs::read_to_string(script)
        .with_context(|| format!("reading init script {}", script.display()))?;
    conn.execute_batch(&sql)
        .map_err(|e| anyhow::anyhow!("{}", describe(&e, &sql)))
        .with_context(|| format!("running init script {}", script.display()))
}

/// SQLite's message, with the line and column of the offending token when SQLite
/// gives its position.
fn describe(e: &rusqlite::Error, sql: &str) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, offset, .. } if *offset >= 0 => {
            let offset = (*offset as usize).min(sql.len());
            let before = &sql[..offset];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("SQLite: {msg} (at line {line}, column {col} of the query)")
        }
        rusqlite::Error::SqlInputError { msg, .. } => format!("SQLite: {msg}"),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => format!("SQLite: {msg}"),
        rusqlite::Error::Empty => {
            "the query is empty or only comments, so it returns no columns; a report query must be a SELECT".to_string()
        }
        rusqlite::Error::MultipleStatement => {
            "the query holds more than one statement; give exactly one SELECT".to_string()
        }
        other => format!("SQLite: {other}"),
    }
}

/// Runs `sql` with the window bound to its named parameters and streams the rows;
/// `:from` and `:to` bind in the form the source stores its times in.
pub fn query(
    source: &SqliteSource,
    sql: &str,
    params: &WindowParams,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let params = params.clone().stored_as(source.time_format);
    with_db(source, |conn| query_conn(conn, sql, &params, sink))
}

pub fn query_conn(
    conn: &Connection,
    sql: &str,
    params: &WindowParams,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| anyhow::anyhow!("{}", describe(&e, sql)))?;
    if !stmt.readonly() {
        bail!("the query would modify the database; a report query must only read (SELECT or WITH … SELECT)");
    }
    if stmt.column_count() == 0 {
        bail!("the query returns no columns; a report query must be a SELECT");
    }
    for i in 1..=stmt.parameter_count() {
        let Some(name) = stmt.parameter_name(i).map(str::to_string) else {
            bail!(
                "the query uses a positional parameter (?); use the named window parameters: {}",
                allowed_params()
            );
        };
        let bare = name.trim_start_matches([':', '@', '$']);
        match params.get(bare) {
            Some(ParamValue::Text(t)) => stmt.raw_bind_parameter(i, t)?,
            Some(ParamValue::Int(v)) => stmt.raw_bind_parameter(i, v)?,
            None => bail!(
                "the query uses the unknown parameter {name}; allowed: {}",
                allowed_params()
            ),
        }
    }
    stream(&mut stmt, sql, sink)
}

/// The type of a result column by its declared type (`None` for an expression):
/// the names of dates, times and booleans, then SQLite's affinity rules (INT →
/// integer; CHAR, CLOB, TEXT → text; BLOB → blob; REAL, FLOA, DOUB → real; anything
/// else → numeric). A column declared without a type says nothing.
pub fn declared(decl: Option<&str>) -> ColumnType {
    let Some(decl) = decl else {
        return ColumnType::Unknown;
    };
    let upper = decl.trim().to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or("").trim();
    let has = |s: &str| upper.contains(s);
    match base {
        "" => ColumnType::Unknown,
        "DATE" => ColumnType::Date,
        "DATETIME" | "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => ColumnType::Timestamp,
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => ColumnType::TimestampTz,
        "BOOL" | "BOOLEAN" => ColumnType::Bool,
        _ if has("INT") => ColumnType::Int,
        _ if has("CHAR") || has("CLOB") || has("TEXT") => ColumnType::Text,
        _ if has("BLOB") => ColumnType::Blob,
        _ if has("REAL") || has("FLOA") || has("DOUB") => ColumnType::Real,
        _ => ColumnType::Numeric,
    }
}

/// Streams the rows of a prepared, bound statement into `sink`.
fn stream(stmt: &mut rusqlite::Statement<'_>, sql: &str, sink: &mut dyn RowSink) -> Result<()> {
    let names: Vec<String> = stmt.column_names().map(String::from).collect();
    let types: Vec<ColumnType> = stmt.columns().map(|c| declared(c.decl_type())).collect();
    let columns: Vec<Column<'_>> = names
        .iter()
        .zip(&types)
        .map(|(name, &ty)| Column { name, ty })
        .collect();
    sink.columns(&columns)?;
    let n = names.len();
    let mut rows = stmt.raw_query();
    let mut row_no: u64 = 0;
    while let Some(row) = rows
        .next()
        .map_err(|e| anyhow::anyhow!("{}", describe(&e, sql)))?
    {
        row_no += 1;
        for (i, name) in names.iter().enumerate().take(n) {
            let cell = match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(v) => Cell::Real(v),
                ValueRef::Text(t) => Cell::Text(std::str::from_utf8(t).map_err(|_| {
                    anyhow::anyhow!(
                        "row {row_no}, column \"{name}\": the text is not valid UTF-8; CAST it AS BLOB and set csv.blob = \"hex\" or \"base64\""
                    )
                })?),
                ValueRef::Blob(b) => Cell::Blob(b),
            };
            sink.cell(cell)
                .with_context(|| format!("row {row_no}, column \"{name}\""))?;
        }
        sink.end_row()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what a source pushes, as strings.
    #[derive(Default)]
    struct Collect {
        columns: Vec<String>,
        types: Vec<ColumnType>,
        rows: Vec<Vec<String>>,
        current: Vec<String>,
    }

    impl RowSink for Collect {
        fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
            self.columns = columns.iter().map(|c| c.name.to_string()).collect();
            self.types = columns.iter().map(|c| c.ty).collect();
            Ok(())
        }
        fn cell(&mut self, value: Cell<'_>) -> Result<()> {
            self.current.push(format!("{value:?}"));
            Ok(())
        }
        fn end_row(&mut self) -> Result<()> {
            self.rows.push(std::mem::take(&mut self.current));
            Ok(())
        }
    }

    fn params() -> WindowParams {
        let tz = chrono_tz::Tz::UTC;
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        WindowParams::new(&crate::schedule::Window::from_dates(tz, d, d), tz)
    }

    fn run(sql: &str) -> Result<Collect> {
        let conn = Connection::open_in_memory().unwrap();
        let mut c = Collect::default();
        query_conn(&conn, sql, &params(), &mut c)?;
        Ok(c)
    }

    #[test]
    fn binds_named_parameters_of_any_prefix() {
        let c = run("SELECT :from AS a, @to AS b, $from_epoch AS c, :to_date AS d").unwrap();
        assert_eq!(c.columns, ["a", "b", "c", "d"]);
        assert_eq!(
            c.rows,
            [[
                "Text(\"2026-11-01T00:00:00Z\")",
                "Text(\"2026-11-02T00:00:00Z\")",
                "Int(1793491200)",
                "Text(\"2026-11-01\")"
            ]]
        );
    }

    #[test]
    fn types_are_passed_faithfully() {
        let c = run("SELECT NULL, 9007199254740993, 0.1, 'é', x'00ff'").unwrap();
        assert_eq!(
            c.rows,
            [[
                "Null",
                "Int(9007199254740993)",
                "Real(0.1)",
                "Text(\"é\")",
                "Blob([0, 255])"
            ]]
        );
    }

    #[test]
    fn declared_types_by_affinity() {
        use ColumnType::*;
        for (decl, ty) in [
            (Some("INTEGER"), Int),
            (Some("bigint"), Int),
            (Some("VARCHAR(20)"), Text),
            (Some("text"), Text),
            (Some("BLOB"), Blob),
            (Some("double precision"), Real),
            (Some("FLOAT"), Real),
            (Some("NUMERIC(10,2)"), Numeric),
            (Some("decimal"), Numeric),
            (Some("DATE"), Date),
            (Some("datetime"), Timestamp),
            (Some("TIMESTAMP"), Timestamp),
            (Some("timestamptz"), TimestampTz),
            (Some("BOOLEAN"), Bool),
            (Some(""), Unknown),
            (None, Unknown),
        ] {
            assert_eq!(declared(decl), ty, "{decl:?}");
        }
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(i INTEGER, d DATE, x)")
            .unwrap();
        let mut c = Collect::default();
        query_conn(
            &conn,
            "SELECT i, d, x, count(*) AS n FROM t",
            &params(),
            &mut c,
        )
        .unwrap();
        assert_eq!(c.types, [Int, Date, Unknown, Unknown]);
    }

    #[test]
    fn bad_queries_are_explained() {
        let err = |sql: &str| run(sql).err().unwrap().to_string();
        assert_eq!(
            err("SELECT 1\nFROM t WHERE)"),
            "SQLite: near \")\": syntax error (at line 2, column 13 of the query)"
        );
        assert_eq!(err("SELECT 1 FROM"), "SQLite: incomplete input");
        assert_eq!(
            err("SELECT x FROM missing"),
            "SQLite: no such table: missing"
        );
        let e = err("-- only a comment");
        assert!(e.contains("returns no columns"), "{e}");
        assert_eq!(
            err("SELEC 1"),
            "SQLite: near \"SELEC\": syntax error (at line 1, column 1 of the query)"
        );
        assert!(err("SELECT :since").contains("unknown parameter :since; allowed: :from, :to"));
        assert!(err("SELECT ?").contains("positional parameter"));
        assert!(err("CREATE TABLE t(x)").contains("would modify the database"));
        assert!(err("SELECT 1; SELECT 2").contains("more than one statement"));
        assert!(err("SELECT CAST(x'ff' AS TEXT)").contains("not valid UTF-8"));
    }
}
