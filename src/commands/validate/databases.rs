//! `validate`'s look at the databases a run will use: a SQLite source or ledger path
//! must be a SQLite database file, a report's query must only read, and an events
//! mapping's table and columns must exist. SQLite says itself whether a prepared
//! statement only reads (`sqlite3_stmt_readonly`); PostgreSQL queries are classified
//! from their text, because the server accepts `PREPARE` and `EXPLAIN` of a `DELETE`
//! even inside a read-only transaction. Queries of command sources go to engines
//! reportctl does not know and are left alone.
//!
//! The configuration checker asks through `config::Databases`; the answers are kept, so
//! that each SQLite file is opened once, each (source, query) classified once and each
//! (source, table) looked up once, however many reports share them.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use sqlparser::ast::{SetExpr, Statement};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::config::{Databases, Source, SourceKind, SqliteSource};

const READ_ONLY: &str = "a report's query must only read: SELECT, WITH … SELECT, VALUES or TABLE";

type TableColumns = Result<Option<Vec<String>>, String>;

/// The databases of one configuration, opened and asked on demand.
#[derive(Default)]
pub struct Inspector {
    /// The columns of tables, by source and table.
    table_columns: HashMap<(String, Vec<String>), TableColumns>,
    /// Read-only verdicts, by (source, query): many reports share a query.
    read_checks: HashMap<(String, String), Option<String>>,
    /// Connections to SQLite files, by source, opened once (`None`: the file is not a
    /// database, which is reported on the source's `path`).
    sqlite_files: HashMap<String, Option<Result<Connection, String>>>,
}

impl Databases for Inspector {
    /// A `ledger` may be missing (reportctl creates it) but not empty: reportctl makes
    /// a new ledger only where no file is, and refuses to run on an empty one.
    fn sqlite_file(&mut self, path: &Path, ledger: bool) -> Option<String> {
        let problem = match std::fs::metadata(path) {
            // A missing source file is reported where its path is read.
            Err(_) => return None,
            Ok(m) if m.is_dir() => format!(
                "{} is a directory; give the path of a SQLite database file",
                path.display()
            ),
            Ok(m) if m.len() == 0 && ledger => format!(
                "{} is empty (0 bytes), so it is not a reportctl ledger; move it aside (reportctl creates a new ledger where no file is) or point state at another file",
                path.display()
            ),
            Ok(m) if m.len() == 0 => format!(
                "{} is empty (0 bytes), not a SQLite database; give the path of a database file",
                path.display()
            ),
            Ok(_) => match sqlite_schema_readable(path) {
                Ok(()) => return None,
                Err(e) => format!(
                    "{} is not a SQLite database ({e}); give the path of a database file",
                    path.display()
                ),
            },
        };
        Some(problem)
    }

    fn query_problem(&mut self, source: &Source, query: &str) -> Option<Option<String>> {
        let memo = (source.name.clone(), query.to_string());
        if let Some(p) = self.read_checks.get(&memo) {
            return Some(p.clone());
        }
        let p = match &source.kind {
            // `None`: the file is no database, reported on the source's `path`.
            SourceKind::Sqlite(db) => self.sqlite_read_only(&source.name, db, query)?,
            SourceKind::Postgres(_) => postgres_read_only(query),
            SourceKind::Command(_) => None,
        };
        self.read_checks.insert(memo, p.clone());
        Some(p)
    }

    fn table_columns(&mut self, name: &str, source: &SourceKind, table: &[String]) -> TableColumns {
        self.table_columns
            .entry((name.to_string(), table.to_vec()))
            .or_insert_with(|| {
                crate::source::table_columns(source, table).map_err(|e| format!("{e:#}"))
            })
            .clone()
    }

    fn time_samples(
        &mut self,
        _name: &str,
        source: &SourceKind,
        table: &[String],
        column: &str,
    ) -> Result<Vec<crate::schedule::params::TimeSample>, String> {
        super::time_samples::time_samples(source, table, column)
    }

    fn fork(&self) -> Box<dyn Databases> {
        Box::new(Inspector::default())
    }
}

