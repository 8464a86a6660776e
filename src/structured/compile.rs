//! Compiling a structured output to one SQL statement for SQLite or PostgreSQL.
//!
//! Nothing from the configuration reaches the SQL text unquoted: table and column names
//! are quoted identifiers (`"a""b"`), and every value — the window, traffic types,
//! filter values, the time zone — is a bound parameter. Both dialects produce the same
//! text for the same data, so the CSVs are identical:
//!
//! - time buckets and detail times are labelled in the report's zone: `2026-11-01` for a
//!   day, `2026-11-01T01:00:00-04:00` for an hour (the offset keeps both hours of a
//!   fall-back night apart), `2026-11-01T01:23:45-04:00` for an event (SQLite through
//!   functions registered from Rust, PostgreSQL through the session time zone, which the
//!   source sets to the report's);
//! - dimensions are reported and ordered as text, byte by byte (`COLLATE "C"` in
//!   PostgreSQL, SQLite's BINARY), NULLs first;
//! - sums are rounded to 6 decimals and reported as doubles.

use chrono_tz::Tz;

use super::spec::*;
use crate::schedule::params::WindowParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Text(String),
    Int(i64),
    /// A list of texts: a PostgreSQL `text[]`; in SQLite, one parameter per value or
    /// (for tag functions) the values joined with commas.
    TextList(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardKind {
    RowLimit,
    Cardinality,
}

/// A limit checked while rows stream: the query asks for one row more than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub kind: GuardKind,
    pub limit: u64,
}

impl Guard {
    /// The run's status detail, and what to change.
    pub fn message(&self) -> String {
        match self.kind {
            GuardKind::RowLimit => format!(
                "Row limit exceeded: more than {} rows for this window; narrow the window or the filters, or raise row_limit",
                self.limit
            ),
            GuardKind::Cardinality => format!(
                "Cardinality for timeframe exceeded: more than {} groups for this window; group by fewer fields, use a shorter window or a coarser time_series, or raise cardinality_limit",
                self.limit
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Param>,
    pub guard: Option<Guard>,
}

/// `"name"`, with embedded quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn table(parts: &[String]) -> String {
    parts.iter().map(|p| ident(p)).collect::<Vec<_>>().join(".")
}

struct Builder {
    dialect: Dialect,
    params: Vec<Param>,
}

impl Builder {
    fn param(&mut self, p: Param) -> String {
        self.params.push(p);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.params.len()),
            Dialect::Postgres => format!("${}", self.params.len()),
        }
    }

    fn text(&mut self, s: &str) -> String {
        let p = self.param(Param::Text(s.to_string()));
        match self.dialect {
            Dialect::Sqlite => p,
            Dialect::Postgres => format!("{p}::text"),
        }
    }

    /// `col IN (values)`.
    fn in_list(&mut self, col: &str, values: &[String]) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                let ps: Vec<String> = values.iter().map(|v| self.text(v)).collect();
                format!("{col} IN ({})", ps.join(", "))
            }
            Dialect::Postgres => {
                let p = self.param(Param::TextList(values.to_vec()));
                format!("{col} = ANY({p}::text[])")
            }
        }
    }

    fn as_text(&self, col: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("CAST({col} AS TEXT)"),
            Dialect::Postgres => format!("({col})::text"),
        }
    }
}

/// The instant an event happened, as an expression PostgreSQL can bucket.
fn pg_instant(m: &EventsMapping) -> String {
    let t = ident(&m.time);
    match m.time_format {
        TimeFormat::Native => t,
        TimeFormat::Text => format!("({t})::timestamptz"),
        TimeFormat::Epoch => format!("to_timestamp({t})"),
    }
}

/// An event's time, labelled in the report's zone at the given precision.
fn time_label(
    b: &mut Builder,
    m: &EventsMapping,
    tz: Tz,
    precision: TimeSeries,
    exact: bool,
) -> String {
    let t = ident(&m.time);
    match b.dialect {
        Dialect::Sqlite => {
            // UTC text needs no conversion: cut it.
            if tz == Tz::UTC && m.time_format == TimeFormat::Text {
                return match (precision, exact) {
                    (_, true) => format!("(substr({t}, 1, 19) || '+00:00')"),
                    (TimeSeries::Day, _) => format!("substr({t}, 1, 10)"),
                    _ => format!("(substr({t}, 1, 13) || ':00:00+00:00')"),
                };
            }
            let zone = b.text(tz.name());
            let f = match (precision, exact) {
                (_, true) => "reportctl_local_time",
                (TimeSeries::Day, _) => "reportctl_local_day",
                _ => "reportctl_local_hour",
            };
            format!("{f}({t}, {zone})")
        }
        Dialect::Postgres => {
            let i = pg_instant(m);
            match (precision, exact) {
                (_, true) => format!("to_char({i}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"),
                (TimeSeries::Day, _) => format!("to_char({i}, 'YYYY-MM-DD')"),
                _ => {
                    format!("to_char(date_trunc('hour', {i}), 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')")
                }
            }
        }
    }
}

