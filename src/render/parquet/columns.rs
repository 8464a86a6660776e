//! A Parquet file's columns: their types, their buffered values, the conversions.

use anyhow::Result;
use chrono::NaiveDate;
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::writer::SerializedColumnWriter;
use parquet::schema::types::Type;

use crate::source::{format_real, typed, Cell, ColumnType};

/// What a column is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    Int,
    Real,
    Text,
    Blob,
    Date,
    Timestamp,
    TimestampTz,
}

impl Kind {
    fn of(ty: ColumnType) -> Option<Kind> {
        Some(match ty {
            ColumnType::Unknown => return None,
            ColumnType::Bool => Kind::Bool,
            ColumnType::Int => Kind::Int,
            ColumnType::Real => Kind::Real,
            // Exact text (PostgreSQL) or SQLite's integers and reals: see `settle`.
            ColumnType::Numeric => return None,
            ColumnType::Text => Kind::Text,
            ColumnType::Date => Kind::Date,
            ColumnType::Timestamp => Kind::Timestamp,
            ColumnType::TimestampTz => Kind::TimestampTz,
            ColumnType::Blob => Kind::Blob,
        })
    }

    /// The Parquet name of the column type, for messages.
    fn name(self) -> &'static str {
        match self {
            Kind::Bool => "BOOLEAN",
            Kind::Int => "INT64",
            Kind::Real => "DOUBLE",
            Kind::Text => "String",
            Kind::Blob => "BYTE_ARRAY",
            Kind::Date => "DATE",
            Kind::Timestamp | Kind::TimestampTz => "TIMESTAMP",
        }
    }

    pub(super) fn schema(self, name: &str) -> Result<Type> {
        let (physical, logical) = match self {
            Kind::Bool => (Physical::BOOLEAN, None),
            Kind::Int => (Physical::INT64, None),
            Kind::Real => (Physical::DOUBLE, None),
            Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            Kind::Blob => (Physical::BYTE_ARRAY, None),
            Kind::Date => (Physical::INT32, Some(LogicalType::Date)),
            Kind::Timestamp => (
                Physical::INT64,
                Some(LogicalType::timestamp(false, TimeUnit::MICROS)),
            ),
            Kind::TimestampTz => (
                Physical::INT64,
                Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
            ),
        };
        Ok(Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()?)
    }
}

/// A value of a column whose type is not known yet (first row group only).
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

/// One column's buffered values of the current row group.
#[derive(Debug)]
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    /// All values end to end; `ends[i]` is where value `i` ends.
    Bytes {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
    Pending(Vec<Pending>),
}

impl Values {
    fn new(kind: Option<Kind>) -> Values {
        match kind {
            None => Values::Pending(Vec::new()),
            Some(Kind::Bool) => Values::Bool(Vec::new()),
            Some(Kind::Int | Kind::Timestamp | Kind::TimestampTz) => Values::I64(Vec::new()),
            Some(Kind::Real) => Values::F64(Vec::new()),
            Some(Kind::Date) => Values::I32(Vec::new()),
            Some(Kind::Text | Kind::Blob) => Values::Bytes {
                data: Vec::new(),
                ends: Vec::new(),
            },
        }
    }

    fn push_bytes(&mut self, b: &[u8]) {
        if let Values::Bytes { data, ends } = self {
            data.extend_from_slice(b);
            ends.push(data.len());
        }
    }
}

/// One column: its name, its type in the file and the values of the current row group.
pub(super) struct Col {
    pub(super) name: String,
    /// `None` until the first row group is written, for a column of unknown type.
    pub(super) kind: Option<Kind>,
    /// Declared numeric: settles as DOUBLE rather than INT64 (SQLite stores the whole
    /// values of a NUMERIC column as integers, the others as reals).
    numeric: bool,
    /// 1 for a value, 0 for a NULL, per row.
    defs: Vec<i16>,
    values: Values,
}

impl Col {
    pub(super) fn new(name: &str, ty: ColumnType) -> Col {
        let kind = Kind::of(ty);
        Col {
            name: name.to_string(),
            kind,
            numeric: ty == ColumnType::Numeric,
            defs: Vec::new(),
            values: Values::new(kind),
        }
    }

    /// Buffers a NULL.
    pub(super) fn null(&mut self) {
        self.defs.push(0);
    }

