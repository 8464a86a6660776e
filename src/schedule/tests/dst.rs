//! DST in five zones: daily runs are never lost or doubled, the gap and overlap rules,
//! hourly schedules count elapsed time.

use super::*;

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
