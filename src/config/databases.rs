//! The seam between checking a configuration and looking at the databases it names.
//! `validate` also asks whether each SQLite file (a source's or the ledger's) is a
//! database, whether each report's query only reads, and whether each events mapping's
//! table and columns exist. Opening databases is not the configuration's business: the
//! checker asks these questions through this trait, and `validate` answers them (see
//! `commands/validate/databases.rs`), once per file, query and table.

use std::path::Path;

use super::model::{Source, SourceKind};

/// What `validate` found about a report's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryCheck {
    /// Nothing to say: it only reads and prepares, or it was not checked (a command
    /// source, `--offline`, a source reported elsewhere).
    Fine,
    /// The query is refused; `at`: the 1-based character position in the query of the
    /// problem, when the database says.
    Problem { message: String, at: Option<usize> },
    /// The source cannot be reached to check queries: answered for the first of its
    /// queries only, so that it is said once per source.
    Unreachable(String),
}

pub trait Databases: Send {
    /// The problem with `path` as a SQLite database file, if any. A `ledger` may be
    /// missing but not empty; a missing source file is not reported here.
    fn sqlite_file(&mut self, path: &Path, ledger: bool) -> Option<String>;

    /// What is wrong with `query` on `source`, for the report `subject` (a report's
    /// name as messages show it: `report "Daily"`); `params` are named parameters it
    /// may use besides the window's (the report's recipient columns).
    fn check_query(
        &mut self,
        subject: &str,
        source: &Source,
        query: &str,
        params: &[String],
    ) -> QueryCheck;

    /// True when sources are not opened (`validate --offline`): only what can be seen
    /// without them is checked.
    fn offline(&self) -> bool;

    /// The columns of `table` in source `name`'s database; `Ok(None)` when it has no
    /// such table.
    fn table_columns(
        &mut self,
        name: &str,
        source: &SourceKind,
        table: &[String],
    ) -> Result<Option<Vec<String>>, String>;

    /// A few non-null values of `column` in `table` of source `name`'s database, for
    /// the check of its time format (SQLite sources; none where not looked at).
    fn time_samples(
        &mut self,
        _name: &str,
        _source: &SourceKind,
        _table: &[String],
        _column: &str,
    ) -> Result<Vec<crate::schedule::params::TimeSample>, String> {
        Ok(Vec::new())
    }

    /// The columns `query` returns on `source` (a recipients query), prepared without
    /// running it; `None` where not looked at.
    fn query_columns(
        &mut self,
        _source: &Source,
        _query: &str,
    ) -> Option<Result<Vec<String>, String>> {
        None
    }

    /// A fresh inspector for a second checking thread (its own connections and caches).
    fn fork(&self) -> Box<dyn Databases>;
}