    /// Buffers a value (or a NULL); returns about how many bytes it takes.
    pub(super) fn cell(&mut self, value: Cell<'_>, buf: &mut String) -> Result<usize> {
        if value == Cell::Null {
            self.null();
            return Ok(2);
        }
        self.defs.push(1);
        Ok(2 + self.push(value, buf)?)
    }

    /// Writes the buffered values as this column's chunk of a row group and empties
    /// the buffers.
    pub(super) fn write(&mut self, w: &mut SerializedColumnWriter<'_>) -> Result<()> {
        let defs = Some(&self.defs[..]);
        match &mut self.values {
            Values::Bool(v) => {
                w.typed::<BoolType>().write_batch(v, defs, None)?;
                v.clear();
            }
            Values::I32(v) => {
                w.typed::<Int32Type>().write_batch(v, defs, None)?;
                v.clear();
            }
            Values::I64(v) => {
                w.typed::<Int64Type>().write_batch(v, defs, None)?;
                v.clear();
            }
            Values::F64(v) => {
                w.typed::<DoubleType>().write_batch(v, defs, None)?;
                v.clear();
            }
            Values::Bytes { data, ends } => {
                // One buffer for the group; each value a slice of it (no copy).
                let all = bytes::Bytes::from(std::mem::take(data));
                let mut start = 0;
                let v: Vec<ByteArray> = ends
                    .iter()
                    .map(|&end| {
                        let b = ByteArray::from(all.slice(start..end));
                        start = end;
                        b
                    })
                    .collect();
                ends.clear();
                w.typed::<ByteArrayType>().write_batch(&v, defs, None)?;
            }
            Values::Pending(_) => unreachable!("settled when the file was opened"),
        }
        self.defs.clear();
        Ok(())
    }

    /// Buffers one non-NULL value; returns about how many bytes it takes. `buf` is
    /// scratch space. A value that does not fit the column's type is an error (the
    /// source adds the row and the column).
    fn push(&mut self, value: Cell<'_>, buf: &mut String) -> Result<usize> {
        let col = self;
        let Some(kind) = col.kind else {
            let p = match value {
                Cell::Int(i) => Pending::Int(i),
                Cell::Real(r) => Pending::Real(r),
                Cell::Bool(b) => Pending::Bool(b),
                Cell::Number(s) | Cell::Text(s) => Pending::Text(s.to_string()),
                Cell::Blob(b) => Pending::Blob(b.to_vec()),
                Cell::Null => unreachable!("NULLs are not pushed"),
            };
            let size = match &p {
                Pending::Text(s) => s.len() + 24,
                Pending::Blob(b) => b.len() + 24,
                _ => 8,
            };
            if let Values::Pending(v) = &mut col.values {
                v.push(p);
            }
            return Ok(size);
        };
        let misfit = |what: &str| misfit(kind, what);
        match (&mut col.values, value) {
            (Values::Bool(v), Cell::Bool(b)) => v.push(b),
            (Values::Bool(v), Cell::Int(i @ (0 | 1))) => v.push(i == 1),
            (Values::I64(v), Cell::Int(i)) if kind == Kind::Int => v.push(i),
            // PostgreSQL's integers arrive as their text.
            (Values::I64(v), Cell::Number(s)) if kind == Kind::Int => {
                v.push(s.parse().map_err(|_| misfit(&format!("the number {s}")))?)
            }
            (Values::F64(v), Cell::Real(r)) => v.push(r),
            (Values::F64(v), Cell::Int(i)) => v.push(i as f64),
            (Values::F64(v), Cell::Number(s)) => {
                v.push(s.parse().map_err(|_| misfit(&format!("the number {s}")))?)
            }
            (Values::I32(v), Cell::Text(s)) => {
                v.push(date_days(s).ok_or_else(|| misfit(&format!("the text {s:?}")))?)
            }
            (Values::I64(v), Cell::Text(s)) => {
                let micros = if kind == Kind::Timestamp {
                    timestamp_micros(s)
                } else {
                    timestamp_tz_micros(s)
                };
                v.push(micros.ok_or_else(|| misfit(&format!("the text {s:?}")))?)
            }
            (values @ Values::Bytes { .. }, Cell::Blob(b)) if kind == Kind::Blob => {
                values.push_bytes(b);
                return Ok(b.len() + 16);
            }
            (values @ Values::Bytes { .. }, cell) if !matches!(cell, Cell::Blob(_)) => {
                let s = cell_text(cell, buf);
                values.push_bytes(s.as_bytes());
                return Ok(s.len() + 16);
            }
            (_, cell) => return Err(misfit(describe(cell))),
        }
        Ok(8)
    }
}

