//! `--now`: the instant a command acts as if it were. An RFC 3339 instant, or a local
//! date (`2026-11-30`, the local midnight starting that day) or date-time
//! (`2026-11-30T07:00`, `2026-11-30 07:00:00`) read in the settings' zone once the
//! configuration is loaded, so that every report of one command sees the same instant.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

/// A `--now` as written; `instant` reads a local form in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    Instant(DateTime<Utc>),
    Local(NaiveDateTime),
}

impl Now {
    /// The instant: a local date-time is read in `tz` by the planner's rules for the
    /// days a zone changes its offset (a time in a spring-forward gap moves to the end
    /// of the gap; an ambiguous time takes the earlier instant).
    pub fn instant(self, tz: Tz) -> DateTime<Utc> {
        match self {
            Now::Instant(t) => t,
            Now::Local(t) => crate::schedule::local::resolve(tz, t).with_timezone(&Utc),
        }
    }
}

/// The instant of an optional `--now` in the settings' zone `tz`; the clock when absent.
pub fn now_or_clock(now: Option<Now>, tz: Tz) -> DateTime<Utc> {
    now.map_or_else(crate::clock::wall, |n| n.instant(tz))
}

/// Reads a `--now` value (clap's value parser).
pub fn parse_now(s: &str) -> Result<Now, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Now::Instant(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Now::Local(d.and_time(NaiveTime::MIN)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(Now::Local)
        .ok_or_else(|| {
            format!("\"{}\" is not a date or time; write an RFC 3339 instant (2026-11-30T06:00:00Z, 2026-11-30T07:00:00+01:00), a local date (2026-11-30, its midnight) or a local date-time (2026-11-30T07:00 or \"2026-11-30 07:00\"), read in the settings' time zone", s.escape_default())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str, tz: Tz) -> String {
        parse_now(s)
            .unwrap()
            .instant(tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn forms() {
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(at("2026-11-30T06:00:00Z", paris), "2026-11-30T06:00:00Z");
        assert_eq!(
            at("2026-11-30T07:00:00+01:00", paris),
            "2026-11-30T06:00:00Z"
        );
        assert_eq!(at("2026-11-30", paris), "2026-11-29T23:00:00Z");
        assert_eq!(at("2026-11-30T07:00", paris), "2026-11-30T06:00:00Z");
        assert_eq!(at("2026-11-30 07:00", paris), "2026-11-30T06:00:00Z");
        assert_eq!(at("2026-11-30 07:00:30", paris), "2026-11-30T06:00:30Z");
        assert_eq!(at("2026-07-01", paris), "2026-06-30T22:00:00Z");
        // In a spring-forward gap: the end of the gap. Ambiguous: the earlier instant.
        assert_eq!(at("2026-03-29T02:30", paris), "2026-03-29T01:00:00Z");
        assert_eq!(at("2026-10-25T02:30", paris), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn refusals() {
        for bad in [
            "tomorrow",
            "2026-11-31",
            "2026-11-30T25:00",
            "30/11/2026",
            "",
        ] {
            let e = parse_now(bad).unwrap_err();
            assert!(e.contains("is not a date or time"), "{bad}: {e}");
        }
    }
}
