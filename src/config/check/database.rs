//! Under `validate`: the databases a configuration names, asked through
//! `config::Databases`, each answer recorded as a problem at the value it is about.

use std::ops::Range;
use std::path::Path;

use super::Checker;
use crate::config::{QueryCheck, Source, SourceKind, Subject};

impl Checker<'_> {
    /// `path` (the value of `key`) is a SQLite database file; a `ledger` may be missing.
    pub(crate) fn sqlite_file(
        &mut self,
        path: &Path,
        span: Range<usize>,
        s: &Subject,
        key: &str,
        ledger: bool,
    ) {
        let Some(db) = self.databases.as_mut() else {
            return;
        };
        if let Some(problem) = db.sqlite_file(path, ledger) {
            self.err(span, s, key, problem);
        }
    }

    /// The query of an output (the value of `key`, the query itself when `written`,
    /// else its file) only reads and prepares on `source`. A problem inside the query
    /// points at its place in the file when the query is written without escapes.
    pub(crate) fn query_reads_only(
        &mut self,
        (source, params): (Option<&Source>, &[String]),
        query: &str,
        (span, written): (Range<usize>, bool),
        s: &Subject,
        key: &str,
    ) {
        let (Some(source), Some(db)) = (source, self.databases.as_mut()) else {
            return;
        };
        match db.check_query(&s.to_string(), source, query, params) {
            QueryCheck::Fine => {}
            QueryCheck::Problem { message, at } => {
                let inside = at
                    .filter(|_| written)
                    .and_then(|at| offset_in_string(self.src.text, &span, query, at));
                let at = inside.map_or(span, |o| o..o);
                self.err(at, s, key, format!("source \"{}\": {message}", source.name));
            }
            QueryCheck::Unreachable(m) => {
                let subject = Subject::Source(source.name.clone());
                let msg = format!("the queries on this source cannot be checked: {m}");
                self.err(span, &subject, "", msg);
            }
        }
    }

    /// The columns of `table` in source `name`'s database, or `None` when databases are
    /// not looked at.
    pub(crate) fn table_columns(
        &mut self,
        (name, source): (&str, &SourceKind),
        table: &[String],
    ) -> Option<Result<Option<Vec<String>>, String>> {
        let db = self.databases.as_mut().filter(|db| !db.offline())?;
        Some(db.table_columns(name, source, table))
    }
}

/// The byte offset in the file `text` of the `at`-th character (1-based) of `query`,
/// the value of the TOML string at `span`, when the string holds the query verbatim
/// (no escapes).
fn offset_in_string(text: &str, span: &Range<usize>, query: &str, at: usize) -> Option<usize> {
    let raw = text.get(span.clone())?;
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| raw.starts_with(q))?;
    let mut start = quote.len();
    if quote.len() == 3 {
        // A newline right after a multi-line string's opening quotes is not part of it.
        start += [("\r\n", 2), ("\n", 1)]
            .into_iter()
            .find(|(nl, _)| raw[start..].starts_with(nl))
            .map_or(0, |(_, n)| n);
    }
    if !raw[start..].starts_with(query) {
        return None;
    }
    let byte = query
        .char_indices()
        .nth(at.checked_sub(1)?)
        .map_or(query.len(), |(i, _)| i);
    Some(span.start + start + byte)
}

#[cfg(test)]
mod tests {
    use super::offset_in_string;

    #[test]
    fn positions_inside_query_strings() {
        let text = "query = \"select y from t\"\nq2 = \"\"\"\nselect\n  z\"\"\"\nq3 = \"a\\tb\"\n";
        let span = 8..25;
        assert_eq!(
            offset_in_string(text, &span, "select y from t", 8),
            Some(16)
        );
        let s2 = text.find("\"\"\"").unwrap();
        let e2 = text.rfind("\"\"\"").unwrap() + 3;
        let got = offset_in_string(text, &(s2..e2), "select\n  z", 10).unwrap();
        assert_eq!(&text[got..got + 1], "z");
        let s3 = text.find("\"a").unwrap();
        assert_eq!(offset_in_string(text, &(s3..s3 + 6), "a\tb", 2), None);
    }
}