/// The error for a value that does not fit its column's type.
fn misfit(kind: Kind, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} does not fit the column's Parquet type {}; declare the column's type in the output's `types` or CAST it in the query",
        kind.name()
    )
}

/// A value as a short description for messages.
fn describe(cell: Cell<'_>) -> &'static str {
    match cell {
        Cell::Null => "NULL",
        Cell::Int(_) => "an integer",
        Cell::Real(_) => "a real number",
        Cell::Number(_) => "an exact number",
        Cell::Bool(_) => "a boolean",
        Cell::Text(_) => "a text",
        Cell::Blob(_) => "a blob",
    }
}

/// A non-blob value as text (a String column): numbers as the CSV file writes them.
fn cell_text<'a>(cell: Cell<'a>, buf: &'a mut String) -> &'a str {
    use std::fmt::Write as _;
    match cell {
        Cell::Text(s) | Cell::Number(s) => s,
        Cell::Int(i) => {
            buf.clear();
            let _ = write!(buf, "{i}");
            buf
        }
        Cell::Real(r) => {
            format_real(r, buf);
            buf
        }
        Cell::Bool(b) => {
            if b {
                "true"
            } else {
                "false"
            }
        }
        Cell::Null | Cell::Blob(_) => unreachable!("not text"),
    }
}

/// Fixes the type of a column of unknown type from its buffered values (see the module
/// documentation) and converts them.
pub(super) fn settle(col: &mut Col, buf: &mut String) {
    let Values::Pending(pending) = std::mem::replace(&mut col.values, Values::Bool(Vec::new()))
    else {
        return;
    };
    let has = |f: fn(&Pending) -> bool| pending.iter().any(f);
    let kind = if has(|p| matches!(p, Pending::Blob(_))) {
        Kind::Blob
    } else if pending.is_empty() || has(|p| matches!(p, Pending::Text(_))) {
        Kind::Text
    } else if pending.iter().all(|p| matches!(p, Pending::Bool(_))) {
        Kind::Bool
    } else if has(|p| matches!(p, Pending::Bool(_))) {
        Kind::Text
    } else if col.numeric || has(|p| matches!(p, Pending::Real(_))) {
        Kind::Real
    } else {
        Kind::Int
    };
    let mut values = Values::new(Some(kind));
    for p in pending {
        match (&mut values, p) {
            (Values::Bool(v), Pending::Bool(b)) => v.push(b),
            (Values::I64(v), Pending::Int(i)) => v.push(i),
            (Values::F64(v), Pending::Int(i)) => v.push(i as f64),
            (Values::F64(v), Pending::Real(r)) => v.push(r),
            (values, Pending::Blob(b)) => values.push_bytes(&b),
            (values, Pending::Text(s)) => values.push_bytes(s.as_bytes()),
            (values, Pending::Int(i)) => values.push_bytes(cell_text(Cell::Int(i), buf).as_bytes()),
            (values, Pending::Real(r)) => {
                values.push_bytes(cell_text(Cell::Real(r), buf).as_bytes())
            }
            (values, Pending::Bool(b)) => {
                values.push_bytes(cell_text(Cell::Bool(b), buf).as_bytes())
            }
        }
    }
    col.kind = Some(kind);
    col.values = values;
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn date_days(s: &str) -> Option<i32> {
    let d = typed::parse_date(s)?;
    i32::try_from(d.signed_duration_since(EPOCH).num_days()).ok()
}

/// Microseconds since 1970-01-01 00:00 of a local timestamp.
fn timestamp_micros(s: &str) -> Option<i64> {
    Some(typed::parse_timestamp(s)?.and_utc().timestamp_micros())
}

/// Microseconds since the epoch of an RFC 3339 timestamp.
fn timestamp_tz_micros(s: &str) -> Option<i64> {
    Some(typed::parse_instant(s)?.timestamp_micros())
}
