//! Table-driven tests of the planner: rows of `run_on`, `delay` and `previous_time` for
//! every frequency, the "today minus two" Wednesday example, `send_at` with
//! `included_range_days`, month ends, quarters, `every`/`start`/`stop`, DST in five zones, and properties over random
//! zones and dates.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

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

/// Checks a run of daily slots: one per local day, windows midnight to midnight.
fn assert_daily_wall_clock(tz: Tz, at: &str, from: &str, days: usize) {
    let s = recurring(Frequency::Daily, 0, at, WindowRule::TodayMinusTwo);
    let got = slots(&s, tz, from, days);
    for pair in got.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(
            b.run_at.date_naive(),
            a.run_at.date_naive() + Duration::days(1),
            "{tz}: one run per day at {at}: {} then {}",
            a.run_at,
            b.run_at
        );
        assert_eq!(a.window.to, b.window.from, "{tz}: windows tile");
    }
    for s in &got {
        assert_eq!(s.window.from.time(), NaiveTime::MIN, "{tz}: {s:?}");
        assert_eq!(s.window.to.time(), NaiveTime::MIN, "{tz}: {s:?}");
        assert_eq!(s.window.first_day(), s.window.last_day());
    }
}

#[test]
fn dst_daily_runs_are_never_lost_or_doubled() {
    let cases: [(Tz, &str); 5] = [
        (chrono_tz::America::New_York, "2026-03-05T00:00:00Z"),
        (chrono_tz::Europe::Berlin, "2026-03-26T00:00:00Z"),
        (chrono_tz::Australia::Lord_Howe, "2026-04-01T00:00:00Z"),
        (chrono_tz::Asia::Kolkata, "2026-03-26T00:00:00Z"),
        (chrono_tz::Pacific::Chatham, "2026-04-01T00:00:00Z"),
    ];
    for (tz, spring_or_autumn) in cases {
        for at in [
            "00:00", "01:45", "02:00", "02:30", "03:00", "06:00", "23:30",
        ] {
            assert_daily_wall_clock(tz, at, spring_or_autumn, 10);
        }
    }
    let autumn: [(Tz, &str); 4] = [
        (chrono_tz::America::New_York, "2026-10-28T00:00:00Z"),
        (chrono_tz::Europe::Berlin, "2026-10-22T00:00:00Z"),
        (chrono_tz::Australia::Lord_Howe, "2026-10-01T00:00:00Z"),
        (chrono_tz::Pacific::Chatham, "2026-09-24T00:00:00Z"),
    ];
    for (tz, from) in autumn {
        for at in [
            "00:00", "01:45", "02:00", "02:30", "02:50", "03:00", "06:00",
        ] {
            assert_daily_wall_clock(tz, at, from, 10);
        }
    }
}

