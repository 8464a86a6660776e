//! Sources: where a report's rows come from. A source runs one output's query for a
//! window and pushes the rows, cell by cell, into a `RowSink` (the renderer), so that
//! nothing is collected in memory whatever the row count.
//!
//! The window reaches the query only as bound parameters (see `WindowParams`), never
//! spliced into the SQL text.

pub mod command;
pub mod postgres;
pub mod sqlite;

use anyhow::{Context, Result};
use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;

use crate::config::{Config, Output, Report, SourceKind};
use crate::schedule::Window;
use crate::structured::{self, Dialect, Guard};

/// One value of a row, borrowed from the source for the duration of the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    /// Text that is a value of a number type in the source (exact decimals): written
    /// as is and never guarded as a formula.
    Number(&'a str),
    Bool(bool),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// Where rows go. `columns` is called once, then `cell` for each value of a row in
/// column order and `end_row` after the last one.
pub trait RowSink {
    fn columns(&mut self, names: &[&str]) -> Result<()>;
    fn cell(&mut self, value: Cell<'_>) -> Result<()>;
    fn end_row(&mut self) -> Result<()>;
}

/// The named parameters a query may use, in the order of `WindowParams::values`.
pub const PARAM_NAMES: [&str; 8] = [
    "from",
    "to",
    "from_local",
    "to_local",
    "from_date",
    "to_date",
    "from_epoch",
    "to_epoch",
];

/// The window as query parameters: `from` inclusive, `to` exclusive, except `to_date`
/// which is the last day included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowParams {
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub from: String,
    pub to: String,
    /// `YYYY-MM-DD HH:MM:SS` in the report's zone.
    pub from_local: String,
    pub to_local: String,
    /// `YYYY-MM-DD` in the report's zone; `to_date` is the last day included.
    pub from_date: String,
    pub to_date: String,
    pub from_epoch: i64,
    pub to_epoch: i64,
}

/// A parameter's value: text or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamValue<'a> {
    Text(&'a str),
    Int(i64),
}

impl WindowParams {
    pub fn new(window: &Window, tz: Tz) -> Self {
        let utc = |t: &chrono::DateTime<Tz>| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        };
        let local =
            |t: &chrono::DateTime<Tz>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
        let from_day = window.from.with_timezone(&tz).date_naive();
        let last_day = Window {
            from: window.from.with_timezone(&tz),
            to: window.to.with_timezone(&tz),
        }
        .last_day();
        WindowParams {
            from: utc(&window.from),
            to: utc(&window.to),
            from_local: local(&window.from),
            to_local: local(&window.to),
            from_date: from_day.to_string(),
            to_date: last_day.to_string(),
            from_epoch: window.from.timestamp(),
            to_epoch: window.to.timestamp(),
        }
    }

    /// The value of the parameter called `name` (without its `:`), if it is one.
    pub fn get(&self, name: &str) -> Option<ParamValue<'_>> {
        Some(match name {
            "from" => ParamValue::Text(&self.from),
            "to" => ParamValue::Text(&self.to),
            "from_local" => ParamValue::Text(&self.from_local),
            "to_local" => ParamValue::Text(&self.to_local),
            "from_date" => ParamValue::Text(&self.from_date),
            "to_date" => ParamValue::Text(&self.to_date),
            "from_epoch" => ParamValue::Int(self.from_epoch),
            "to_epoch" => ParamValue::Int(self.to_epoch),
            _ => return None,
        })
    }

    /// `(name, value as text)` for each parameter, e.g. for environment variables.
    pub fn as_text(&self) -> Vec<(&'static str, String)> {
        PARAM_NAMES
            .iter()
            .map(|n| {
                let v = match self.get(n).expect("known name") {
                    ParamValue::Text(t) => t.to_string(),
                    ParamValue::Int(i) => i.to_string(),
                };
                (*n, v)
            })
            .collect()
    }
}

pub fn allowed_params() -> String {
    PARAM_NAMES
        .iter()
        .map(|n| format!(":{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `output`'s query of `report` for `window`, pushing rows into `sink`.
pub fn query(
    config: &Config,
    report: &Report,
    output: &Output,
    window: &Window,
    sink: &mut dyn RowSink,
) -> Result<()> {
    let source = &config.sources[&report.source];
    let params = WindowParams::new(window, report.timezone);
    if let Some(spec) = &output.structured {
        let dialect = match &source.kind {
            SourceKind::Postgres(_) => Dialect::Postgres,
            _ => Dialect::Sqlite,
        };
        let compiled = structured::compile(spec, &params, report.timezone, dialect);
        let mut guarded = Guarded {
            inner: sink,
            guard: compiled.guard,
            rows: 0,
        };
        return match &source.kind {
            SourceKind::Sqlite(s) => sqlite::query_compiled(s, &compiled, &mut guarded),
            SourceKind::Postgres(p) => {
                self::postgres::query_compiled(p, report.timezone, &compiled, &mut guarded)
            }
            SourceKind::Command(_) => unreachable!("checked: commands have no structured outputs"),
        };
    }
    match &source.kind {
        SourceKind::Sqlite(s) => sqlite::query(s, &output.query, &params, sink),
        SourceKind::Postgres(s) => {
            self::postgres::query(s, report.timezone, &output.query, &params, sink)
        }
        SourceKind::Command(c) => {
            let dir = match config.path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            command::query(c, dir, report, output, &params, sink)
        }
    }
    .with_context(|| format!("source \"{}\"", source.name))
}

/// The columns of `table` in the source's database, or `None` when it has no such
/// table (for `validate`).
pub fn table_columns(source: &SourceKind, table: &[String]) -> Result<Option<Vec<String>>> {
    match source {
        SourceKind::Sqlite(s) => sqlite::table_columns(s, table),
        SourceKind::Postgres(p) => self::postgres::table_columns(p, table),
        SourceKind::Command(_) => Ok(Some(Vec::new())),
    }
}

/// Enforces a structured output's row or cardinality limit while rows stream.
struct Guarded<'a> {
    inner: &'a mut dyn RowSink,
    guard: Option<Guard>,
    rows: u64,
}

impl RowSink for Guarded<'_> {
    fn columns(&mut self, names: &[&str]) -> Result<()> {
        self.inner.columns(names)
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        self.inner.cell(value)
    }

    fn end_row(&mut self) -> Result<()> {
        self.rows += 1;
        if let Some(g) = self.guard {
            if self.rows > g.limit {
                anyhow::bail!("{}", g.message());
            }
        }
        self.inner.end_row()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Window;
    use chrono::NaiveDate;

    #[test]
    fn params_of_a_window_across_dst() {
        let tz = chrono_tz::America::New_York;
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = Window::from_dates(tz, d("2026-11-01"), d("2026-11-01"));
        let p = WindowParams::new(&w, tz);
        assert_eq!(p.from, "2026-11-01T04:00:00Z");
        assert_eq!(p.to, "2026-11-02T05:00:00Z");
        assert_eq!(p.from_local, "2026-11-01 00:00:00");
        assert_eq!(p.to_local, "2026-11-02 00:00:00");
        assert_eq!(p.from_date, "2026-11-01");
        assert_eq!(p.to_date, "2026-11-01");
        assert_eq!(p.to_epoch - p.from_epoch, 25 * 3600);
        assert_eq!(p.get("to_epoch"), Some(ParamValue::Int(p.to_epoch)));
        assert_eq!(p.get("nope"), None);
    }
}
