//! Checking a `kind = "sqlite"` source: a database file opened read-only, or SQL
//! scripts that build an in-memory database.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawSqliteSource;
use crate::schedule::params::StoredTime;

impl Checker<'_> {
    pub(super) fn sqlite_source(
        &mut self,
        r: &RawSqliteSource,
        s: &Subject,
        span: &Range<usize>,
    ) -> SourceKind {
        let busy_timeout = std::time::Duration::from_millis(self.limit(
            &r.busy_timeout_ms,
            s,
            "busy_timeout_ms",
            limits::SQLITE_BUSY_TIMEOUT_MS,
        ) as u64);
        let init: Vec<_> = r.init.as_ref().map_or_else(Vec::new, |list| {
            list.get_ref()
                .iter()
                .map(|p| self.existing_path(p, s, "init"))
                .collect()
        });
        let path = r.path.as_ref().map(|p| self.existing_path(p, s, "path"));
        if let (Some(p), Some(raw)) = (&path, &r.path) {
            self.sqlite_file(p, raw.span(), s, "path", false);
        }
        match (&r.path, &r.init) {
            (Some(p), Some(_)) => self.err(p.span(), s, "path", "give either `path` (a database file, opened read-only) or `init` (SQL scripts that build an in-memory database), not both"),
            (None, None) => self.err(span.clone(), s, "path", "missing key `path` (a database file) or `init` (SQL scripts that build an in-memory database)"),
            (None, Some(i)) if i.get_ref().is_empty() => self.err(i.span(), s, "init", "the list is empty; name one or more SQL scripts"),
            _ => {}
        }
        let events = r
            .events
            .as_ref()
            .and_then(|e| self.events(e, s, "events", true));
        let time_format = self.word(
            &r.time_format,
            s,
            "time_format",
            &StoredTime::ALL,
            StoredTime::default(),
        );
        SourceKind::Sqlite(SqliteSource {
            path,
            init,
            busy_timeout,
            time_format,
            events,
        })
    }
}