#[test]
fn dst_gap_and_overlap_rules() {
    // New York springs forward 02:00 -> 03:00 on 2026-03-08: a 02:30 run moves to 03:00.
    let s = recurring(Frequency::Daily, 0, "02:30", WindowRule::TodayMinusTwo);
    let got = slots(&s, NY, "2026-03-07T12:00:00Z", 2);
    assert_eq!(got[0].run_at.to_rfc3339(), "2026-03-08T03:00:00-04:00");
    assert_eq!(got[1].run_at.to_rfc3339(), "2026-03-09T02:30:00-04:00");
    // The 23-hour day is still covered midnight to midnight.
    let w = got[1].window;
    assert_eq!(w.to - w.from, Duration::hours(24));
    let w0 = got[0].window;
    assert_eq!(w0.first_day().to_string(), "2026-03-06");
    // Berlin falls back 03:00 -> 02:00 on 2026-10-25: a 02:30 run happens once, at the
    // earlier instant; the 25-hour day is one window.
    let s = recurring(Frequency::Daily, 0, "02:30", WindowRule::TodayMinusTwo);
    let got = slots(&s, chrono_tz::Europe::Berlin, "2026-10-24T12:00:00Z", 3);
    assert_eq!(got[0].run_at.to_rfc3339(), "2026-10-25T02:30:00+02:00");
    assert_eq!(got[1].run_at.to_rfc3339(), "2026-10-26T02:30:00+01:00");
    assert_eq!(got[2].window.to - got[2].window.from, Duration::hours(25));
    // Lord Howe's half-hour shift: 02:00 -> 02:30 on 2026-10-04.
    let s = recurring(Frequency::Daily, 0, "02:15", WindowRule::TodayMinusTwo);
    let lh = chrono_tz::Australia::Lord_Howe;
    let got = slots(&s, lh, "2026-10-03T00:00:00Z", 2);
    assert_eq!(got[0].run_at.to_rfc3339(), "2026-10-04T02:30:00+11:00");
    assert_eq!(got[1].run_at.to_rfc3339(), "2026-10-05T02:15:00+11:00");
    // Daily `previous_time = 24` across a change is wall clock: noon to noon.
    let s = recurring(Frequency::Daily, 13, "13:00", offset(1, 24));
    let got = slots(&s, NY, "2026-03-08T00:00:00Z", 1);
    assert_eq!(got[0].window.from.to_rfc3339(), "2026-03-07T12:00:00-05:00");
    assert_eq!(got[0].window.to.to_rfc3339(), "2026-03-08T12:00:00-04:00");
}

#[test]
fn dst_hourly_is_elapsed_time() {
    for (tz, around) in [
        (chrono_tz::America::New_York, "2026-03-08T05:00:00Z"),
        (chrono_tz::America::New_York, "2026-11-01T04:00:00Z"),
        (chrono_tz::Europe::Berlin, "2026-03-29T00:00:00Z"),
        (chrono_tz::Europe::Berlin, "2026-10-24T23:00:00Z"),
        (chrono_tz::Australia::Lord_Howe, "2026-04-04T13:00:00Z"),
        (chrono_tz::Australia::Lord_Howe, "2026-10-03T14:00:00Z"),
        (chrono_tz::Asia::Kolkata, "2026-03-08T00:00:00Z"),
        (chrono_tz::Pacific::Chatham, "2026-04-04T12:00:00Z"),
        (chrono_tz::Pacific::Chatham, "2026-09-26T12:00:00Z"),
    ] {
        for window in [WindowRule::TodayMinusTwo, offset(0, 60)] {
            let s = recurring(Frequency::Hourly, 0, "00:00", window);
            let got = slots(&s, tz, around, 8);
            for pair in got.windows(2) {
                assert_eq!(
                    pair[1].run_at - pair[0].run_at,
                    Duration::hours(1),
                    "{tz} {pair:?}"
                );
                assert_eq!(pair[0].window.to, pair[1].window.from, "{tz}: windows tile");
            }
        }
    }
    // On New York's fall-back night both 01:00s run, an hour apart.
    let s = recurring(Frequency::Hourly, 0, "00:00", WindowRule::TodayMinusTwo);
    let got = slots(&s, NY, "2026-11-01T04:30:00Z", 3);
    let runs: Vec<_> = got.iter().map(|s| s.run_at.to_rfc3339()).collect();
    assert_eq!(
        runs,
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T02:00:00-05:00"
        ]
    );
    // Kolkata (+05:30): minute 0 is local minute 0.
    let got = slots(&s, chrono_tz::Asia::Kolkata, "2026-03-08T00:00:00Z", 1);
    assert_eq!(got[0].run_at.minute(), 0);
}

#[test]
fn latest_slot_for_send_test() {
    let s = recurring(Frequency::Weekly, 1, "06:00", WindowRule::TodayMinusTwo);
    let now = t("2026-11-25T12:00:00Z");
    let last = Plan::new(&s, NY, now).latest_at_or_before(now).unwrap();
    assert_eq!(last.run_at.to_rfc3339(), "2026-11-23T06:00:00-05:00");
}

fn zones() -> impl Strategy<Value = Tz> {
    (0..chrono_tz::TZ_VARIANTS.len()).prop_map(|i| chrono_tz::TZ_VARIANTS[i])
}