fn window(b: &mut Builder, m: &EventsMapping, w: &WindowParams) -> String {
    let t = ident(&m.time);
    match (m.time_format, b.dialect) {
        (TimeFormat::Epoch, _) => {
            let (from, to) = (
                b.param(Param::Int(w.from_epoch)),
                b.param(Param::Int(w.to_epoch)),
            );
            match b.dialect {
                Dialect::Sqlite => format!("{t} >= {from} AND {t} < {to}"),
                Dialect::Postgres => format!("{t} >= {from}::int8 AND {t} < {to}::int8"),
            }
        }
        (TimeFormat::Text, Dialect::Sqlite) => {
            let (from, to) = (b.text(&w.from), b.text(&w.to));
            format!("{t} >= {from} AND {t} < {to}")
        }
        (_, Dialect::Postgres) => {
            let i = pg_instant(m);
            let (from, to) = (
                b.param(Param::Text(w.from.clone())),
                b.param(Param::Text(w.to.clone())),
            );
            format!("{i} >= {from}::timestamptz AND {i} < {to}::timestamptz")
        }
        (TimeFormat::Native, Dialect::Sqlite) => {
            unreachable!("checked: SQLite has no native timestamp type")
        }
    }
}

/// Tag filters on a comma-separated tag column.
fn tags(b: &mut Builder, col: &str, values: &[String], how: &str) -> String {
    match b.dialect {
        Dialect::Sqlite => {
            let list = b.param(Param::Text(values.join(",")));
            format!("reportctl_tags_{how}({col}, {list})")
        }
        Dialect::Postgres => {
            let list = b.param(Param::TextList(values.to_vec()));
            let arr = format!("string_to_array({col}, ',')");
            match how {
                "any" => format!("coalesce({arr} && {list}::text[], false)"),
                "only" => format!("coalesce({col} <> '' AND {arr} <@ {list}::text[], false)"),
                _ => format!("coalesce(NOT ({arr} && {list}::text[]), true)"),
            }
        }
    }
}

