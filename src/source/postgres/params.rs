//! The window's named parameters in PostgreSQL SQL. Queries are written with the same
//! `:from`-style names as for SQLite; PostgreSQL only knows `$1`, `$2`, … so each
//! parameter token is replaced by its number. Tokens are found with sqlparser's
//! tokenizer (PostgreSQL dialect), so names inside string literals, quoted identifiers,
//! comments and dollar-quoted strings are left alone, as is the `::` cast operator.
//!
//! Errors PostgreSQL reports against the rewritten text are mapped back to the line and
//! column of the query as written.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::source::{allowed_params, PARAM_NAMES};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The query with `$n` in place of each `:name`.
    pub sql: String,
    /// The parameter of each `$n`, in order (`names[0]` is `$1`).
    pub names: Vec<String>,
    /// Each replacement: (start in the original, in chars; original length; new length).
    edits: Vec<(usize, usize, usize)>,
}

impl Translated {
    /// A statement reportctl wrote itself, already with `$n` parameters.
    pub fn verbatim(sql: String) -> Translated {
        Translated {
            sql,
            names: Vec::new(),
            edits: Vec::new(),
        }
    }

    /// The 1-based character position in the original query of PostgreSQL's 1-based
    /// `position` in `sql`, less `prefix` characters added in front of it.
    pub fn original_position(&self, position: usize, prefix: usize) -> usize {
        let mut p = position.saturating_sub(1 + prefix); // 0-based, in `sql`
        let mut shift: isize = 0; // original minus translated, before `p`
        for &(start, old, new) in &self.edits {
            let start_t = (start as isize - shift) as usize;
            if p < start_t {
                break;
            }
            if p < start_t + new {
                p = start_t; // inside a `$n`: point at the `:name`
                break;
            }
            shift += old as isize - new as isize;
        }
        (p as isize + shift) as usize + 1
    }
}

/// `line L, column C of the query` for a 1-based character position in `sql`.
pub fn line_col(sql: &str, position: usize) -> String {
    let before: String = sql.chars().take(position.saturating_sub(1)).collect();
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col} of the query")
}

/// Rewrites `:name` parameters as `$n` (one number per distinct name).
pub fn translate(sql: &str) -> Result<Translated, String> {
    translate_at(sql).map_err(|(message, _)| message)
}

/// `translate`, with the 1-based character position in `sql` of what it refused.
pub fn translate_at(sql: &str) -> Result<Translated, (String, Option<usize>)> {
    translate_with(sql, &[])
}

/// `translate_at`, where the names `extra` (a recipient's columns) are parameters too.
pub fn translate_with(sql: &str, extra: &[String]) -> Result<Translated, (String, Option<usize>)> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| {
            let m = format!(
                "the query cannot be read: {} (at line {}, column {} of the query)",
                e.message, e.location.line, e.location.column
            );
            (m, None)
        })?;
    // Character offset of each line start, to turn (line, column) into an offset.
    let mut line_starts = vec![0usize];
    for (i, c) in sql.chars().enumerate() {
        if c == '\n' {
            line_starts.push(i + 1);
        }
    }
    let offset = |line: u64, column: u64| line_starts[line as usize - 1] + column as usize - 1;

    let mut names: Vec<String> = Vec::new();
    let mut edits = Vec::new();
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let at = || format!("line {}, column {}", t.span.start.line, t.span.start.column);
        let here = Some(offset(t.span.start.line, t.span.start.column) + 1);
        match &t.token {
            Token::Colon => {
                if let Some(Token::Word(w)) = tokens.get(i + 1).map(|n| &n.token) {
                    if w.quote_style.is_none() {
                        let known = PARAM_NAMES.iter().map(|n| n.to_string());
                        let known = known.chain(extra.iter().cloned());
                        let Some(name) = known.into_iter().find(|n| *n == w.value) else {
                            let names: Vec<String> =
                                PARAM_NAMES.iter().map(|n| format!(":{n}")).collect();
                            let names = names.iter().map(String::as_str);
                            let written = format!(":{}", w.value);
                            return Err((format!(
                                "the query uses the unknown parameter {written} (at {} of the query); {}allowed: {}",
                                at(),
                                crate::config::diag::did_you_mean(&written, names, ""),
                                allowed_params()
                            ), here));
                        };
                        let n = match names.iter().position(|x| *x == name) {
                            Some(p) => p + 1,
                            None => {
                                names.push(name);
                                names.len()
                            }
                        };
                        let start = offset(t.span.start.line, t.span.start.column);
                        let old = 1 + w.value.chars().count();
                        let new = format!("${n}");
                        edits.push((start, old, new.len()));
                        replacements.push((start, old, new));
                        i += 2;
                        continue;
                    }
                }
            }
            Token::Placeholder(p) => {
                return Err((format!(
                    "the query uses the positional parameter {p} (at {} of the query); use the named window parameters: {}",
                    at(),
                    allowed_params()
                ), here));
            }
            _ => {}
        }
        i += 1;
    }
    Ok(Translated {
        sql: replaced(sql, &replacements),
        names,
        edits,
    })
}

