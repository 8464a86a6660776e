//! Under `validate`: the databases a configuration names, asked through
//! `config::Databases`, each answer recorded as a problem at the value it is about.

use std::ops::Range;
use std::path::Path;

use super::Checker;
use crate::config::{Source, SourceKind, Subject};

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

    /// The query of an output (the value of `key`) only reads, on `source`'s kind of
    /// database.
    pub(crate) fn query_reads_only(
        &mut self,
        source: Option<&Source>,
        query: &str,
        span: Range<usize>,
        s: &Subject,
        key: &str,
    ) {
        let (Some(source), Some(db)) = (source, self.databases.as_mut()) else {
            return;
        };
        if let Some(Some(p)) = db.query_problem(source, query) {
            self.err(span, s, key, format!("source \"{}\": {p}", source.name));
        }
    }

    /// The columns of `table` in source `name`'s database, or `None` when databases are
    /// not looked at.
    pub(crate) fn table_columns(
        &mut self,
        (name, source): (&str, &SourceKind),
        table: &[String],
    ) -> Option<Result<Option<Vec<String>>, String>> {
        let db = self.databases.as_mut()?;
        Some(db.table_columns(name, source, table))
    }
}
