//! Turning local wall-clock date-times into instants, with the brief's rules for the
//! days a zone changes its offset: a local time inside a spring-forward gap moves to the
//! first instant after the gap; an ambiguous fall-back time takes the earlier instant.
//! Also the calendar helpers (months, quarters, clamped days) the windows need.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// The instant of a local date-time in `tz`, by the gap and overlap rules.
pub fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t,
        LocalResult::Ambiguous(a, b) => a.min(b),
        LocalResult::None => first_instant_after_gap(tz, local),
    }
}

/// `local` does not exist in `tz`: find the first instant whose local time is at or
/// after it, i.e. the instant the clocks jumped over it.
fn first_instant_after_gap(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    // Walk forward a minute at a time to the first valid local minute (gaps are at most
    // a day long, e.g. Pacific/Apia skipping 2011-12-30), then narrow down to the second:
    // transitions of old zones are not always on a whole minute.
    let mut probe = local;
    let valid = loop {
        probe += Duration::minutes(1);
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => break t,
            LocalResult::Ambiguous(a, b) => break a.min(b),
            LocalResult::None => {
                assert!(
                    probe - local < Duration::hours(49),
                    "no end to a gap in {tz}"
                );
            }
        }
    };
    let after = valid.timestamp();
    let (mut lo, mut hi) = (after - 60, after);
    // Invariant: the instant `hi` maps to a local time >= `local`; `lo` may not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let t = tz.timestamp_opt(mid, 0).unwrap();
        if t.naive_local() >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let lo_t = tz.timestamp_opt(lo, 0).unwrap();
    if lo_t.naive_local() >= local {
        lo_t
    } else {
        tz.timestamp_opt(hi, 0).unwrap()
    }
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first_next = NaiveDate::from_ymd_opt(ny, nm, 1).expect("valid month");
    first_next.pred_opt().expect("valid date").day()
}

/// Months since year 0, so that month arithmetic is integer arithmetic.
pub fn month_index(d: NaiveDate) -> i64 {
    d.year() as i64 * 12 + d.month0() as i64
}

pub fn quarter_index(d: NaiveDate) -> i64 {
    month_index(d).div_euclid(3)
}

/// Day `day` (clamped to the month's length) of the month with index `m`.
pub fn clamped_day_of_month(m: i64, day: u32) -> NaiveDate {
    let year = m.div_euclid(12) as i32;
    let month = m.rem_euclid(12) as u32 + 1;
    let day = day.min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day).expect("clamped date is valid")
}

pub fn first_of_month(m: i64) -> NaiveDate {
    clamped_day_of_month(m, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn ldt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn gap_moves_to_first_instant_after() {
        // 2026-03-08 02:30 does not exist in New York: clocks go 02:00 EST -> 03:00 EDT.
        let t = resolve(chrono_tz::America::New_York, ldt("2026-03-08 02:30"));
        assert_eq!(t.to_rfc3339(), "2026-03-08T03:00:00-04:00");
        // Lord Howe moves 30 minutes: 02:00 -> 02:30 on 2026-10-04.
        let t = resolve(chrono_tz::Australia::Lord_Howe, ldt("2026-10-04 02:10"));
        assert_eq!(t.to_rfc3339(), "2026-10-04T02:30:00+11:00");
        // Apia skipped all of 2011-12-30.
        let t = resolve(chrono_tz::Pacific::Apia, ldt("2011-12-30 06:00"));
        assert_eq!(t.to_rfc3339(), "2011-12-31T00:00:00+14:00");
    }

    #[test]
    fn ambiguous_takes_earlier_instant() {
        let t = resolve(chrono_tz::Europe::Berlin, ldt("2026-10-25 02:30"));
        assert_eq!(t.to_rfc3339(), "2026-10-25T02:30:00+02:00");
        let t = resolve(chrono_tz::Australia::Lord_Howe, ldt("2026-04-05 01:45"));
        assert_eq!(t.to_rfc3339(), "2026-04-05T01:45:00+11:00");
    }

    #[test]
    fn month_helpers() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(2026, 12), 31);
        let feb = month_index(NaiveDate::from_ymd_opt(2026, 2, 10).unwrap());
        assert_eq!(
            clamped_day_of_month(feb, 31),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            clamped_day_of_month(feb - 2, 31),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
        assert_eq!(
            quarter_index(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()) % 4,
            1
        );
    }
}