/// `sql` with each `(start, old, new)` applied: the `old` characters from character
/// offset `start` replaced by `new` (in order of `start`, not overlapping).
fn replaced(sql: &str, replacements: &[(usize, usize, String)]) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = replacements.iter().peekable();
    let mut skip = 0usize;
    for (i, c) in sql.chars().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if let Some((start, old, new)) = next.peek() {
            if *start == i {
                out.push_str(new);
                skip = old - 1;
                next.next();
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(sql: &str) -> (String, Vec<&str>) {
        let t = translate(sql).unwrap();
        let names = t.names.iter().map(|n| match n.as_str() {
            n if PARAM_NAMES.contains(&n) => *PARAM_NAMES.iter().find(|p| **p == n).unwrap(),
            _ => "?",
        });
        (t.sql, names.collect())
    }

    #[test]
    fn extra_names_are_parameters_too() {
        let t = translate_with(
            "SELECT :from, :partner_id, :partner_id",
            &["partner_id".into()],
        );
        let t = t.unwrap();
        assert_eq!(t.sql, "SELECT $1, $2, $2");
        assert_eq!(t.names, ["from", "partner_id"]);
        assert!(translate("SELECT :partner_id").is_err());
    }

    #[test]
    fn parameters_become_numbers_and_repeat() {
        assert_eq!(
            tr("SELECT * FROM e WHERE t >= :from AND t < :to OR t = :from"),
            (
                "SELECT * FROM e WHERE t >= $1 AND t < $2 OR t = $1".into(),
                vec!["from", "to"]
            )
        );
        assert_eq!(
            tr("SELECT :from_epoch::int8, :to_date::text"),
            (
                "SELECT $1::int8, $2::text".into(),
                vec!["from_epoch", "to_date"]
            )
        );
    }

    #[test]
    fn names_in_strings_comments_and_quotes_are_left_alone() {
        let cases = [
            "SELECT ':from', E'\\':to', $$ :from $$, $q$ :to $q$ FROM t",
            "SELECT \"a:from\" FROM t -- :from\n/* :to /* nested :to */ */",
            "SELECT x::text, y :: date, '{1,2}'::int[] FROM t",
            "SELECT U&':from', B'0101', X'FF'",
        ];
        for sql in cases {
            let (out, names) = tr(sql);
            assert_eq!(out, sql, "{sql}");
            assert!(names.is_empty(), "{sql}");
        }
    }

    #[test]
    fn unicode_before_a_parameter() {
        assert_eq!(
            tr("SELECT 'é', :to, 'ü' AS \"ß\"").0,
            "SELECT 'é', $1, 'ü' AS \"ß\""
        );
    }

    #[test]
    fn unknown_and_positional_parameters_are_refused() {
        let e = translate("SELECT 1\nWHERE x > :since").unwrap_err();
        assert!(
            e.starts_with("the query uses the unknown parameter :since (at line 2, column 11 of the query); allowed: :from, :to"),
            "{e}"
        );
        let e = translate("SELECT $1").unwrap_err();
        assert!(e.contains("positional parameter $1"), "{e}");
        let e = translate("SELECT 'unterminated").unwrap_err();
        assert!(e.starts_with("the query cannot be read"), "{e}");
    }

    #[test]
    fn positions_map_back_to_the_query_as_written() {
        let sql = "SELECT :from_local,\n  :to, bogus";
        let t = translate(sql).unwrap();
        assert_eq!(t.sql, "SELECT $1,\n  $2, bogus");
        // `bogus` is at char 19 of the translated text, 32 of the original.
        let p = t.sql.find("bogus").unwrap() + 1;
        let o = t.original_position(p, 0);
        assert_eq!(&sql[o - 1..o + 4], "bogus");
        assert_eq!(line_col(sql, o), "line 2, column 8 of the query");
        // Inside a `$n`: the `:name`.
        assert_eq!(t.original_position(t.sql.find("$2").unwrap() + 2, 0), 23);
        // With a prefix in front of the query.
        assert_eq!(t.original_position(p + 10, 10), o);
        // Before any parameter.
        assert_eq!(t.original_position(3, 0), 3);
    }
}
