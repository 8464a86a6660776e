//! Named windows (`window = "yesterday"`, …): a hand-computed table across a DST change
//! and a month end, and the properties: windows tile whenever their length is the
//! schedule's period, they are local midnight to local midnight, and `at` does not
//! move them.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveTime, Utc, Weekday};
use proptest::prelude::*;

use super::properties::{dst_instants, dst_zones, local_midnight, nominal_date};
use super::*;

fn named(frequency: Frequency, run_on: u32, at: &str, w: NamedWindow) -> Schedule {
    recurring(frequency, run_on, at, WindowRule::Named(w))
}

/// Daily at 07:00 Paris, first run at or after `now`: (from, to) for each window.
/// 2026-03-29 is the spring change in Paris (02:00 → 03:00, +01:00 → +02:00).
#[test]
fn named_windows_by_hand_in_paris() {
    use NamedWindow::*;
    let paris = chrono_tz::Europe::Paris;
    let rows = [
        // Run on Monday 2026-03-30.
        (
            Yesterday,
            "2026-03-29T23:00:00Z",
            "2026-03-29T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        ),
        (
            DayBeforeYesterday,
            "2026-03-29T23:00:00Z",
            "2026-03-28T00:00:00+01:00",
            "2026-03-29T00:00:00+01:00",
        ),
        (
            LastDays(3),
            "2026-03-29T23:00:00Z",
            "2026-03-27T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        ),
        (
            PreviousWeek,
            "2026-03-29T23:00:00Z",
            "2026-03-23T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        ),
        (
            WeekToDate,
            "2026-03-29T23:00:00Z",
            "2026-03-23T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        ),
        // Run on Tuesday 2026-03-31.
        (
            WeekToDate,
            "2026-03-30T23:00:00Z",
            "2026-03-30T00:00:00+02:00",
            "2026-03-31T00:00:00+02:00",
        ),
        (
            MonthToDate,
            "2026-03-30T23:00:00Z",
            "2026-03-01T00:00:00+01:00",
            "2026-03-31T00:00:00+02:00",
        ),
        (
            PreviousMonth,
            "2026-03-30T23:00:00Z",
            "2026-02-01T00:00:00+01:00",
            "2026-03-01T00:00:00+01:00",
        ),
        // Run on Wednesday 2026-04-01: month_to_date is the whole of March.
        (
            MonthToDate,
            "2026-03-31T23:00:00Z",
            "2026-03-01T00:00:00+01:00",
            "2026-04-01T00:00:00+02:00",
        ),
        (
            PreviousQuarter,
            "2026-03-31T23:00:00Z",
            "2026-01-01T00:00:00+01:00",
            "2026-04-01T00:00:00+02:00",
        ),
        (
            PreviousMonth,
            "2026-03-31T23:00:00Z",
            "2026-03-01T00:00:00+01:00",
            "2026-04-01T00:00:00+02:00",
        ),
        // Run on 2024-03-01, after a leap day.
        (
            Yesterday,
            "2024-02-29T23:00:00Z",
            "2024-02-29T00:00:00+01:00",
            "2024-03-01T00:00:00+01:00",
        ),
        (
            LastDays(366),
            "2024-02-29T23:00:00Z",
            "2023-03-01T00:00:00+01:00",
            "2024-03-01T00:00:00+01:00",
        ),
    ];
    for (w, now, from, to) in rows {
        let got = first(&named(Frequency::Daily, 0, "07:00", w), paris, now);
        assert_eq!(
            (got.1.as_str(), got.2.as_str()),
            (from, to),
            "{w:?} at {now}"
        );
    }
}

/// The one-day-length named windows of a daily schedule at an `at` in a gap: the run
/// moves, the window does not.
#[test]
fn a_run_moved_by_a_gap_keeps_its_day() {
    let s = named(Frequency::Daily, 0, "02:30", NamedWindow::Yesterday);
    let got = first(&s, chrono_tz::Europe::Paris, "2026-03-29T00:00:00Z");
    assert_eq!(
        got,
        (
            "2026-03-29T03:00:00+02:00".to_string(),
            "2026-03-28T00:00:00+01:00".to_string(),
            "2026-03-29T00:00:00+01:00".to_string()
        )
    );
}

/// The run's local date and the dates a named window covers, computed independently of
/// the planner with chrono's calendar arithmetic.
fn expected_dates(w: NamedWindow, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let month_start = day.with_day(1).unwrap();
    let week_start = day.week(Weekday::Mon).first_day();
    let prev_month = month_start.checked_sub_months(Months::new(1)).unwrap();
    let q_start = NaiveDate::from_ymd_opt(day.year(), (day.month0() / 3) * 3 + 1, 1).unwrap();
    match w {
        NamedWindow::Yesterday => (day.pred_opt().unwrap(), day),
        NamedWindow::DayBeforeYesterday => (day - Duration::days(2), day.pred_opt().unwrap()),
        NamedWindow::LastDays(n) => (day - Duration::days(n.into()), day),
        NamedWindow::PreviousWeek => (week_start - Duration::days(7), week_start),
        NamedWindow::PreviousMonth => (prev_month, month_start),
        NamedWindow::PreviousQuarter => {
            (q_start.checked_sub_months(Months::new(3)).unwrap(), q_start)
        }
        NamedWindow::WeekToDate if day == week_start => {
            (week_start - Duration::days(7), week_start)
        }
        NamedWindow::WeekToDate => (week_start, day),
        NamedWindow::MonthToDate if day == month_start => (prev_month, month_start),
        NamedWindow::MonthToDate => (month_start, day),
    }
}

fn any_named() -> impl Strategy<Value = NamedWindow> {
    use NamedWindow::*;
    prop_oneof![
        Just(Yesterday),
        Just(DayBeforeYesterday),
        (1u32..=366).prop_map(LastDays),
        Just(PreviousWeek),
        Just(PreviousMonth),
        Just(PreviousQuarter),
        Just(WeekToDate),
        Just(MonthToDate),
    ]
}

fn any_frequency() -> impl Strategy<Value = (Frequency, u32)> {
    prop_oneof![
        Just(Frequency::Daily).prop_map(|f| (f, 0)),
        (1u32..8).prop_map(|d| (Frequency::Weekly, d)),
        (1u32..32).prop_map(|d| (Frequency::Monthly, d)),
        (1u32..32).prop_map(|d| (Frequency::Quarterly, d)),
    ]
}

fn at_times() -> impl Strategy<Value = NaiveTime> {
    // Night hours, where the DST changes are, more often than the rest.
    (
        prop_oneof![Just(0u32), Just(1), Just(2), Just(3), 0u32..24],
        0u32..60,
    )
        .prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

fn with_at(s: &Schedule, at: NaiveTime) -> Schedule {
    let Schedule::Recurring(r) = s else {
        unreachable!()
    };
    Schedule::Recurring(Recurring { at, ..r.clone() })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A window whose length is the schedule's period tiles time: yesterday + daily,
    /// previous_week + weekly, previous_month + monthly, previous_quarter + quarterly.
    #[test]
    fn named_windows_of_one_period_tile(tz in dst_zones(), now in dst_instants(),
                                        at in at_times(), day in 1u32..32, kind in 0usize..4) {
        let (freq, w, run_on) = [
            (Frequency::Daily, NamedWindow::Yesterday, 0),
            (Frequency::Weekly, NamedWindow::PreviousWeek, day % 7 + 1),
            (Frequency::Monthly, NamedWindow::PreviousMonth, day),
            (Frequency::Quarterly, NamedWindow::PreviousQuarter, day),
        ][kind];
        let s = with_at(&named(freq, run_on, "00:00", w), at);
        let got: Vec<Slot> = Plan::new(&s, tz, now).slots_from(now).take(6).collect();
        for pair in got.windows(2) {
            prop_assert_eq!(pair[0].window.to, pair[1].window.from, "{:?}", pair);
        }
    }

    /// Every named window with every frequency covers exactly the local dates its name
    /// says, from local midnight to local midnight (by the gap rule), and `at` does not
    /// change it.
    #[test]
    fn named_windows_are_the_dates_they_name(tz in dst_zones(), now in dst_instants(),
                                             at in at_times(), other_at in at_times(),
                                             (freq, run_on) in any_frequency(), w in any_named()) {
        let s = with_at(&named(freq, run_on, "00:00", w), at);
        let slot = Plan::new(&s, tz, now).slots_from(now).next().unwrap();
        let day = nominal_date(tz, at, slot.run_at);
        let (first, end) = expected_dates(w, day);
        prop_assert_eq!(slot.window.from, local_midnight(tz, first));
        prop_assert_eq!(slot.window.to, local_midnight(tz, end));
        // The same day's run at another time of day covers the same window.
        let moved = with_at(&s, other_at);
        let run = local::resolve(tz, day.and_time(other_at)).with_timezone(&Utc);
        let other = Plan::new(&moved, tz, run).slot_at(run);
        prop_assert_eq!(other.window, slot.window);
    }
}
