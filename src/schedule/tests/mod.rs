//! Table-driven tests of the planner: rows of `run_on`, `delay` and `previous_time` for
//! every frequency, the "today minus two" Wednesday example, `send_at` with
//! `included_range_days`, month ends, quarters, `every`/`start`/`stop`; `dst` holds the DST cases in five zones and `properties`
//! the properties over random zones and dates.

mod dst;
mod named;
mod properties;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn hm(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn ldt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn recurring(frequency: Frequency, run_on: u32, at: &str, window: WindowRule) -> Schedule {
    Schedule::Recurring(Recurring {
        frequency,
        every: 1,
        run_on,
        at: hm(at),
        window,
        start: None,
        stop: None,
    })
}

fn offset(delay: u32, previous: u32) -> WindowRule {
    WindowRule::Offset { delay, previous }
}

/// The first slot at or after `now`, as RFC 3339 strings (run_at, from, to).
fn first(schedule: &Schedule, tz: Tz, now: &str) -> (String, String, String) {
    let now = t(now);
    let s = Plan::new(schedule, tz, now).slots_from(now).next().unwrap();
    (
        s.run_at.to_rfc3339(),
        s.window.from.to_rfc3339(),
        s.window.to.to_rfc3339(),
    )
}

fn slots(schedule: &Schedule, tz: Tz, now: &str, n: usize) -> Vec<Slot> {
    let now = t(now);
    Plan::new(schedule, tz, now)
        .slots_from(now)
        .take(n)
        .collect()
}

const NY: Tz = chrono_tz::America::New_York;

/// Hourly with `delay` and `previous_time`: (run_on minute, delay min, previous min,
/// description) → first run at or after 2026-11-23 10:00 New York, and its window.
#[test]
fn hourly_delay_and_previous_time_rows() {
    let rows = [
        (
            0,
            0,
            60,
            "On the hour for the previous 60 min",
            "2026-11-23T10:00:00-05:00",
            "2026-11-23T09:00:00-05:00",
            "2026-11-23T10:00:00-05:00",
        ),
        (
            0,
            30,
            30,
            "On the hour for the first 30 min of previous hour",
            "2026-11-23T10:00:00-05:00",
            "2026-11-23T09:00:00-05:00",
            "2026-11-23T09:30:00-05:00",
        ),
        (
            35,
            5,
            30,
            "At 35 past the hour for the first 30 min of the hour",
            "2026-11-23T10:35:00-05:00",
            "2026-11-23T10:00:00-05:00",
            "2026-11-23T10:30:00-05:00",
        ),
        (
            15,
            15,
            120,
            "At 15 past the hour for the previous 2 full hours",
            "2026-11-23T10:15:00-05:00",
            "2026-11-23T08:00:00-05:00",
            "2026-11-23T10:00:00-05:00",
        ),
        (
            45,
            15,
            60,
            "At 45 past each hour, for 60 min (hour -1 :30 to hour:30)",
            "2026-11-23T10:45:00-05:00",
            "2026-11-23T09:30:00-05:00",
            "2026-11-23T10:30:00-05:00",
        ),
    ];
    for (run_on, delay, prev, what, run, from, to) in rows {
        let s = recurring(Frequency::Hourly, run_on, "00:00", offset(delay, prev));
        assert_eq!(
            first(&s, NY, "2026-11-23T10:00:00-05:00"),
            (run.into(), from.into(), to.into()),
            "hourly {run_on}/{delay}/{prev}: {what}"
        );
    }
}

/// Daily with `delay` and `previous_time`: (run_on hour, delay h, previous h).
#[test]
fn daily_delay_and_previous_time_rows() {
    let rows = [
        (
            0,
            0,
            24,
            "Start @ 0:00 for the past full day (24 hours)",
            "2026-11-23T00:00:00-05:00",
            "2026-11-22T00:00:00-05:00",
            "2026-11-23T00:00:00-05:00",
        ),
        (
            13,
            1,
            24,
            "Start @ 1:00 PM for the past 24 hrs (day -1 12:00 PM to 12:00PM)",
            "2026-11-23T13:00:00-05:00",
            "2026-11-22T12:00:00-05:00",
            "2026-11-23T12:00:00-05:00",
        ),
        (
            2,
            2,
            48,
            "Start @ 2:00 for the past full 2 days >=day-2@00:00 and < day:00:00",
            "2026-11-23T02:00:00-05:00",
            "2026-11-21T00:00:00-05:00",
            "2026-11-23T00:00:00-05:00",
        ),
    ];
    for (run_on, delay, prev, what, run, from, to) in rows {
        let at = format!("{run_on:02}:00");
        let s = recurring(Frequency::Daily, run_on, &at, offset(delay, prev));
        assert_eq!(
            first(&s, NY, "2026-11-23T00:00:00-05:00"),
            (run.into(), from.into(), to.into()),
            "daily {run_on}/{delay}/{prev}: {what}"
        );
    }
}

/// Weekly with `delay` and `previous_time`: (ISO weekday, delay days, previous days),
/// runs at 0:00.
/// 2026-11-23 is a Monday.
#[test]
fn weekly_delay_and_previous_time_rows() {
    let rows = [
        (
            1,
            0,
            7,
            "Monday @ 0:00 for the previous week (Mon->Sun)",
            "2026-11-23T00:00:00-05:00",
            "2026-11-16T00:00:00-05:00",
            "2026-11-23T00:00:00-05:00",
        ),
        (
            1,
            1,
            7,
            "Monday @ 0:00 for the previous week (Sun->Sat)",
            "2026-11-23T00:00:00-05:00",
            "2026-11-15T00:00:00-05:00",
            "2026-11-22T00:00:00-05:00",
        ),
        (
            6,
            0,
            5,
            "Saturday @ 0:00 for the previous weekday (Mon->Fri)",
            "2026-11-28T00:00:00-05:00",
            "2026-11-23T00:00:00-05:00",
            "2026-11-28T00:00:00-05:00",
        ),
        (
            1,
            0,
            2,
            "Monday @ 0:00 for the previous weekend (Sat,Sun)",
            "2026-11-23T00:00:00-05:00",
            "2026-11-21T00:00:00-05:00",
            "2026-11-23T00:00:00-05:00",
        ),
    ];
    for (run_on, delay, prev, what, run, from, to) in rows {
        let s = recurring(Frequency::Weekly, run_on, "00:00", offset(delay, prev));
        assert_eq!(
            first(&s, NY, "2026-11-23T00:00:00-05:00"),
            (run.into(), from.into(), to.into()),
            "weekly {run_on}/{delay}/{prev}: {what}"
        );
    }
}

/// Monthly with `delay` and `previous_time`: (day of month, delay days, previous
/// months), runs at 0:00.
#[test]
fn monthly_delay_and_previous_time_rows() {
    let rows = [
        (
            1,
            0,
            1,
            "1st of the month @ 0:00 for the entire previous month",
            "2026-12-01T00:00:00-05:00",
            "2026-11-01T00:00:00-04:00",
            "2026-12-01T00:00:00-05:00",
        ),
        (
            15,
            14,
            2,
            "15th of the month @ 0:00 for the previous 2 months",
            "2026-12-15T00:00:00-05:00",
            "2026-10-01T00:00:00-04:00",
            "2026-12-01T00:00:00-05:00",
        ),
        (
            16,
            0,
            2,
            "16th for the previous month and 1/2 (1st of month -1 to 15 of current month)",
            "2026-12-16T00:00:00-05:00",
            "2026-11-01T00:00:00-04:00",
            "2026-12-16T00:00:00-05:00",
        ),
        (
            1,
            0,
            6,
            "1st of the month @ 0:00 for the previous 6 months",
            "2026-12-01T00:00:00-05:00",
            "2026-06-01T00:00:00-04:00",
            "2026-12-01T00:00:00-05:00",
        ),
    ];
    for (run_on, delay, prev, what, run, from, to) in rows {
        let s = recurring(Frequency::Monthly, run_on, "00:00", offset(delay, prev));
        assert_eq!(
            first(&s, NY, "2026-11-24T00:00:00-05:00"),
            (run.into(), from.into(), to.into()),
            "monthly {run_on}/{delay}/{prev}: {what}"
        );
    }
}

/// Without `previous_time`: scheduled at 06:00 in the data zone, "until today minus two": a report
/// arriving on Wednesday covers data up to the end of Monday; Thursday's brings Tuesday.
#[test]
fn daily_today_minus_two() {
    let s = recurring(Frequency::Daily, 6, "06:00", WindowRule::TodayMinusTwo);
    let got = slots(&s, NY, "2026-11-25T00:00:00-05:00", 2);
    // 2026-11-25 is a Wednesday.
    assert_eq!(got[0].run_at.to_rfc3339(), "2026-11-25T06:00:00-05:00");
    assert_eq!(got[0].window.first_day().to_string(), "2026-11-23");
    assert_eq!(got[0].window.last_day().to_string(), "2026-11-23");
    assert_eq!(got[0].window.to.to_rfc3339(), "2026-11-24T00:00:00-05:00");
    assert_eq!(got[1].window.last_day().to_string(), "2026-11-24");

    // Every 3 days: three days up to the end of the day before yesterday.
    let s = Schedule::Recurring(Recurring {
        every: 3,
        start: Some(ldt("2026-11-01 00:00")),
        ..match recurring(Frequency::Daily, 6, "06:00", WindowRule::TodayMinusTwo) {
            Schedule::Recurring(r) => r,
            _ => unreachable!(),
        }
    });
    let got = slots(&s, NY, "2026-11-24T00:00:00-05:00", 2);
    assert_eq!(got[0].run_at.to_rfc3339(), "2026-11-25T06:00:00-05:00");
    assert_eq!(got[0].window.from.to_rfc3339(), "2026-11-21T00:00:00-05:00");
    assert_eq!(got[0].window.to.to_rfc3339(), "2026-11-24T00:00:00-05:00");
    assert_eq!(got[1].run_at.to_rfc3339(), "2026-11-28T06:00:00-05:00");
    assert_eq!(got[1].window.from, got[0].window.to);
}

/// `send_at`: daily at that UTC time, covering the N whole UTC days before the run date.
#[test]
fn send_at_included_range_days() {
    for (days, from) in [
        (1, "2026-11-22T00:00:00+00:00"),
        (3, "2026-11-20T00:00:00+00:00"),
        (7, "2026-11-16T00:00:00+00:00"),
    ] {
        let s = Schedule::SendAt {
            at: hm("09:30"),
            days,
        };
        let (run, f, to) = first(&s, Tz::UTC, "2026-11-23T09:00:00Z");
        assert_eq!(run, "2026-11-23T09:30:00+00:00");
        assert_eq!(f, from, "included_range_days = {days}");
        assert_eq!(to, "2026-11-23T00:00:00+00:00");
    }
    // After today's send time, the next run is tomorrow's.
    let s = Schedule::SendAt {
        at: hm("09:30"),
        days: 1,
    };
    assert_eq!(
        first(&s, Tz::UTC, "2026-11-23T09:30:01Z").0,
        "2026-11-24T09:30:00+00:00"
    );
}

/// Monthly `run_on = 31` clamps to the last day, in leap and common years, and the
/// default windows of consecutive runs tile.
#[test]
fn monthly_31_clamps_in_february() {
    let s = recurring(Frequency::Monthly, 31, "06:00", WindowRule::TodayMinusTwo);
    for (now, feb_day) in [
        ("2024-02-01T00:00:00Z", "2024-02-29"),
        ("2026-02-01T00:00:00Z", "2026-02-28"),
    ] {
        let got = slots(&s, Tz::UTC, now, 3);
        assert_eq!(got[0].run_at.date_naive().to_string(), feb_day);
        assert_eq!(got[1].run_at.date_naive().to_string()[5..], *"03-31");
        assert_eq!(got[2].run_at.date_naive().to_string()[5..], *"04-30");
        assert_eq!(got[0].window.to, got[1].window.from);
        assert_eq!(got[1].window.to, got[2].window.from);
    }
    // February's window: from the day before January's run to the day before yesterday.
    let feb = &slots(&s, Tz::UTC, "2024-02-01T00:00:00Z", 1)[0];
    assert_eq!(feb.window.first_day().to_string(), "2024-01-30");
    assert_eq!(feb.window.last_day().to_string(), "2024-02-27");

    // `previous_time = 1` monthly: the whole previous month, whatever its length.
    let s = recurring(Frequency::Monthly, 31, "00:00", offset(0, 1));
    let mar = &slots(&s, Tz::UTC, "2024-03-01T00:00:00Z", 1)[0];
    assert_eq!(mar.run_at.date_naive().to_string(), "2024-03-31");
    assert_eq!(mar.window.first_day().to_string(), "2024-03-01");
    assert_eq!(mar.window.last_day().to_string(), "2024-03-30");
}

#[test]
fn quarterly() {
    // Calendar quarters: on the 1st of Jan/Apr/Jul/Oct, for the previous quarter.
    let s = recurring(Frequency::Quarterly, 1, "06:00", offset(0, 1));
    let got = slots(&s, NY, "2026-02-10T00:00:00Z", 3);
    let runs: Vec<_> = got
        .iter()
        .map(|s| s.run_at.date_naive().to_string())
        .collect();
    assert_eq!(runs, ["2026-04-01", "2026-07-01", "2026-10-01"]);
    assert_eq!(got[0].window.from.to_rfc3339(), "2026-01-01T00:00:00-05:00");
    assert_eq!(got[0].window.to.to_rfc3339(), "2026-04-01T00:00:00-04:00");
    // Two quarters, ending 5 days into the quarter.
    let s = recurring(Frequency::Quarterly, 6, "06:00", offset(5, 2));
    let q = &slots(&s, Tz::UTC, "2026-05-01T00:00:00Z", 1)[0];
    assert_eq!(q.run_at.to_rfc3339(), "2026-07-06T06:00:00+00:00");
    assert_eq!(q.window.first_day().to_string(), "2026-01-01");
    assert_eq!(q.window.last_day().to_string(), "2026-06-30");
    // Default: one quarter up to the day before yesterday; day 31 clamps in April.
    let s = recurring(Frequency::Quarterly, 31, "06:00", WindowRule::TodayMinusTwo);
    let got = slots(&s, Tz::UTC, "2026-01-01T00:00:00Z", 2);
    assert_eq!(got[0].run_at.date_naive().to_string(), "2026-01-31");
    assert_eq!(got[1].run_at.date_naive().to_string(), "2026-04-30");
    assert_eq!(got[1].window.first_day().to_string(), "2026-01-30");
    assert_eq!(got[1].window.last_day().to_string(), "2026-04-28");
}

#[test]
fn every_counts_from_start_and_stop_ends() {
    let base = |frequency, run_on, every, start: &str, stop: Option<&str>| {
        Schedule::Recurring(Recurring {
            frequency,
            every,
            run_on,
            at: hm("06:00"),
            window: WindowRule::TodayMinusTwo,
            start: Some(ldt(start)),
            stop: stop.map(ldt),
        })
    };
    let days = |s: &Schedule, now: &str, n: usize| -> Vec<String> {
        slots(s, Tz::UTC, now, n)
            .iter()
            .map(|x| x.run_at.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    };
    // Every 2 days from Nov 1: odd days only.
    let s = base(Frequency::Daily, 6, 2, "2026-11-01 00:00", None);
    assert_eq!(
        days(&s, "2026-11-10T00:00:00Z", 2),
        ["2026-11-11 06:00", "2026-11-13 06:00"]
    );
    // Before start: the first run is at start (not before).
    let s = base(Frequency::Daily, 6, 1, "2026-12-01 07:00", None);
    assert_eq!(days(&s, "2026-11-10T00:00:00Z", 1), ["2026-12-02 06:00"]);
    // Every 2 weeks on Wednesday, counted from the week of Mon 2026-11-02.
    let s = base(Frequency::Weekly, 3, 2, "2026-11-02 00:00", None);
    assert_eq!(
        days(&s, "2026-11-05T00:00:00Z", 2),
        ["2026-11-18 06:00", "2026-12-02 06:00"]
    );
    // Every 3 months on the 1st from mid-January: January's run is before start.
    let s = base(Frequency::Monthly, 1, 3, "2026-01-15 00:00", None);
    assert_eq!(
        days(&s, "2026-01-01T00:00:00Z", 2),
        ["2026-04-01 06:00", "2026-07-01 06:00"]
    );
    let april = &slots(&s, Tz::UTC, "2026-01-01T00:00:00Z", 1)[0];
    assert_eq!(april.window.first_day().to_string(), "2025-12-31");
    // Every 2 quarters.
    let s = base(Frequency::Quarterly, 1, 2, "2026-01-01 00:00", None);
    assert_eq!(
        days(&s, "2026-01-02T00:00:00Z", 2),
        ["2026-07-01 06:00", "2027-01-01 06:00"]
    );
    // Every 3 hours from 01:00.
    let s = Schedule::Recurring(Recurring {
        run_on: 10,
        ..match base(Frequency::Hourly, 10, 3, "2026-11-01 01:00", None) {
            Schedule::Recurring(r) => r,
            _ => unreachable!(),
        }
    });
    assert_eq!(
        days(&s, "2026-11-01T05:00:00Z", 2),
        ["2026-11-01 07:10", "2026-11-01 10:10"]
    );
    let w = &slots(&s, Tz::UTC, "2026-11-01T05:00:00Z", 1)[0].window;
    assert_eq!(
        (w.from.to_rfc3339(), w.to.to_rfc3339()),
        (
            "2026-11-01T04:00:00+00:00".into(),
            "2026-11-01T07:00:00+00:00".into()
        )
    );
    // No run at or after stop.
    let s = base(
        Frequency::Daily,
        6,
        1,
        "2026-11-01 00:00",
        Some("2026-11-03 06:00"),
    );
    assert_eq!(
        days(&s, "2026-11-01T00:00:00Z", 5),
        ["2026-11-01 06:00", "2026-11-02 06:00"]
    );
}

#[test]
fn once_and_asap() {
    let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let s = Schedule::Once {
        at: OnceAt::At(ldt("2026-12-01 08:00")),
        from,
        to,
    };
    let got = slots(&s, NY, "2026-11-23T00:00:00Z", 5);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].run_at.to_rfc3339(), "2026-12-01T08:00:00-05:00");
    assert_eq!(got[0].window.from.to_rfc3339(), "2026-11-01T00:00:00-04:00");
    assert_eq!(got[0].window.to.to_rfc3339(), "2026-12-01T00:00:00-05:00");
    assert!(slots(&s, NY, "2026-12-01T13:00:01Z", 1).is_empty());
    let s = Schedule::Once {
        at: OnceAt::Asap,
        from,
        to,
    };
    let now = t("2026-11-23T12:34:56Z");
    let got: Vec<_> = Plan::new(&s, NY, now).slots_from(now).collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].run_at, now);
}
