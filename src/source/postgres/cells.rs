//! PostgreSQL values as cells. Rows arrive in PostgreSQL's text format (what `psql` and
//! `COPY` print, with DateStyle ISO), so every type, including arrays, JSON, intervals,
//! ranges and enums, is written as PostgreSQL itself writes it; a few types are
//! turned into what a CSV reader expects:
//!
//! | PostgreSQL | cell |
//! |---|---|
//! | smallint, integer, bigint, oid, numeric (incl. NaN, ±Infinity) | the exact digits, never formula-guarded |
//! | real, double precision | the shortest text that reads back to the same value (`5.0`, `0.1`) |
//! | boolean | `true` / `false` |
//! | timestamp with time zone | RFC 3339 in UTC: `2026-11-23T05:00:00Z` (fraction kept) |
//! | timestamp | `2026-11-23T00:00:00` (no offset) |
//! | date, time, interval, uuid, json, jsonb, arrays, … | PostgreSQL's text |
//! | bytea | bytes (the `blob` CSV option: refused, hex or base64) |
//! | NULL | the `null` CSV option |
//!
//! `infinity` and BC timestamps are passed on as PostgreSQL writes them.

use anyhow::{anyhow, Result};
use chrono::{Datelike, NaiveDate, Timelike};
use tokio_postgres::types::{Kind as PgKind, Type};

use crate::source::{format_real, Cell, ColumnType, RowSink};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    Float4,
    Float8,
    Bool,
    Timestamptz,
    Timestamp,
    Bytea,
    Text,
}

/// How values of a column of type `ty` become cells (domains as their base type).
pub fn kind_of(ty: &Type) -> Kind {
    if let PgKind::Domain(base) = ty.kind() {
        return kind_of(base);
    }
    match *ty {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID | Type::NUMERIC => Kind::Number,
        Type::FLOAT4 => Kind::Float4,
        Type::FLOAT8 => Kind::Float8,
        Type::BOOL => Kind::Bool,
        Type::TIMESTAMPTZ => Kind::Timestamptz,
        Type::TIMESTAMP => Kind::Timestamp,
        Type::BYTEA => Kind::Bytea,
        _ => Kind::Text,
    }
}

/// What a column of type `ty` holds, for the typed formats (domains as their base type):
///
/// | PostgreSQL | column type |
/// |---|---|
/// | smallint, integer, bigint, oid | Int |
/// | numeric | Numeric |
/// | real, double precision | Real |
/// | boolean | Bool |
/// | date | Date |
/// | timestamp | Timestamp |
/// | timestamp with time zone | TimestampTz |
/// | bytea | Blob |
/// | anything else (text, varchar, uuid, json, interval, time, arrays, …) | Text |
pub fn column_type(ty: &Type) -> ColumnType {
    if let PgKind::Domain(base) = ty.kind() {
        return column_type(base);
    }
    match *ty {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => ColumnType::Int,
        Type::NUMERIC => ColumnType::Numeric,
        Type::DATE => ColumnType::Date,
        _ => match kind_of(ty) {
            Kind::Number => ColumnType::Numeric,
            Kind::Float4 | Kind::Float8 => ColumnType::Real,
            Kind::Bool => ColumnType::Bool,
            Kind::Timestamptz => ColumnType::TimestampTz,
            Kind::Timestamp => ColumnType::Timestamp,
            Kind::Bytea => ColumnType::Blob,
            Kind::Text => ColumnType::Text,
        },
    }
}

/// Reusable buffers for converted values.
#[derive(Default)]
pub struct Scratch {
    text: String,
    bytes: Vec<u8>,
}

/// Pushes one value, in text format, as a cell of `kind`.
pub fn push(
    sink: &mut dyn RowSink,
    kind: Kind,
    value: Option<&str>,
    scratch: &mut Scratch,
) -> Result<()> {
    let Some(v) = value else {
        return sink.cell(Cell::Null);
    };
    let cell = match kind {
        Kind::Number => Cell::Number(v),
        Kind::Text => Cell::Text(v),
        Kind::Bool => match v {
            "t" => Cell::Bool(true),
            "f" => Cell::Bool(false),
            other => Cell::Text(other),
        },
        Kind::Float8 => match v.parse::<f64>() {
            Ok(f) => Cell::Real(f),
            Err(_) => Cell::Number(v),
        },
        Kind::Float4 => match v.parse::<f32>() {
            Ok(f) => {
                format_real4(f, &mut scratch.text);
                Cell::Number(&scratch.text)
            }
            Err(_) => Cell::Number(v),
        },
        Kind::Timestamptz => {
            if timestamptz_utc(v, &mut scratch.text) {
                Cell::Text(&scratch.text)
            } else {
                Cell::Text(v)
            }
        }
        Kind::Timestamp => {
            if v.as_bytes().first().is_some_and(u8::is_ascii_digit) && !v.ends_with(" BC") {
                scratch.text.clear();
                scratch.text.push_str(v);
                if let Some(i) = scratch.text.find(' ') {
                    scratch.text.replace_range(i..=i, "T");
                }
                Cell::Text(&scratch.text)
            } else {
                Cell::Text(v)
            }
        }
        Kind::Bytea => {
            let hex = v
                .strip_prefix("\\x")
                .ok_or_else(|| anyhow!("a bytea value is not in hex format"))?;
            scratch.bytes.resize(hex.len() / 2, 0);
            hex::decode_to_slice(hex, &mut scratch.bytes)
                .map_err(|e| anyhow!("a bytea value cannot be decoded: {e}"))?;
            Cell::Blob(&scratch.bytes)
        }
    };
    sink.cell(cell)
}

