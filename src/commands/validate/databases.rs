//! `validate`'s look at the databases a run will use: a SQLite source or ledger path
//! must be a SQLite database file, a report's query must be one statement that only
//! reads (judged from its text: `classify`) and must prepare on its source (unknown
//! tables, columns and parameters), and an events mapping's table and columns must
//! exist. SQLite prepares on a read-only connection; PostgreSQL prepares on the server
//! in a read-only transaction that is rolled back, never executing the query. Queries
//! of command sources go to programs reportctl does not know and are left alone (said
//! under `-v`). With `--offline` no source is opened: only the text is judged.
//!
//! The configuration checker asks through `config::Databases`; the answers are kept, so
//! that each SQLite file is opened once, each (source, query) checked once, each
//! (source, table) looked up once and each unreachable source reported once.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};

use super::classify::{classify, first_keyword, Verdict, NO_STATEMENT, READ_ONLY};
use crate::config::diag::did_you_mean;
use crate::config::{Databases, QueryCheck, Source, SourceKind, SqliteSource};
use crate::source::postgres::params::line_col;
use crate::source::postgres::PrepareError;
use crate::source::{allowed_params, PARAM_NAMES};

type TableColumns = Result<Option<Vec<String>>, String>;

/// The databases of one configuration, opened and asked on demand.
#[derive(Default)]
pub struct Inspector {
    /// The columns of tables, by source and table.
    table_columns: HashMap<(String, Vec<String>), TableColumns>,
    /// Verdicts, by (source, query): many reports share a query.
    read_checks: HashMap<(String, String), QueryCheck>,
    /// Sources found unreachable (reported with their first query only), shared with
    /// the inspectors of other checking threads (`fork`).
    unreachable: Arc<Mutex<HashSet<String>>>,
    /// `--offline`: no source is opened.
    offline: bool,
    /// Connections to SQLite files, by source, opened once (`None`: the file is not a
    /// database, which is reported on the source's `path`).
    sqlite_files: HashMap<String, Option<Result<Connection, String>>>,
}

impl Databases for Inspector {
    /// A `ledger` may be missing (reportctl creates it) but not empty: reportctl makes
    /// a new ledger only where no file is, and refuses to run on an empty one.
    fn sqlite_file(&mut self, path: &Path, ledger: bool) -> Option<String> {
        if self.offline && !ledger {
            return None;
        }
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

    fn check_query(
        &mut self,
        subject: &str,
        source: &Source,
        query: &str,
        params: &[String],
    ) -> QueryCheck {
        if let SourceKind::Command(_) = &source.kind {
            crate::ui::info(format!(
                "{subject}: query not checked: command sources run an outside program"
            ));
            return QueryCheck::Fine;
        }
        let memo = (
            source.name.clone(),
            format!("{query}\0{}", params.join(",")),
        );
        if let Some(p) = self.read_checks.get(&memo) {
            return p.clone();
        }
        let check = self.check_once(subject, source, query, params);
        // Said once: the source's other queries are judged from their text only.
        let remembered = match &check {
            QueryCheck::Unreachable(_) => QueryCheck::Fine,
            other => other.clone(),
        };
        self.read_checks.insert(memo, remembered);
        match check {
            // Another thread may have found it first.
            QueryCheck::Unreachable(_) if !self.unreachable_now(&source.name) => QueryCheck::Fine,
            other => other,
        }
    }

    fn offline(&self) -> bool {
        self.offline
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
        if self.offline {
            return Ok(Vec::new());
        }
        super::time_samples::time_samples(source, table, column)
    }

    fn query_columns(
        &mut self,
        source: &Source,
        query: &str,
    ) -> Option<Result<Vec<String>, String>> {
        if self.offline || self.unreachable.lock().unwrap().contains(&source.name) {
            return None;
        }
        match &source.kind {
            SourceKind::Sqlite(db) => {
                let columns = crate::source::sqlite::with_db(db, |conn| {
                    let stmt = conn.prepare(query)?;
                    Ok(stmt.column_names().map(String::from).collect())
                });
                Some(columns.map_err(|e| format!("{e:#}")))
            }
            SourceKind::Postgres(pg) => match crate::source::postgres::prepare_only(pg, query, &[])
            {
                Ok(columns) => Some(Ok(columns)),
                Err(PrepareError::Query { message, .. }) => Some(Err(message)),
                // Said where the source's queries are checked.
                Err(PrepareError::Unreachable(_)) => None,
            },
            SourceKind::Command(_) => None,
        }
    }

    fn fork(&self) -> Box<dyn Databases> {
        Box::new(Inspector {
            unreachable: self.unreachable.clone(),
            ..Inspector::new(self.offline)
        })
    }
}

/// A refusal without a position inside the query.
fn problem(message: String) -> QueryCheck {
    QueryCheck::Problem { message, at: None }
}

impl Inspector {
    pub fn new(offline: bool) -> Self {
        Inspector {
            offline,
            ..Inspector::default()
        }
    }

