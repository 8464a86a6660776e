//! Reading the text cells of typed columns back as values, for the typed formats
//! (xlsx, jsonl, parquet): one parser per `ColumnType` that arrives as text, all of
//! them chrono's. A cell that does not parse is the writer's to write as text.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::ColumnType;

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]`, or with a space for the `T` (SQLite's own text
/// form); a date alone is midnight.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .or_else(|| parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

/// An instant: RFC 3339 (`2026-11-23T05:00:00Z`, any offset, a space allowed for the
/// `T`), in UTC.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A type by the name the `types` output key gives it (one of
/// `config::model::COLUMN_TYPES`).
pub fn by_name(name: &str) -> Option<ColumnType> {
    Some(match name {
        "int" => ColumnType::Int,
        "real" => ColumnType::Real,
        "numeric" => ColumnType::Numeric,
        "text" => ColumnType::Text,
        "bool" => ColumnType::Bool,
        "date" => ColumnType::Date,
        "timestamp" => ColumnType::Timestamp,
        "timestamptz" => ColumnType::TimestampTz,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_sources_give() {
        assert_eq!(
            parse_date("2026-11-23"),
            NaiveDate::from_ymd_opt(2026, 11, 23)
        );
        assert_eq!(parse_date("2026-11-31"), None);
        let t = parse_timestamp("2026-11-23T05:06:07.25").unwrap();
        assert_eq!(t.to_string(), "2026-11-23 05:06:07.250");
        assert_eq!(
            parse_timestamp("2026-11-23 05:06:07"),
            Some(t.with_nanosecond0())
        );
        assert_eq!(
            parse_timestamp("2026-11-23").unwrap().to_string(),
            "2026-11-23 00:00:00"
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        let i = parse_instant("2026-11-23T00:00:00-05:00").unwrap();
        assert_eq!(i.to_rfc3339(), "2026-11-23T05:00:00+00:00");
        assert_eq!(parse_instant("2026-11-23T05:00:00Z"), Some(i));
        assert_eq!(parse_instant("2026-11-23T05:00:00"), None);
    }

    trait Whole {
        fn with_nanosecond0(self) -> Self;
    }
    impl Whole for NaiveDateTime {
        fn with_nanosecond0(self) -> Self {
            chrono::Timelike::with_nanosecond(&self, 0).unwrap()
        }
    }

    #[test]
    fn type_names_round_trip() {
        for n in crate::config::model::COLUMN_TYPES {
            assert!(by_name(n).is_some(), "{n}");
        }
        assert_eq!(by_name("string"), None);
    }
}