/// The conditions of `f`, ANDed (`None` when empty).
fn filters(b: &mut Builder, m: &EventsMapping, f: &Filters) -> Option<String> {
    let mut parts = Vec::new();
    for DimensionFilter { columns, values } in &f.include {
        let ors: Vec<String> = columns
            .iter()
            .map(|c| b.in_list(&ident(c), values))
            .collect();
        parts.push(format!("({})", ors.join(" OR ")));
    }
    for DimensionFilter {
        columns: cols,
        values,
    } in &f.exclude
    {
        // Any matched touchpoint outside the list keeps the event; so does having none.
        let mut ors: Vec<String> = cols
            .iter()
            .map(|c| format!("NOT ({})", b.in_list(&ident(c), values)))
            .collect();
        let none = cols
            .iter()
            .map(|c| format!("{} IS NULL", ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        ors.push(format!("({none})"));
        parts.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(t) = &m.tags {
        let col = ident(t);
        for (values, how) in [
            (&f.tags_any, "any"),
            (&f.tags_only, "only"),
            (&f.tags_none, "none"),
        ] {
            if !values.is_empty() {
                parts.push(tags(b, &col, values, how));
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

fn where_clause(b: &mut Builder, s: &Structured, w: &WindowParams) -> String {
    let m = &s.mapping;
    let mut conds = vec![window(b, m, w)];
    if let (Some(t), false) = (&m.traffic, s.traffic.is_empty()) {
        conds.push(b.in_list(&ident(t), &s.traffic));
    }
    if let Some(f) = filters(b, m, &s.filters) {
        conds.push(f);
    }
    if let Some(t) = &m.traffic {
        for (traffic, f) in &s.traffic_filters {
            if let Some(cond) = filters(b, m, f) {
                let tv = b.text(traffic);
                let other = match b.dialect {
                    Dialect::Sqlite => format!("{} IS NOT {tv}", ident(t)),
                    Dialect::Postgres => format!("{} IS DISTINCT FROM {tv}", ident(t)),
                };
                conds.push(format!("({other} OR ({cond}))"));
            }
        }
    }
    conds.join("\n  AND ")
}

fn order_key(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("{} NULLS FIRST", ident(name)),
        Dialect::Postgres => format!("{} COLLATE \"C\" NULLS FIRST", ident(name)),
    }
}

pub fn compile(s: &Structured, w: &WindowParams, tz: Tz, dialect: Dialect) -> Compiled {
    let mut b = Builder {
        dialect,
        params: Vec::new(),
    };
    let (sql, guard) = match &s.shape {
        Shape::Summary {
            group_by,
            time_series,
            counters,
        } => summary(&mut b, s, w, tz, (group_by, *time_series, counters)),
        Shape::Detail { columns } => detail(&mut b, s, w, tz, columns),
    };
    let sql = match guard {
        Some(g) => {
            let limit = b.param(Param::Int(g.limit as i64 + 1));
            format!("{sql}\nLIMIT {limit}")
        }
        None => sql,
    };
    Compiled {
        sql,
        params: b.params,
        guard,
    }
}

/// A summary's SQL: one row per group (and hour or day), its counters as columns.
fn summary(
    b: &mut Builder,
    s: &Structured,
    w: &WindowParams,
    tz: Tz,
    (group_by, time_series, counters): (&[Column], TimeSeries, &[Counter]),
) -> (String, Option<Guard>) {
    let dialect = b.dialect;
    let m = &s.mapping;
    let from = table(&m.table);
    let mut select = Vec::new();
    let mut keys = Vec::new();
    if time_series != TimeSeries::None {
        let name = if time_series == TimeSeries::Day {
            "date"
        } else {
            "hour"
        };
        select.push(format!(
            "{} AS {}",
            time_label(b, m, tz, time_series, false),
            ident(name)
        ));
        keys.push(name.to_string());
    }
    for g in group_by {
        let col = ident(&g.column);
        select.push(format!("{} AS {}", b.as_text(&col), ident(&g.name)));
        keys.push(g.name.clone());
    }
    for c in counters {
        let expr = counter(b, c, dialect);
        select.push(format!("{expr} AS {}", ident(&c.column_name())));
    }
    let cond = where_clause(b, s, w);
    let group = if keys.is_empty() {
        String::new()
    } else {
        format!(
            "\nGROUP BY {}",
            (1..=keys.len())
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let inner = format!(
        "SELECT {}\nFROM {from}\nWHERE {cond}{group}",
        select.join(",\n       ")
    );
    let order = if keys.is_empty() {
        String::new()
    } else {
        format!(
            "\nORDER BY {}",
            keys.iter()
                .map(|k| order_key(dialect, k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let guard = s.cardinality_limit.map(|limit| Guard {
        kind: GuardKind::Cardinality,
        limit,
    });
    (
        format!("SELECT * FROM (\n{inner}\n) AS summary{order}"),
        guard,
    )
}

/// One counter of a summary as an SQL aggregate.
fn counter(b: &mut Builder, c: &Counter, dialect: Dialect) -> String {
    match c {
        Counter::Count => "count(*)".to_string(),
        Counter::Traffic { value, column } => {
            let col = ident(column);
            let v = b.text(value);
            format!("sum(CASE WHEN {col} = {v} THEN 1 ELSE 0 END)")
        }
        Counter::Distinct(d) => {
            let col = ident(&d.column);
            format!("count(DISTINCT {})", b.as_text(&col))
        }
        Counter::Sum(ms) => {
            let col = ident(&ms.column);
            match dialect {
                Dialect::Sqlite => format!("round(sum({col}), 6)"),
                Dialect::Postgres => format!("(round(sum({col})::numeric, 6))::float8"),
            }
        }
        Counter::NonZero(ms) => {
            let col = ident(&ms.column);
            format!("sum(CASE WHEN {col} > 0 THEN 1 ELSE 0 END)")
        }
    }
}

/// A detail's SQL: one row per event, in time order.
fn detail(
    b: &mut Builder,
    s: &Structured,
    w: &WindowParams,
    tz: Tz,
    columns: &[DetailColumn],
) -> (String, Option<Guard>) {
    let dialect = b.dialect;
    let m = &s.mapping;
    let from = table(&m.table);
    let mut select = Vec::new();
    // Events in time order; ties by id, or by every column shown.
    let mut order = vec![ident(&m.time)];
    for c in columns {
        let (expr, text) = match c {
            DetailColumn::Time => (time_label(b, m, tz, TimeSeries::Hour, true), false),
            DetailColumn::Plain(col) => (ident(&col.column), false),
            DetailColumn::Text(col) => (b.as_text(&ident(&col.column)), true),
        };
        if m.id.is_none() && *c != DetailColumn::Time {
            order.push(match (text, dialect) {
                (true, Dialect::Postgres) => format!("{expr} COLLATE \"C\" NULLS FIRST"),
                _ => format!("{expr} NULLS FIRST"),
            });
        }
        select.push(format!("{expr} AS {}", ident(c.name())));
    }
    if let Some(id) = &m.id {
        order.push(ident(id));
    }
    let cond = where_clause(b, s, w);
    let guard = s.row_limit.map(|limit| Guard {
        kind: GuardKind::RowLimit,
        limit,
    });
    (
        format!(
            "SELECT {}\nFROM {from}\nWHERE {cond}\nORDER BY {}",
            select.join(",\n       "),
            order.join(", ")
        ),
        guard,
    )
}
