//! What every renderer does the same way with a cell: BLOBs per the `blob` option,
//! and what decimal text is a number.

use anyhow::{bail, Result};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::config::BlobEncoding;
use crate::source::{typed, Cell, ColumnType};

/// A text cell read as its column's type by a typed writer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Typed<'a> {
    /// Text, or a value that does not parse as its column's type.
    Text(&'a str),
    /// Decimal text that is a JSON number (see `is_json_number`).
    Number(&'a str),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Instant(DateTime<Utc>),
}

/// A cell as its column's type has it where the cell's own variant says less: the
/// integers 0 and 1 of a boolean column (SQLite stores booleans so) are booleans.
pub fn retype(ty: ColumnType, cell: Cell<'_>) -> Cell<'_> {
    match (ty, cell) {
        (ColumnType::Bool, Cell::Int(v @ (0 | 1))) => Cell::Bool(v == 1),
        _ => cell,
    }
}

/// Text `s` of a column of type `ty`, as the typed writers read it.
pub fn text_as(ty: ColumnType, s: &str) -> Typed<'_> {
    let parsed = match ty {
        ColumnType::Int | ColumnType::Real | ColumnType::Numeric => {
            is_json_number(s).then_some(Typed::Number(s))
        }
        ColumnType::Bool => parse_bool(s).map(Typed::Bool),
        ColumnType::Date => typed::parse_date(s).map(Typed::Date),
        ColumnType::Timestamp => typed::parse_timestamp(s).map(Typed::Timestamp),
        ColumnType::TimestampTz => typed::parse_instant(s).map(Typed::Instant),
        ColumnType::Unknown | ColumnType::Text | ColumnType::Blob => None,
    };
    parsed.unwrap_or(Typed::Text(s))
}

/// A BLOB as text per `blob` (into `buf`); refused, naming `column`, by default.
pub fn blob_text(bytes: &[u8], blob: BlobEncoding, column: &str, buf: &mut String) -> Result<()> {
    buf.clear();
    match blob {
        BlobEncoding::Refuse => bail!(
            "column \"{column}\" holds a BLOB; set csv.blob = \"hex\" or \"base64\" to write it, or leave the column out"
        ),
        BlobEncoding::Hex => {
            for byte in bytes {
                use std::fmt::Write as _;
                let _ = write!(buf, "{byte:02x}");
            }
        }
        BlobEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode_string(bytes, buf),
    }
    Ok(())
}

/// Whether `s` is a JSON number as it stands (`-12.50`, `1e5`; not `NaN`, `.5`,
/// `007` or `+1`): serde_json's parser decides.
pub fn is_json_number(s: &str) -> bool {
    s.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'-')
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

/// The double of decimal text when it holds it exactly enough for a spreadsheet: at
/// most 15 significant digits (what Excel keeps) and finite; `None` otherwise (the
/// text is then written as text so that no digit is lost).
pub fn spreadsheet_number(s: &str) -> Option<f64> {
    if !is_json_number(s) {
        return None;
    }
    let mantissa = s.split(['e', 'E']).next().unwrap_or(s);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    let v: f64 = s.parse().ok()?;
    (significant <= 15 && v.is_finite()).then_some(v)
}

/// A boolean in one of the usual spellings (`true`/`false`, `t`/`f`, `1`/`0`,
/// `yes`/`no`, any case).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for s in ["0", "-12.50", "1e5", "12345678901234567890.123"] {
            assert!(is_json_number(s), "{s}");
        }
        for s in ["NaN", "Infinity", ".5", "007", "+1", "1.", "", "1 2", "-"] {
            assert!(!is_json_number(s), "{s}");
        }
        assert_eq!(spreadsheet_number("-12.50"), Some(-12.5));
        assert_eq!(
            spreadsheet_number("123456789012345"),
            Some(123456789012345.0)
        );
        assert_eq!(spreadsheet_number("1234567890123456"), None);
        assert_eq!(spreadsheet_number("0.000000000000000001"), Some(1e-18));
        assert_eq!(spreadsheet_number("NaN"), None);
    }

    #[test]
    fn text_by_column_type() {
        use ColumnType::*;
        assert_eq!(text_as(Int, "42"), Typed::Number("42"));
        assert_eq!(text_as(Int, "n/a"), Typed::Text("n/a"));
        assert_eq!(text_as(Text, "42"), Typed::Text("42"));
        assert_eq!(text_as(Bool, "t"), Typed::Bool(true));
        assert!(matches!(text_as(Date, "2026-11-23"), Typed::Date(_)));
        assert!(matches!(
            text_as(Timestamp, "2026-11-23 01:02:03"),
            Typed::Timestamp(_)
        ));
        assert!(matches!(
            text_as(TimestampTz, "2026-11-23T01:02:03Z"),
            Typed::Instant(_)
        ));
        assert_eq!(text_as(Date, "soon"), Typed::Text("soon"));
        assert_eq!(retype(Bool, Cell::Int(1)), Cell::Bool(true));
        assert_eq!(retype(Bool, Cell::Int(2)), Cell::Int(2));
        assert_eq!(retype(Int, Cell::Int(1)), Cell::Int(1));
    }

    #[test]
    fn blobs_and_bools() {
        let mut buf = String::new();
        blob_text(&[0, 255, 16], BlobEncoding::Hex, "b", &mut buf).unwrap();
        assert_eq!(buf, "00ff10");
        blob_text(&[0, 255, 16], BlobEncoding::Base64, "b", &mut buf).unwrap();
        assert_eq!(buf, "AP8Q");
        let e = blob_text(&[1], BlobEncoding::Refuse, "b", &mut buf).unwrap_err();
        assert!(e.to_string().contains("column \"b\" holds a BLOB"), "{e}");
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("no"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
