//! Checking `[[sources]]`: one file per kind, and the events mapping a database source
//! may carry (checked against the database under `validate`).

mod command;
mod postgres;
mod sqlite;

use std::ops::Range;

use crate::config::diag::Subject;
use crate::config::model::*;
use crate::config::RawSource;

use super::Checker;

impl Checker<'_> {
    pub(crate) fn source(
        &mut self,
        raw: RawSource,
        s: &Subject,
        span: Range<usize>,
    ) -> Option<SourceKind> {
        let before = self.errors.len();
        let events_span = match &raw {
            RawSource::Sqlite(r) => r.events.as_ref().map(|e| e.span()),
            RawSource::Postgres(r) => r.events.as_ref().map(|e| e.span()),
            RawSource::Command(_) => None,
        };
        let kind = match raw {
            RawSource::Sqlite(r) => self.sqlite_source(&r, s, &span),
            RawSource::Postgres(r) => self.postgres_source(&r, s, &span),
            RawSource::Command(r) => self.command_source(&r, s, &span),
        };
        if let (true, Some(raw_span)) = (self.errors.len() == before, events_span) {
            self.source_events_in_database(&kind, raw_span, s);
        }
        (self.errors.len() == before).then_some(kind)
    }

    /// Under `validate`: a database source's events mapping names a table and columns
    /// its database has.
    fn source_events_in_database(
        &mut self,
        kind: &SourceKind,
        raw_span: Range<usize>,
        s: &Subject,
    ) {
        if let SourceKind::Sqlite(SqliteSource {
            events: Some(m), ..
        })
        | SourceKind::Postgres(PostgresSource {
            events: Some(m), ..
        }) = kind
        {
            let name = match s {
                Subject::Source(n) => n.as_str(),
                _ => "",
            };
            self.events_in_database((name, kind), m, raw_span, s, "events");
        }
    }
}