fn instants() -> impl Strategy<Value = DateTime<Utc>> {
    // 1995 to 2055: modern zone rules, past and planned.
    (788_918_400i64..2_682_374_400i64).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

fn schedules() -> impl Strategy<Value = Schedule> {
    let freq = prop_oneof![
        Just(Frequency::Hourly),
        Just(Frequency::Daily),
        Just(Frequency::Weekly),
        Just(Frequency::Monthly),
        Just(Frequency::Quarterly),
    ];
    (
        freq,
        0u32..60,
        0u32..24,
        0u32..60,
        1u32..7,
        prop::option::of((0u32..4, 1u32..4)),
    )
        .prop_map(|(frequency, minute, hour, at_min, day, offsets)| {
            let run_on = match frequency {
                Frequency::Hourly => minute,
                Frequency::Daily => hour,
                Frequency::Weekly => day,
                _ => day * 5,
            };
            Schedule::Recurring(Recurring {
                frequency,
                every: 1,
                run_on,
                at: NaiveTime::from_hms_opt(hour, at_min, 0).unwrap(),
                window: offsets.map_or(WindowRule::TodayMinusTwo, |(d, p)| offset(d, p)),
                start: None,
                stop: None,
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Run times strictly increase and every window is non-empty.
    #[test]
    fn runs_increase_and_windows_are_not_empty(tz in zones(), now in instants(), s in schedules()) {
        let got: Vec<Slot> = Plan::new(&s, tz, now).slots_from(now).take(6).collect();
        prop_assert_eq!(got.len(), 6);
        prop_assert!(got[0].run_at >= now);
        for pair in got.windows(2) {
            prop_assert!(pair[0].run_at < pair[1].run_at, "{:?}", pair);
        }
        for slot in &got {
            prop_assert!(slot.window.from < slot.window.to, "{:?}", slot);
        }
    }

    /// Default daily and weekly windows tile time: no gap, no overlap.
    #[test]
    fn default_windows_tile(tz in zones(), now in instants(), weekly in any::<bool>(),
                            hour in 0u32..24, min in 0u32..60, day in 1u32..8, every in 1u32..7) {
        let s = Schedule::Recurring(Recurring {
            frequency: if weekly { Frequency::Weekly } else { Frequency::Daily },
            every,
            run_on: day,
            at: NaiveTime::from_hms_opt(hour, min, 0).unwrap(),
            window: WindowRule::TodayMinusTwo,
            start: Some(NaiveDate::from_ymd_opt(1990, 1, 1).unwrap().and_time(NaiveTime::MIN)),
            stop: None,
        });
        let got: Vec<Slot> = Plan::new(&s, tz, now).slots_from(now).take(8).collect();
        for pair in got.windows(2) {
            prop_assert_eq!(pair[0].window.to, pair[1].window.from, "{:?}", pair);
        }
    }
}

/// Zones with DST of every kind (one-hour, Lord Howe's half hour) first, then any zone.
fn dst_zones() -> impl Strategy<Value = Tz> {
    prop_oneof![
        Just(chrono_tz::America::New_York),
        Just(chrono_tz::Europe::London),
        Just(chrono_tz::Australia::Lord_Howe),
        Just(chrono_tz::Europe::London),
        Just(chrono_tz::America::New_York),
        zones(),
    ]
}

/// Instants in the weeks around the DST changes of both hemispheres, or any instant.
fn dst_instants() -> impl Strategy<Value = DateTime<Utc>> {
    let near = (
        1996i32..2054,
        prop::sample::select(vec![3u32, 4, 9, 10, 11]),
        1u32..29,
        0u32..24,
    )
        .prop_map(|(y, m, d, h)| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
                .and_utc()
        });
    prop_oneof![3 => near, 1 => instants()]
}

/// Every recurring form: each frequency, `every` 1–6 (counted from a start long ago),
/// `run_on`/`at` anywhere in their ranges, with or without `delay`/`previous_time`
/// (in the frequency's units and ranges; sometimes exactly one period per run).
fn all_recurring() -> impl Strategy<Value = Schedule> {
    let freq = prop_oneof![
        Just(Frequency::Hourly),
        Just(Frequency::Daily),
        Just(Frequency::Weekly),
        Just(Frequency::Monthly),
        Just(Frequency::Quarterly),
    ];
    (
        freq,
        1u32..7,
        0u32..60,
        // Night hours, where the DST changes are, more often than the rest.
        prop_oneof![Just(1u32), Just(2u32), 0u32..24],
        1u32..32,
        0u32..3,
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(frequency, every, minute, hour, day, rule, d, p)| {
            // (run_on, delay range, previous range, one period in previous_time units)
            let (run_on, delay_max, prev_max, period) = match frequency {
                Frequency::Hourly => (minute, 1440, 1440, 60 * every),
                Frequency::Daily => (hour, 168, 2208, 24 * every),
                Frequency::Weekly => (day % 7 + 1, 31, 92, 7 * every),
                Frequency::Monthly => (day, 31, 12, every),
                Frequency::Quarterly => (day, 92, 4, every),
            };
            let window = match rule {
                0 => WindowRule::TodayMinusTwo,
                1 => offset(d % (delay_max + 1), p % prev_max + 1),
                _ => offset(d % (delay_max + 1), period.min(prev_max)),
            };
            Schedule::Recurring(Recurring {
                frequency,
                every,
                run_on,
                at: NaiveTime::from_hms_opt(hour, minute, 0).unwrap(),
                window,
                start: Some(
                    NaiveDate::from_ymd_opt(1990, 1, 1)
                        .unwrap()
                        .and_time(NaiveTime::MIN),
                ),
                stop: None,
            })
        })
}

fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Tz> {
    local::resolve(tz, d.and_time(NaiveTime::MIN))
}

/// The local date whose slot (at `at`) resolved to `run`.
fn nominal_date(tz: Tz, at: NaiveTime, run: DateTime<Tz>) -> NaiveDate {
    let d = run.date_naive();
    [d, d - Duration::days(1), d - Duration::days(2)]
        .into_iter()
        .find(|d| local::resolve(tz, d.and_time(at)) == run)
        .expect("a run is the resolved local slot of its date or a day or two before")
}

/// The window of one slot, in local wall-clock terms, as the brief's table defines it.
fn check_window(r: &Recurring, tz: Tz, slot: &Slot) -> Result<(), TestCaseError> {
    let w = slot.window;
    let (delay, previous) = match r.window {
        WindowRule::Offset { delay, previous } => (i64::from(delay), i64::from(previous)),
        WindowRule::TodayMinusTwo => (-1, -1),
    };
    if r.frequency == Frequency::Hourly {
        // Elapsed time, back from the run instant.
        let (back, len) = if delay < 0 {
            (i64::from(r.run_on), 60 * i64::from(r.every))
        } else {
            (delay, previous)
        };
        prop_assert_eq!(slot.run_at - w.to, Duration::minutes(back), "{:?}", slot);
        prop_assert_eq!(w.to - w.from, Duration::minutes(len), "{:?}", slot);
        return Ok(());
    }
    let day = nominal_date(tz, r.at, slot.run_at);
    if delay < 0 {
        // Today minus two: ends at local midnight at the start of yesterday.
        prop_assert_eq!(
            w.to,
            local_midnight(tz, day - Duration::days(1)),
            "{:?}",
            slot
        );
        return Ok(());
    }
    match r.frequency {
        Frequency::Daily => {
            // Local wall-clock hours back from the nominal slot time.
            let end = day.and_time(r.at) - Duration::hours(delay);
            prop_assert_eq!(w.to, local::resolve(tz, end), "{:?}", slot);
            let start = end - Duration::hours(previous);
            prop_assert_eq!(w.from, local::resolve(tz, start), "{:?}", slot);
        }
        Frequency::Weekly => {
            let end = day - Duration::days(delay);
            prop_assert_eq!(w.to, local_midnight(tz, end), "{:?}", slot);
            let start = end - Duration::days(previous);
            prop_assert_eq!(w.from, local_midnight(tz, start), "{:?}", slot);
        }
        Frequency::Monthly | Frequency::Quarterly => {
            let end = day - Duration::days(delay);
            prop_assert_eq!(w.to, local_midnight(tz, end), "{:?}", slot);
            // Calendar-aligned: from the 1st of the month (quarter) `previous - 1`
            // periods before the one holding the last included day.
            let months = if r.frequency == Frequency::Monthly {
                1
            } else {
                3
            };
            let first = w.first_day();
            prop_assert_eq!(first.day(), 1, "{:?}", slot);
            prop_assert_eq!(i64::from(first.month0()) % months, 0, "{:?}", slot);
            let last = end - Duration::days(1);
            let span = (local::month_index(last) - local::month_index(first)) / months;
            prop_assert_eq!(span, previous - 1, "{:?}", slot);
            prop_assert_eq!(w.from, local_midnight(tz, first), "{:?}", slot);
        }
        Frequency::Hourly => unreachable!(),
    }
    Ok(())
}

/// Whether consecutive windows of `r` must tile: always for "today minus two"; with
/// `previous_time` when it is exactly one run's period (hourly, daily, weekly), and for
/// months and quarters when every window ends on the 1st (`run_on - delay == 1`).
fn must_tile(r: &Recurring) -> bool {
    match (r.frequency, r.window) {
        (_, WindowRule::TodayMinusTwo) => true,
        (Frequency::Hourly, WindowRule::Offset { previous, .. }) => previous == 60 * r.every,
        (Frequency::Daily, WindowRule::Offset { previous, .. }) => previous == 24 * r.every,
        (Frequency::Weekly, WindowRule::Offset { previous, .. }) => previous == 7 * r.every,
        (_, WindowRule::Offset { delay, previous }) => {
            previous == r.every && r.run_on == delay + 1 && r.run_on <= 28
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Every recurring form, in zones with DST of every kind: each window is exactly
    /// the table's period in local wall-clock terms (elapsed time for hourly), and
    /// consecutive windows tile whenever the window is one period long.
    #[test]
    fn every_form_has_exact_windows_and_tiles(tz in dst_zones(), now in dst_instants(),
                                              s in all_recurring()) {
        let Schedule::Recurring(r) = &s else { unreachable!() };
        let got: Vec<Slot> = Plan::new(&s, tz, now).slots_from(now).take(8).collect();
        prop_assert_eq!(got.len(), 8);
        for slot in &got {
            check_window(r, tz, slot)?;
        }
        if must_tile(r) {
            for pair in got.windows(2) {
                prop_assert_eq!(pair[0].window.to, pair[1].window.from, "{:?}", pair);
            }
        }
    }

    /// The `send_at`/`included_range_days` form: whole UTC days before the run date;
    /// one-day windows tile.
    #[test]
    fn send_at_windows(now in instants(), half_hours in 0u32..48,
                       days in prop::sample::select(vec![1u32, 3, 7])) {
        let at = NaiveTime::from_hms_opt(half_hours / 2, (half_hours % 2) * 30, 0).unwrap();
        let s = Schedule::SendAt { at, days };
        let got: Vec<Slot> = Plan::new(&s, Tz::UTC, now).slots_from(now).take(4).collect();
        for slot in &got {
            prop_assert_eq!(slot.run_at.time(), at);
            let run_day = slot.run_at.date_naive();
            prop_assert_eq!(slot.window.to.naive_utc(), run_day.and_time(NaiveTime::MIN));
            prop_assert_eq!(slot.window.to - slot.window.from, Duration::days(i64::from(days)));
        }
        for pair in got.windows(2) {
            prop_assert_eq!(pair[1].run_at - pair[0].run_at, Duration::days(1));
            if days == 1 {
                prop_assert_eq!(pair[0].window.to, pair[1].window.from);
            }
        }
    }
}
