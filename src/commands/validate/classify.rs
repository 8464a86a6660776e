//! Whether a query is one statement that only reads, judged from its text with the SQL
//! parser the project already uses (sqlparser, in the source's dialect). The text is
//! the judge for PostgreSQL, whose server prepares a `DELETE` even in a read-only
//! transaction; for SQLite it is what `--offline` can say (SQLite itself decides when
//! the file is opened). A query sqlparser cannot read is not refused for that alone:
//! the database is the judge of its own SQL (said under `-v`).

use sqlparser::ast::{SetExpr, Statement};
use sqlparser::dialect::Dialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

pub const READ_ONLY: &str =
    "a report's query must only read: SELECT, WITH … SELECT, VALUES or TABLE";

pub const NO_STATEMENT: &str =
    "the query holds no SQL statement, only blanks or comments; write the SELECT";

/// The verdict on a query's text.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// One statement that only reads.
    Reads,
    /// The parser cannot read it, but it starts as a query does: the database judges.
    Unparsed(String),
    /// Refused, with why.
    Refused(String),
}

/// The verdict on `sql` (with `:name` parameters already rewritten where the dialect
/// needs it) in `dialect`; `original` is the query as written, for its first word.
pub fn classify(original: &str, sql: &str, dialect: &dyn Dialect) -> Verdict {
    let Some(first) = first_keyword(original, dialect) else {
        return Verdict::Refused(NO_STATEMENT.to_string());
    };
    if let Some(lock) = locking_clause(sql, dialect) {
        return Verdict::Refused(format!("`{lock}` locks rows; {READ_ONLY}"));
    }
    let statements = match Parser::parse_sql(dialect, sql) {
        Ok(s) => s,
        Err(e) if ["SELECT", "WITH", "VALUES", "TABLE", "SHOW"].contains(&first.as_str()) => {
            return Verdict::Unparsed(e.to_string())
        }
        Err(_) => return Verdict::Refused(not_read_only(&first)),
    };
    match statements.as_slice() {
        [] => Verdict::Refused(NO_STATEMENT.to_string()),
        [one] => match statement_problem(one) {
            None => Verdict::Reads,
            Some(p) => Verdict::Refused(format!("{p}; {READ_ONLY}")),
        },
        _ => Verdict::Refused(format!(
            "the query holds {} statements; give one; {READ_ONLY}",
            statements.len()
        )),
    }
}

fn not_read_only(first: &str) -> String {
    match first {
        "" => format!("the query is not a read-only statement; {READ_ONLY}"),
        word => format!("`{word}` is not a read-only statement; {READ_ONLY}"),
    }
}

/// The first keyword of `sql`, upper-cased, for messages (`DELETE`), or "" when it
/// starts otherwise; `None` when it holds nothing but blanks and comments.
pub fn first_keyword(sql: &str, dialect: &dyn Dialect) -> Option<String> {
    let Ok(tokens) = Tokenizer::new(dialect, sql).tokenize() else {
        return Some(String::new());
    };
    tokens.into_iter().find_map(|t| match t {
        Token::Word(w) => Some(w.value.to_uppercase()),
        Token::Whitespace(_) | Token::EOF => None,
        _ => Some(String::new()),
    })
}

/// A row-locking clause anywhere in the query, subqueries included (`FOR UPDATE`,
/// `FOR NO KEY UPDATE`, `FOR SHARE`, `FOR KEY SHARE`), found on the tokens so that
/// literals and comments are left alone.
fn locking_clause(sql: &str, dialect: &dyn Dialect) -> Option<String> {
    let tokens = Tokenizer::new(dialect, sql).tokenize().ok()?;
    let words: Vec<Option<String>> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_uppercase()),
            _ => None,
        })
        .collect();
    words
        .windows(2)
        .find_map(|w| match (w[0].as_deref(), w[1].as_deref()) {
            (Some("FOR"), Some(next @ ("UPDATE" | "SHARE" | "NO" | "KEY"))) => {
                Some(format!("FOR {next}"))
            }
            _ => None,
        })
}

