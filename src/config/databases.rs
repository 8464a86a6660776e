//! The seam between checking a configuration and looking at the databases it names.
//! `validate` also asks whether each SQLite file (a source's or the ledger's) is a
//! database, whether each report's query only reads, and whether each events mapping's
//! table and columns exist. Opening databases is not the configuration's business: the
//! checker asks these questions through this trait, and `validate` answers them (see
//! `commands/validate/databases.rs`), once per file, query and table.

use std::path::Path;

use super::model::{Source, SourceKind};

pub trait Databases: Send {
    /// The problem with `path` as a SQLite database file, if any. A `ledger` may be
    /// missing but not empty; a missing source file is not reported here.
    fn sqlite_file(&mut self, path: &Path, ledger: bool) -> Option<String>;

    /// The problem with `query` on `source`: `Some(None)` when it only reads,
    /// `Some(Some(problem))` when it does not or cannot be asked, `None` when nothing is
    /// to be said here (the source's file is no database, reported on its `path`).
    fn query_problem(&mut self, source: &Source, query: &str) -> Option<Option<String>>;

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

    /// A fresh inspector for a second checking thread (its own connections and caches).
    fn fork(&self) -> Box<dyn Databases>;
}
