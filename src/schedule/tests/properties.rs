//! Properties of the planner over random zones, dates and schedules: slots are in order
//! and never repeat, windows tile across DST (or, where they are not meant to, are
//! exactly the window their rule names).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;

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
pub(super) fn dst_zones() -> impl Strategy<Value = Tz> {
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
pub(super) fn dst_instants() -> impl Strategy<Value = DateTime<Utc>> {
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

pub(super) fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Tz> {
    local::resolve(tz, d.and_time(NaiveTime::MIN))
}

/// The local date whose slot (at `at`) resolved to `run`.
pub(super) fn nominal_date(tz: Tz, at: NaiveTime, run: DateTime<Tz>) -> NaiveDate {
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
        WindowRule::Named(_) => return Ok(()), // see `named`
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
        (_, WindowRule::Named(_)) => false, // see `named`
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