fn statement_problem(stmt: &Statement) -> Option<String> {
    match stmt {
        Statement::Query(q) => query_problem(q),
        Statement::Explain {
            statement,
            analyze,
            options,
            ..
        } => {
            let analyze = *analyze
                || options.iter().flatten().any(|o| {
                    o.name.value.eq_ignore_ascii_case("analyze")
                        && !o.arg.as_ref().is_some_and(|a| {
                            ["false", "off", "0"].contains(&a.to_string().to_lowercase().as_str())
                        })
                });
            match statement_problem(statement) {
                Some(p) => Some(format!("EXPLAIN of a statement that does not only read: {p}")),
                None if analyze => Some("EXPLAIN ANALYZE runs the statement; use EXPLAIN without ANALYZE, or the query itself".to_string()),
                None => None,
            }
        }
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
    use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};

    fn pg(q: &str) -> Verdict {
        let t = crate::source::postgres::params::translate(q).unwrap();
        classify(q, &t.sql, &PostgreSqlDialect {})
    }

    fn lite(q: &str) -> Verdict {
        classify(q, q, &SQLiteDialect {})
    }

    /// Each statement with the start of why it is refused ("" when it only reads), in
    /// both dialects.
    const TABLE: &[(&str, &str)] = &[
        ("select * from t where at >= :from and at < :to", ""),
        ("with x as (select 1) select * from x", ""),
        ("values (1), (2)", ""),
        ("select 1 union all select 2", ""),
        ("-- a comment\nselect 1", ""),
        ("select 'for update' as x", ""),
        ("delete from t", "`DELETE` is not a read-only statement"),
        (
            "insert into t values (1)",
            "`INSERT` is not a read-only statement",
        ),
        (
            "update t set x = 1",
            "`UPDATE` is not a read-only statement",
        ),
        (
            "create table u(x int)",
            "`CREATE` is not a read-only statement",
        ),
        ("drop table t", "`DROP` is not a read-only statement"),
        (
            "with d as (delete from t returning *) select * from d",
            "the query holds a DELETE",
        ),
        (
            "with d as (insert into t values (1) returning *) select * from d",
            "the query holds an INSERT",
        ),
        ("select 1; delete from t", "the query holds 2 statements"),
        ("select 1; select 2", "the query holds 2 statements"),
        ("/* nothing */", "the query holds no SQL statement"),
    ];

    #[test]
    fn both_dialects_refuse_what_does_not_only_read() {
        for (q, want) in TABLE {
            for (dialect, got) in [("pg", pg(q)), ("sqlite", lite(q))] {
                match got {
                    Verdict::Reads => assert_eq!(*want, "", "{dialect}: {q}"),
                    Verdict::Refused(why) => {
                        assert!(
                            !want.is_empty() && why.starts_with(want),
                            "{dialect}: {q}: {why}"
                        )
                    }
                    Verdict::Unparsed(e) => panic!("{dialect}: {q}: unparsed: {e}"),
                }
            }
        }
    }

    #[test]
    fn postgres_only_statements() {
        for (q, want) in [
            ("table t", "unparsed"),
            ("show timezone", ""),
            ("explain select 1", ""),
            ("select * into t2 from t", "`SELECT … INTO` creates a table"),
            ("select * from t for update", "`FOR UPDATE` locks rows"),
            (
                "select * from (select * from t for share) s",
                "`FOR SHARE` locks rows",
            ),
            ("select * from t for no key update", "`FOR NO` locks rows"),
            (
                "explain delete from t",
                "EXPLAIN of a statement that does not only read",
            ),
            (
                "explain analyze select 1",
                "EXPLAIN ANALYZE runs the statement",
            ),
            (
                "explain (analyze) select 1",
                "EXPLAIN ANALYZE runs the statement",
            ),
            (
                "prepare p as delete from t",
                "`PREPARE` is not a read-only statement",
            ),
            ("copy t to stdout", "`COPY` is not a read-only statement"),
            ("call p()", "`CALL` is not a read-only statement"),
            ("vacuum", "`VACUUM` is not a read-only statement"),
            (
                "do $$ begin delete from t; end $$",
                "`DO` is not a read-only statement",
            ),
        ] {
            match pg(q) {
                Verdict::Reads => assert_eq!(want, "", "{q}"),
                Verdict::Refused(why) => {
                    assert!(!want.is_empty() && why.starts_with(want), "{q}: {why}")
                }
                Verdict::Unparsed(e) => assert_eq!(want, "unparsed", "{q}: {e}"),
            }
        }
    }

    #[test]
    fn what_the_parser_cannot_read_is_left_to_the_database() {
        // A query form sqlparser does not know, starting as a query does.
        let q = "select * from t tablesample bernoulli(10) repeatable (1) ???";
        assert!(matches!(pg(q), Verdict::Unparsed(_)), "{:?}", pg(q));
        assert!(matches!(pg("frobnicate t"), Verdict::Refused(_)));
    }
}