    /// Records `source` as unreachable; false when it already was.
    fn unreachable_now(&self, source: &str) -> bool {
        self.unreachable.lock().unwrap().insert(source.to_string())
    }

    /// The text first (what the query does), then the source (whether it prepares).
    fn check_once(
        &mut self,
        subject: &str,
        source: &Source,
        query: &str,
        params: &[String],
    ) -> QueryCheck {
        let verdict = match &source.kind {
            SourceKind::Command(_) => return QueryCheck::Fine,
            // SQLite's own verdict on a `PRAGMA` is clearer (see `sqlite_check`).
            SourceKind::Sqlite(_) if !self.offline && first_is_pragma(query) => Verdict::Reads,
            SourceKind::Sqlite(_) => classify(query, query, &SQLiteDialect {}),
            SourceKind::Postgres(_) => {
                match crate::source::postgres::params::translate_with(query, params) {
                    Ok(t) => classify(query, &t.sql, &PostgreSqlDialect {}),
                    Err((message, at)) => return QueryCheck::Problem { message, at },
                }
            }
        };
        match verdict {
            Verdict::Refused(why) => return problem(why),
            Verdict::Unparsed(e) => crate::ui::info(format!(
                "{subject}: the SQL parser cannot read the query ({e}); the database judges it"
            )),
            Verdict::Reads => {}
        }
        if self.offline || self.unreachable.lock().unwrap().contains(&source.name) {
            return QueryCheck::Fine;
        }
        match &source.kind {
            SourceKind::Sqlite(db) => self.sqlite_prepare(&source.name, db, (query, params)),
            SourceKind::Postgres(pg) => {
                match crate::source::postgres::prepare_only(pg, query, params) {
                    Ok(_) => QueryCheck::Fine,
                    Err(PrepareError::Query { message, at }) => QueryCheck::Problem { message, at },
                    Err(PrepareError::Unreachable(e)) => QueryCheck::Unreachable(format!("{e:#}")),
                }
            }
            SourceKind::Command(_) => QueryCheck::Fine,
        }
    }