impl Inspector {
    /// The problem of `query` on SQLite source `name`, or `None` when its file is no
    /// database (reported on its `path`). A file is opened once for all its queries.
    fn sqlite_read_only(
        &mut self,
        name: &str,
        db: &SqliteSource,
        query: &str,
    ) -> Option<Option<String>> {
        let first = first_keyword(query, &SQLiteDialect {});
        let cannot = |e: String| Some(format!("the source's database cannot be opened: {e}"));
        let Some(path) = &db.path else {
            return Some(
                crate::source::sqlite::with_db(db, |conn| {
                    Ok(sqlite_read_only(conn, query, &first))
                })
                .unwrap_or_else(|e| cannot(format!("{e:#}"))),
            );
        };
        let conn = self
            .sqlite_files
            .entry(name.to_string())
            .or_insert_with(|| {
                is_database_file(path)
                    .then(|| crate::source::sqlite::open(db).map_err(|e| format!("{e:#}")))
            });
        match conn.as_ref()? {
            Ok(conn) => Some(sqlite_read_only(conn, query, &first)),
            Err(e) => Some(cannot(e.clone())),
        }
    }
}

fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags)
}

/// Opening is lazy in SQLite: reading the schema is what finds out whether the file
/// is a database.
fn sqlite_schema_readable(path: &Path) -> rusqlite::Result<()> {
    let conn = open_read_only(path)?;
    conn.query_row("PRAGMA schema_version", [], |_| Ok(()))
}

fn is_database_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0)
        && sqlite_schema_readable(path).is_ok()
}

/// The first keyword of `sql`, upper-cased, for messages (`DELETE`), or "" when it
/// starts otherwise; `None` when it holds nothing but blanks and comments.
fn first_keyword(sql: &str, dialect: &dyn sqlparser::dialect::Dialect) -> Option<String> {
    let Ok(tokens) = Tokenizer::new(dialect, sql).tokenize() else {
        return Some(String::new());
    };
    tokens.into_iter().find_map(|t| match t {
        Token::Word(w) => Some(w.value.to_uppercase()),
        Token::Whitespace(_) | Token::EOF => None,
        _ => Some(String::new()),
    })
}

const NO_STATEMENT: &str =
    "the query holds no SQL statement, only blanks or comments; write the SELECT";

/// SQLite's own answer: the statement prepares, returns rows and changes nothing.
/// (`ATTACH`, `DETACH` and `BEGIN` count as read-only to SQLite but return no rows.)
fn sqlite_read_only(conn: &Connection, query: &str, first: &Option<String>) -> Option<String> {
    let Some(first) = first.as_deref() else {
        return Some(NO_STATEMENT.to_string());
    };
    let stmt = match conn.prepare(query) {
        Ok(stmt) => stmt,
        Err(rusqlite::Error::MultipleStatement) => {
            return Some(format!(
                "the query holds more than one statement; {READ_ONLY}"
            ))
        }
        Err(e) => return Some(format!("the query cannot be prepared: {e}")),
    };
    // Some pragmas change the database while SQLite calls them read-only (`optimize`
    // runs ANALYZE): a report reads pragmas as tables, `SELECT * FROM pragma_…(…)`.
    if first == "PRAGMA" {
        return Some(format!("`PRAGMA` statements may change the database; {READ_ONLY} (read a pragma as a table: SELECT * FROM pragma_table_info('t'))"));
    }
    if stmt.readonly() && stmt.column_count() > 0 {
        return None;
    }
    Some(match first {
        "" => format!("the query is not a read-only statement; {READ_ONLY}"),
        word => format!("`{word}` is not a read-only statement; {READ_ONLY}"),
    })
}

/// PostgreSQL: one statement, a query (with no data-modifying `WITH`, no `SELECT INTO`
/// and no `FOR UPDATE`/`FOR SHARE`), `SHOW …`, or `EXPLAIN` (without `ANALYZE`) of such
/// a query.
fn postgres_read_only(query: &str) -> Option<String> {
    let translated = crate::source::postgres::params::translate(query).ok()?;
    let dialect = PostgreSqlDialect {};
    let Some(first) = first_keyword(query, &dialect) else {
        return Some(NO_STATEMENT.to_string());
    };
    let statements = match Parser::parse_sql(&dialect, &translated.sql) {
        Ok(s) => s,
        // The server is the judge of its own SQL; sqlparser does not know all of it.
        Err(_) if ["SELECT", "WITH", "VALUES", "TABLE", "SHOW"].contains(&first.as_str()) => {
            return None
        }
        Err(_) => {
            return Some(match first.as_str() {
                "" => format!("the query is not a read-only statement; {READ_ONLY}"),
                word => format!("`{word}` is not a read-only statement; {READ_ONLY}"),
            })
        }
    };
    match statements.as_slice() {
        [] => Some("the query holds no statement".to_string()),
        [one] => statement_problem(one).map(|p| format!("{p}; {READ_ONLY}")),
        _ => Some(format!(
            "the query holds {} statements; give one; {READ_ONLY}",
            statements.len()
        )),
    }
}

