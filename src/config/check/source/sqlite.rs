//! Checking a `kind = "sqlite"` source: a database file opened read-only, or SQL
//! scripts that build an in-memory database.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawSqliteSource;
use crate::schedule::params::StoredTime;
use crate::structured::spec::{EventsMapping, TimeFormat};

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

impl Checker<'_> {
    /// Under `validate`: a few values of an events mapping's time column look like the
    /// form its window is compared in (RFC 3339 UTC text for `time_format = "text"`,
    /// Unix seconds for `"epoch"`); a warning otherwise, since such a report runs but
    /// returns the wrong rows.
    pub(crate) fn time_column_form(
        &mut self,
        (name, source): (&str, &SourceKind),
        mapping: &EventsMapping,
        span: Range<usize>,
        s: &Subject,
        key: &str,
    ) {
        let (want, word, advice) = match mapping.time_format {
            TimeFormat::Text => (StoredTime::Rfc3339, "text", "write the times as RFC 3339 UTC text (strftime('%Y-%m-%dT%H:%M:%SZ', …) in SQLite) or as Unix seconds with time_format = \"epoch\""),
            TimeFormat::Epoch => (StoredTime::Unix, "epoch", "write the times as Unix seconds, or as RFC 3339 UTC text with time_format = \"text\""),
            TimeFormat::Native => return,
        };
        let Some(db) = self.databases.as_mut() else {
            return;
        };
        // A table that cannot be read is reported where its columns are looked up.
        let Ok(samples) = db.time_samples(name, source, &mapping.table, &mapping.time) else {
            return;
        };
        let Some(odd) = samples.iter().find(|v| !want.fits(v)) else {
            return;
        };
        let looks = odd
            .looks_like()
            .map_or(String::new(), |f| format!(" ({})", f.described()));
        let note = match source {
            SourceKind::Sqlite(db) if db.time_format != want && db.time_format.fits(odd) => format!(" (the source's time_format = \"{}\" is the form of :from and :to in its queries; structured outputs follow the mapping's)", db.time_format.name()),
            _ => String::new(),
        };
        self.warn(
            span,
            s,
            &format!("{key}.time_format"),
            format!(
                "the time column \"{}\" of table {} holds values such as {}{looks}, but time_format = \"{word}\" compares it with {} such as \"{}\", so a window would get the wrong rows; {advice}{note}",
                mapping.time,
                mapping.table.join("."),
                odd.shown(),
                want.described(),
                want.example(),
            ),
        );
    }
}