    /// `query` prepared on SQLite source `name` (`Fine` when its file is no database,
    /// which is reported on its `path`). A file is opened once for all its queries.
    fn sqlite_prepare(
        &mut self,
        name: &str,
        db: &SqliteSource,
        (query, params): (&str, &[String]),
    ) -> QueryCheck {
        let unreachable =
            |e: String| QueryCheck::Unreachable(format!("the database cannot be opened: {e}"));
        let Some(path) = &db.path else {
            return crate::source::sqlite::with_db(db, |conn| {
                Ok(sqlite_check(conn, query, params))
            })
            .unwrap_or_else(|e| unreachable(format!("{e:#}")));
        };
        let conn = self
            .sqlite_files
            .entry(name.to_string())
            .or_insert_with(|| {
                is_database_file(path)
                    .then(|| crate::source::sqlite::open(db).map_err(|e| format!("{e:#}")))
            });
        match conn.as_ref() {
            None => QueryCheck::Fine,
            Some(Ok(conn)) => sqlite_check(conn, query, params),
            Some(Err(e)) => unreachable(e.clone()),
        }
    }
}

fn first_is_pragma(query: &str) -> bool {
    first_keyword(query, &SQLiteDialect {}).as_deref() == Some("PRAGMA")
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

/// SQLite's own answer: the statement prepares, returns rows, changes nothing and
/// uses only the window's parameters. (`ATTACH`, `DETACH` and `BEGIN` count as
/// read-only to SQLite but return no rows.)
fn sqlite_check(conn: &Connection, query: &str, params: &[String]) -> QueryCheck {
    let Some(first) = first_keyword(query, &SQLiteDialect {}) else {
        return problem(NO_STATEMENT.to_string());
    };
    let stmt = match conn.prepare(query) {
        Ok(stmt) => stmt,
        Err(rusqlite::Error::MultipleStatement) => {
            return problem(format!(
                "the query holds more than one statement; {READ_ONLY}"
            ))
        }
        Err(rusqlite::Error::SqlInputError { msg, offset, .. }) if offset >= 0 => {
            let at = query
                .get(..offset as usize)
                .map_or(1, |b| b.chars().count() + 1);
            let message = format!("SQLite: {msg} (at {})", line_col(query, at));
            return QueryCheck::Problem {
                message,
                at: Some(at),
            };
        }
        Err(rusqlite::Error::SqliteFailure(_, Some(msg))) => {
            return problem(format!("SQLite: {msg}"))
        }
        Err(e) => return problem(format!("the query cannot be prepared: {e}")),
    };
    // Some pragmas change the database while SQLite calls them read-only (`optimize`
    // runs ANALYZE): a report reads pragmas as tables, `SELECT * FROM pragma_…(…)`.
    if first == "PRAGMA" {
        return problem(format!("`PRAGMA` statements may change the database; {READ_ONLY} (read a pragma as a table: SELECT * FROM pragma_table_info('t'))"));
    }
    if !stmt.readonly() || stmt.column_count() == 0 {
        return problem(match first.as_str() {
            "" => format!("the query is not a read-only statement; {READ_ONLY}"),
            word => format!("`{word}` is not a read-only statement; {READ_ONLY}"),
        });
    }
    (1..=stmt.parameter_count())
        .find_map(|i| parameter_problem(query, stmt.parameter_name(i), params))
        .unwrap_or(QueryCheck::Fine)
}

/// A parameter of a SQLite query that reportctl does not bind: a positional `?`, or a
/// name that is not a window parameter or one of `params` (a recipient's columns), with
/// the nearest one.
fn parameter_problem(query: &str, name: Option<&str>, params: &[String]) -> Option<QueryCheck> {
    let Some(name) = name else {
        return Some(problem(format!(
            "the query uses a positional parameter (?); use the named window parameters: {}",
            allowed_params()
        )));
    };
    let bare = name.trim_start_matches([':', '@', '$']);
    if PARAM_NAMES.contains(&bare) || params.iter().any(|p| p == bare) {
        return None;
    }
    // Where it is written: the first use not followed by more of a name.
    let at = query
        .match_indices(name)
        .find(|(i, _)| {
            !query[i + name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, _)| query[..i].chars().count() + 1);
    let place = at.map_or_else(String::new, |a| format!(" (at {})", line_col(query, a)));
    let names: Vec<String> = PARAM_NAMES.iter().map(|n| format!(":{n}")).collect();
    let hint = did_you_mean(&format!(":{bare}"), names.iter().map(String::as_str), "");
    let message = format!(
        "the query uses the unknown parameter {name}{place}; {hint}allowed: {}",
        allowed_params()
    );
    Some(QueryCheck::Problem { message, at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_asks_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("create table t(x)").unwrap();
        let check = |q: &str| match sqlite_check(&conn, q, &[]) {
            QueryCheck::Fine => None,
            QueryCheck::Problem { message, .. } | QueryCheck::Unreachable(message) => Some(message),
        };
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
            ("select 1; delete from t", "the query holds more than one statement"),
            ("-- nothing\n", "the query holds no SQL statement"),
            ("select y from t", "SQLite: no such column: y (at line 1, column 8 of the query)"),
            ("select x from u", "SQLite: no such table: u"),
            ("select x from t where x > :fro", "the query uses the unknown parameter :fro (at line 1, column 27 of the query); did you mean :from? allowed:"),
            ("select x from t where x > ?", "the query uses a positional parameter"),
        ] {
            let got = check(bad).unwrap_or_default();
            assert!(got.starts_with(want), "{bad}: {got}");
        }
    }
}