fn statement_problem(stmt: &Statement) -> Option<String> {
    match stmt {
        Statement::Query(q) => query_problem(q),
        Statement::Explain { statement, analyze, .. } => match statement_problem(statement) {
            Some(p) => Some(format!("EXPLAIN of a statement that does not only read: {p}")),
            None if *analyze => Some("EXPLAIN ANALYZE runs the statement; use EXPLAIN without ANALYZE, or the query itself".to_string()),
            None => None,
        },
        other if other.to_string().starts_with("SHOW ") => None,
        other => {
            let text = other.to_string();
            let word = text.split_whitespace().next().unwrap_or("").to_uppercase();
            Some(format!("`{word}` is not a read-only statement"))
        }
    }
}

fn query_problem(q: &sqlparser::ast::Query) -> Option<String> {
    if let Some(with) = &q.with {
        if let Some(p) = with.cte_tables.iter().find_map(|c| query_problem(&c.query)) {
            return Some(p);
        }
    }
    if !q.locks.is_empty() {
        return Some("`FOR UPDATE`/`FOR SHARE` locks rows".to_string());
    }
    set_expr_problem(&q.body)
}

fn set_expr_problem(body: &SetExpr) -> Option<String> {
    match body {
        SetExpr::Select(s) if s.into.is_some() => {
            Some("`SELECT … INTO` creates a table".to_string())
        }
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => None,
        SetExpr::Query(q) => query_problem(q),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr_problem(left).or_else(|| set_expr_problem(right))
        }
        SetExpr::Insert(_) => Some("the query holds an INSERT".to_string()),
        SetExpr::Update(_) => Some("the query holds an UPDATE".to_string()),
        SetExpr::Delete(_) => Some("the query holds a DELETE".to_string()),
        SetExpr::Merge(_) => Some("the query holds a MERGE".to_string()),
        #[allow(unreachable_patterns)]
        _ => Some("the query is not a read-only statement".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_statements_are_classified_from_the_text() {
        for ok in [
            "select * from t where at >= :from and at < :to",
            "with x as (select 1) select * from x",
            "values (1), (2)",
            "table t",
            "select 1 union all select 2",
            "show timezone",
            "explain select 1",
            "-- a comment\nselect 1",
        ] {
            assert_eq!(postgres_read_only(ok), None, "{ok}");
        }
        for (bad, want) in [
            ("delete from t", "`DELETE` is not a read-only statement"),
            (
                "insert into t values (1)",
                "`INSERT` is not a read-only statement",
            ),
            (
                "with d as (delete from t returning *) select * from d",
                "the query holds a DELETE",
            ),
            ("select * into t2 from t", "`SELECT … INTO` creates a table"),
            (
                "select * from t for update",
                "`FOR UPDATE`/`FOR SHARE` locks rows",
            ),
            (
                "explain delete from t",
                "EXPLAIN of a statement that does not only read",
            ),
            (
                "explain analyze select 1",
                "EXPLAIN ANALYZE runs the statement",
            ),
            (
                "prepare p as delete from t",
                "`PREPARE` is not a read-only statement",
            ),
            ("vacuum", "`VACUUM` is not a read-only statement"),
            ("select 1; delete from t", "the query holds 2 statements"),
            ("/* nothing */", "the query holds no SQL statement"),
        ] {
            let got = postgres_read_only(bad).unwrap_or_default();
            assert!(got.starts_with(want), "{bad}: {got}");
        }
    }

    #[test]
    fn sqlite_asks_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("create table t(x)").unwrap();
        let check = |q: &str| sqlite_read_only(&conn, q, &first_keyword(q, &SQLiteDialect {}));
        for ok in [
            "select * from t where x > :from",
            "with a as (select 1) select * from a",
            "values (1)",
            "select * from pragma_table_info('t')",
        ] {
            assert_eq!(check(ok), None, "{ok}");
        }
        for (bad, want) in [
            ("delete from t", "`DELETE` is not"),
            ("insert into t values (1)", "`INSERT` is not"),
            ("delete from t returning *", "`DELETE` is not"),
            ("pragma optimize", "`PRAGMA` statements may change"),
            ("pragma table_info(t)", "`PRAGMA` statements may change"),
            ("vacuum", "`VACUUM` is not"),
            ("attach 'x.db' as x", "`ATTACH` is not"),
            ("begin", "`BEGIN` is not"),
            (
                "select 1; delete from t",
                "the query holds more than one statement",
            ),
            ("-- nothing\n", "the query holds no SQL statement"),
        ] {
            let got = check(bad).unwrap_or_default();
            assert!(got.starts_with(want), "{bad}: {got}");
        }
    }
}