/// A `real` in the shortest form that reads back to the same value, like doubles.
fn format_real4(v: f32, buf: &mut String) {
    if !v.is_finite() {
        format_real(f64::from(v), buf);
        return;
    }
    buf.clear();
    buf.push_str(ryu::Buffer::new().format_finite(v));
    if !buf.contains(['.', 'e', 'E']) {
        buf.push_str(".0");
    }
}

/// `2026-11-23 00:00:00.5-05` (DateStyle ISO, any session zone) → `2026-11-23T05:00:00.5Z`.
/// Returns false (and leaves `out` unspecified) for what it does not convert:
/// `infinity`, BC dates.
fn timestamptz_utc(v: &str, out: &mut String) -> bool {
    let Some((date, rest)) = v.split_once(' ') else {
        return false;
    };
    if rest.ends_with("BC") {
        return false;
    }
    // rest: HH:MM:SS[.ffffff]±HH[:MM[:SS]]
    let Some(sign_at) = rest.find(['+', '-']) else {
        return false;
    };
    let (time, offset) = rest.split_at(sign_at);
    let (hms, frac) = match time.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    let num = |s: &str| s.parse::<i64>().ok();
    let mut off = offset[1..].split(':');
    let (Some(oh), om, os) = (
        off.next().and_then(num),
        off.next().map(num),
        off.next().map(num),
    ) else {
        return false;
    };
    let (Some(om), Some(os)) = (om.unwrap_or(Some(0)), os.unwrap_or(Some(0))) else {
        return false;
    };
    let mut offset_secs = oh * 3600 + om * 60 + os;
    if offset.starts_with('-') {
        offset_secs = -offset_secs;
    }
    let mut d = date.rsplitn(3, '-');
    let (Some(day), Some(month), Some(year)) = (d.next(), d.next(), d.next()) else {
        return false;
    };
    let mut t = hms.split(':');
    let (Some(h), Some(m), Some(s)) = (t.next(), t.next(), t.next()) else {
        return false;
    };
    let parsed = (|| {
        NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?
            .and_hms_opt(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?)
    })();
    let Some(local) = parsed else {
        return false;
    };
    out.clear();
    if offset_secs == 0 {
        // The common case (a UTC session): the text is already right.
        out.push_str(date);
        out.push('T');
        out.push_str(hms);
    } else {
        let utc = local - chrono::Duration::seconds(offset_secs);
        if !(0..=9999).contains(&utc.year()) {
            return false;
        }
        // By hand: chrono's formatter costs more than the rest of the row.
        push_digits(out, utc.year() as u32, 4);
        out.push('-');
        push_digits(out, utc.month(), 2);
        out.push('-');
        push_digits(out, utc.day(), 2);
        out.push('T');
        push_digits(out, utc.hour(), 2);
        out.push(':');
        push_digits(out, utc.minute(), 2);
        out.push(':');
        push_digits(out, utc.second(), 2);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out.push('Z');
    true
}

/// `n` as exactly `width` decimal digits (zero-padded).
fn push_digits(out: &mut String, n: u32, width: u32) {
    for p in (0..width).rev() {
        out.push(char::from(b'0' + ((n / 10u32.pow(p)) % 10) as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_of_postgresql_types() {
        use ColumnType::*;
        for (ty, want) in [
            (Type::INT2, Int),
            (Type::INT8, Int),
            (Type::OID, Int),
            (Type::NUMERIC, Numeric),
            (Type::FLOAT4, Real),
            (Type::FLOAT8, Real),
            (Type::BOOL, Bool),
            (Type::DATE, Date),
            (Type::TIMESTAMP, Timestamp),
            (Type::TIMESTAMPTZ, TimestampTz),
            (Type::BYTEA, Blob),
            (Type::TEXT, Text),
            (Type::VARCHAR, Text),
            (Type::UUID, Text),
            (Type::INTERVAL, Text),
            (Type::JSONB, Text),
            (Type::INT4_ARRAY, Text),
        ] {
            assert_eq!(column_type(&ty), want, "{ty}");
        }
    }

    #[test]
    fn timestamptz_in_any_zone_becomes_utc() {
        let cases = [
            ("2026-11-23 00:00:00-05", "2026-11-23T05:00:00Z"),
            ("2026-11-23 05:00:00+00", "2026-11-23T05:00:00Z"),
            ("2026-06-01 00:05:08.123-04", "2026-06-01T04:05:08.123Z"),
            ("2026-01-01 03:00:00+05:30", "2025-12-31T21:30:00Z"),
            ("1850-01-01 00:00:00-04:56:02", "1850-01-01T04:56:02Z"),
            (
                "2024-02-29 23:59:59.999999-01",
                "2024-03-01T00:59:59.999999Z",
            ),
        ];
        let mut out = String::new();
        for (pg, want) in cases {
            assert!(timestamptz_utc(pg, &mut out), "{pg}");
            assert_eq!(out, want, "{pg}");
        }
        for odd in ["infinity", "-infinity", "0044-03-15 00:00:00+00 BC"] {
            assert!(!timestamptz_utc(odd, &mut out), "{odd}");
        }
    }

    #[test]
    fn reals_are_shortest() {
        let mut s = String::new();
        for (v, want) in [
            (0.1f32, "0.1"),
            (5.0, "5.0"),
            (1.5e-7, "1.5e-7"),
            (f32::NAN, "NaN"),
        ] {
            format_real4(v, &mut s);
            assert_eq!(s, want);
        }
    }
}
