//! Sources: where a report's rows come from. A source runs one output's query for a
//! window and pushes the rows, cell by cell, into a `RowSink` (the renderer), so that
//! nothing is collected in memory whatever the row count.
//!
//! The window reaches the query only as bound parameters (see `WindowParams`), never
//! spliced into the SQL text.

pub mod command;
pub mod postgres;
pub mod sqlite;
pub mod typed;

use crate::config::recipients::{Recipient, RecipientValue};
use crate::config::{Config, Output, Report, SourceKind};
use crate::schedule::params::OwnedParam;
use crate::schedule::Window;
use crate::structured::{self, Dialect, Guard};
use anyhow::{Context, Result};

/// The window as query parameters: defined next to the window, shared with `structured`.
pub use crate::schedule::params::{allowed_params, ParamValue, WindowParams, PARAM_NAMES};

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

/// A double in the shortest form that reads back to the same value: how every source
/// writes a `Cell::Real` as text (the CSV renderer, PostgreSQL `real` cells).
pub fn format_real(v: f64, buf: &mut String) {
    buf.clear();
    if !v.is_finite() {
        buf.push_str(if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
        return;
    }
    let mut r = ryu::Buffer::new();
    let s = r.format_finite(v);
    buf.push_str(s);
    // ryu writes "1e16" for whole numbers from 1e16 up and "3.0" below; keep reals
    // visibly real either way.
    if !buf.contains(['.', 'e', 'E']) {
        buf.push_str(".0");
    }
}

/// What the source says a column holds; how typed formats (xlsx, jsonl, parquet) write
/// it. Cells keep their own variants whatever the column type: a Date column's values
/// arrive as `Cell::Text("YYYY-MM-DD")`, Timestamp as `Cell::Text` of
/// `YYYY-MM-DDTHH:MM:SS[.fraction]` (SQLite text may have a space for the `T`),
/// TimestampTz as RFC 3339 in UTC ending in `Z`, Numeric as `Cell::Number`; a typed
/// writer parses them with `typed` and writes a value that does not parse as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// The source does not say (SQLite expressions such as `count(*)`, command
    /// sources without declared types): typed writers go by each cell's own variant.
    Unknown,
    Bool,
    Int,
    Real,
    Numeric,
    Text,
    Date,
    Timestamp,
    TimestampTz,
    Blob,
}

/// One column of a query's result: its name and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    pub name: &'a str,
    pub ty: ColumnType,
}

/// Where rows go. `columns` is called once, then `cell` for each value of a row in
/// column order and `end_row` after the last one.
pub trait RowSink {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()>;
    fn cell(&mut self, value: Cell<'_>) -> Result<()>;
    fn end_row(&mut self) -> Result<()>;
}

/// One output's query for one window, ready to stream: what the source stage hands to
/// the render stage. Opening prepares the query (its parameters, a structured output's
/// SQL); the connection is made when the rows are streamed.
pub struct Rows<'a> {
    config: &'a Config,
    report: &'a Report,
    output: &'a Output,
    params: WindowParams,
    compiled: Option<structured::Compiled>,
}

/// Opens `output`'s query of `report` for `window` (and `recipient`: its columns are
/// bound as named parameters too).
pub fn open<'a>(
    config: &'a Config,
    report: &'a Report,
    output: &'a Output,
    (window, recipient): (&Window, Option<&Recipient>),
) -> Rows<'a> {
    let params = WindowParams::new(window, report.timezone)
        .with_extra(recipient.map(recipient_params).unwrap_or_default());
    let compiled = output.structured.as_ref().map(|spec| {
        let dialect = match &config.sources[&report.source].kind {
            SourceKind::Postgres(_) => Dialect::Postgres,
            _ => Dialect::Sqlite,
        };
        structured::compile(spec, &params, report.timezone, dialect)
    });
    Rows {
        config,
        report,
        output,
        params,
        compiled,
    }
}

/// A recipient's columns as named parameters.
pub fn recipient_params(r: &Recipient) -> Vec<(String, OwnedParam)> {
    r.values
        .iter()
        .map(|(n, v)| {
            let v = match v {
                RecipientValue::Int(i) => OwnedParam::Int(*i),
                RecipientValue::Text(t) => OwnedParam::Text(t.clone()),
            };
            (n.clone(), v)
        })
        .collect()
}

impl Rows<'_> {
    /// Runs the query, pushing rows into `sink`.
    pub fn stream(self, sink: &mut dyn RowSink) -> Result<()> {
        let Rows {
            config,
            report,
            output,
            params,
            compiled,
        } = self;
        let source = &config.sources[&report.source];
        let mut retyped;
        let sink: &mut dyn RowSink = if output.types.is_empty() {
            sink
        } else {
            retyped = Retyped {
                inner: sink,
                types: &output.types,
            };
            &mut retyped
        };
        if let Some(compiled) = compiled {
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
                SourceKind::Command(_) => {
                    unreachable!("checked: commands have no structured outputs")
                }
            };
        }
        match &source.kind {
            SourceKind::Command(c) => {
                let dir = match config.path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => std::path::Path::new("."),
                };
                command::query(c, dir, report, output, &params, sink)
            }
            kind => sql_query(kind, report.timezone, &output.query, &params, sink),
        }
        .with_context(|| format!("source \"{}\"", source.name))
    }
}

/// Runs `sql` on a SQLite or PostgreSQL source, `params` bound, pushing rows into
/// `sink`; a command source has no SQL to run.
pub fn sql_query(
    source: &SourceKind,
    timezone: chrono_tz::Tz,
    sql: &str,
    params: &WindowParams,
    sink: &mut dyn RowSink,
) -> Result<()> {
    match source {
        SourceKind::Sqlite(s) => sqlite::query(s, sql, params, sink),
        SourceKind::Postgres(p) => self::postgres::query(p, timezone, sql, params, sink),
        SourceKind::Command(_) => {
            anyhow::bail!(
                "a command source runs its command, not SQL; use a SQLite or PostgreSQL source"
            )
        }
    }
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

/// Gives columns the types an output declares (`types`), over the source's.
struct Retyped<'a> {
    inner: &'a mut dyn RowSink,
    types: &'a [(String, String)],
}

impl RowSink for Retyped<'_> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        if let Some((name, _)) = self
            .types
            .iter()
            .find(|(n, _)| !columns.iter().any(|c| c.name == n))
        {
            let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
            anyhow::bail!(
                "`types` names column \"{name}\", which the query does not return; its columns: {}",
                names.join(", ")
            );
        }
        let retyped: Vec<Column<'_>> = columns
            .iter()
            .map(|c| Column {
                name: c.name,
                ty: self
                    .types
                    .iter()
                    .find(|(n, _)| n == c.name)
                    .and_then(|(_, t)| typed::by_name(t))
                    .unwrap_or(c.ty),
            })
            .collect();
        self.inner.columns(&retyped)
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        self.inner.cell(value)
    }

    fn end_row(&mut self) -> Result<()> {
        self.inner.end_row()
    }
}

/// Enforces a structured output's row or cardinality limit while rows stream.
struct Guarded<'a> {
    inner: &'a mut dyn RowSink,
    guard: Option<Guard>,
    rows: u64,
}

impl RowSink for Guarded<'_> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        self.inner.columns(columns)
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
