//! `reportctl init`: a commented starter configuration for the user's own database.
//! The database is looked at (read-only), a table with a time column is chosen, and a
//! configuration is written around one daily report on it, delivered to a directory,
//! with the other destinations as commented blocks. A password in a PostgreSQL URL is
//! used to connect and never written: the file refers to an environment variable.

mod inspect;
mod text;

use anyhow::{bail, Result};

pub use inspect::{postgres_tables, sqlite_tables};
pub use text::{render, report_name};

/// How a time column's values are stored, from its declared type and a sample value:
/// this decides which window parameters the report's query compares it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// Instants: a PostgreSQL `timestamptz`, or SQLite text like `2026-11-30T07:00:00Z`.
    Instant,
    /// Wall-clock times without a zone: a PostgreSQL `timestamp`.
    Local,
    /// SQLite text `2026-11-30 07:00:00`, as `CURRENT_TIMESTAMP` writes it (UTC).
    SqliteText,
    /// Unix seconds (an integer).
    Epoch,
    /// Unix milliseconds (an integer).
    EpochMillis,
    /// Dates.
    Date,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// What the database says the type is (`TIMESTAMP`, `timestamp with time zone`…).
    pub declared: String,
    /// How its values look when it could be a time column, else `None`.
    pub time: Option<TimeKind>,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// The schema (PostgreSQL), when not on the search path's first.
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<Column>,
}

impl Table {
    /// `schema.name` or `name`, as the user writes it.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Where the data is, as the configuration will say it.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite {
        /// As given on the command line.
        path: String,
    },
    Postgres {
        /// The URL without its password and TLS parameters.
        url: String,
        /// `sslmode` and `sslrootcert` from the URL, which the source takes as keys.
        sslmode: Option<String>,
        ca_file: Option<String>,
        /// The URL had a password: the file names this variable instead.
        password_env: Option<String>,
    },
}

/// Everything the starter file is written from.
#[derive(Debug, Clone)]
pub struct Starter {
    pub database: Database,
    pub table: Table,
    /// The chosen time column (one of `table.columns`, with a `time` kind).
    pub time_column: Column,
    pub timezone: String,
}

/// The table and time column of the starter report: those named, else the first table
/// (by name) that has a column that looks like a time, and its first such column.
pub fn choose(
    tables: Vec<Table>,
    table: Option<&str>,
    column: Option<&str>,
    what: &str,
) -> Result<(Table, Column)> {
    let names = || {
        tables
            .iter()
            .map(Table::display)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if tables.is_empty() {
        bail!("{what} has no tables: create the table your report reads first");
    }
    let candidates: Vec<&Table> = match table {
        Some(t) => {
            let found = tables
                .iter()
                .find(|x| x.display() == t || x.name == t)
                .ok_or_else(|| {
                    anyhow::anyhow!("{what} has no table {t:?}; its tables: {}", names())
                })?;
            vec![found]
        }
        None => tables.iter().collect(),
    };
    for t in &candidates {
        let col = match column {
            Some(c) => match t.columns.iter().find(|x| x.name == c) {
                Some(col) => Some(col),
                None if table.is_some() => {
                    let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                    bail!(
                        "table {} has no column {c:?}; its columns: {}",
                        t.display(),
                        cols.join(", ")
                    )
                }
                None => None,
            },
            None => t.columns.iter().find(|c| c.time.is_some()),
        };
        if let Some(col) = col {
            let mut col = col.clone();
            // A column named by the user is compared as an instant unless its type or
            // values said otherwise.
            col.time.get_or_insert(TimeKind::Instant);
            return Ok(((*t).clone(), col));
        }
    }
    match table {
        Some(t) => bail!(
            "table {t} has no column that looks like a time (declared DATE, DATETIME or TIMESTAMP, or holding such values); name the one the report's period applies to with --time-column"
        ),
        None => bail!(
            "no table of {what} has a column that looks like a time (declared DATE, DATETIME or TIMESTAMP, or holding such values); name the table and column with --table and --time-column (tables: {})",
            names()
        ),
    }
}

/// The kind of a time column from a sample value of it (SQLite stores any type in any
/// column): `None` when the value does not look like a time.
pub fn kind_of_value(sample: &str) -> Option<TimeKind> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = sample.trim();
    if let Ok(n) = s.parse::<i64>() {
        // Seconds or milliseconds between 2001 and 2100.
        const SECONDS: std::ops::Range<i64> = 978_307_200..4_102_444_800;
        return if SECONDS.contains(&n) {
            Some(TimeKind::Epoch)
        } else if SECONDS.contains(&(n / 1000)) {
            Some(TimeKind::EpochMillis)
        } else {
            None
        };
    }
    if DateTime::parse_from_rfc3339(s).is_ok() {
        return Some(TimeKind::Instant);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if NaiveDateTime::parse_from_str(s, f).is_ok() {
            return Some(TimeKind::SqliteText);
        }
    }
    if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
        return Some(TimeKind::Date);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, time: Option<TimeKind>) -> Column {
        Column {
            name: name.into(),
            declared: String::new(),
            time,
        }
    }

    fn table(name: &str, columns: Vec<Column>) -> Table {
        Table {
            schema: None,
            name: name.into(),
            columns,
        }
    }

    #[test]
    fn values_tell_how_times_are_stored() {
        assert_eq!(
            kind_of_value("2026-11-30T07:00:00Z"),
            Some(TimeKind::Instant)
        );
        assert_eq!(
            kind_of_value("2026-11-30T07:00:00+01:00"),
            Some(TimeKind::Instant)
        );
        assert_eq!(
            kind_of_value("2026-11-30 07:00:00"),
            Some(TimeKind::SqliteText)
        );
        assert_eq!(kind_of_value("2026-11-30"), Some(TimeKind::Date));
        assert_eq!(kind_of_value("1796000000"), Some(TimeKind::Epoch));
        assert_eq!(kind_of_value("1796000000123"), Some(TimeKind::EpochMillis));
        assert_eq!(kind_of_value("42"), None);
        assert_eq!(kind_of_value("hello"), None);
    }

    #[test]
    fn the_first_table_with_a_time_column_is_chosen() {
        let tables = vec![
            table("a_users", vec![col("id", None), col("name", None)]),
            table(
                "events",
                vec![col("id", None), col("at", Some(TimeKind::Epoch))],
            ),
        ];
        let (t, c) = choose(tables.clone(), None, None, "db").unwrap();
        assert_eq!((t.name.as_str(), c.name.as_str()), ("events", "at"));
        let e = choose(tables.clone(), Some("a_users"), None, "db").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("table a_users has no column that looks like a time"));
        let (t, c) = choose(tables.clone(), Some("a_users"), Some("name"), "db").unwrap();
        assert_eq!(
            (t.name.as_str(), c.name.as_str(), c.time),
            ("a_users", "name", Some(TimeKind::Instant))
        );
        let e = choose(tables.clone(), Some("nope"), None, "db").unwrap_err();
        assert_eq!(
            e.to_string(),
            "db has no table \"nope\"; its tables: a_users, events"
        );
        let e = choose(tables, Some("events"), Some("nope"), "db").unwrap_err();
        assert_eq!(
            e.to_string(),
            "table events has no column \"nope\"; its columns: id, at"
        );
    }
}
