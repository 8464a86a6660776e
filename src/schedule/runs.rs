//! When runs happen: the next run instant at or after a given instant, for each
//! schedule form. Daily and longer schedules are wall-clock (a local date and time,
//! resolved by `local::resolve`); hourly schedules are elapsed time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};

use super::local::{clamped_day_of_month, month_index, quarter_index, resolve};
use super::spec::{Frequency, OnceAt, Recurring, Schedule};

/// The first run of `schedule` at or after `t`. `asap` is the instant a
/// `once = "asap"` report counts as due (when it was first seen).
pub fn next_run(
    schedule: &Schedule,
    tz: Tz,
    t: DateTime<Utc>,
    asap: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule {
        Schedule::Recurring(r) if r.frequency == Frequency::Hourly => next_hourly(r, tz, t),
        Schedule::Recurring(r) => next_calendar(r, tz, t),
        Schedule::SendAt { at, .. } => {
            let d = t.date_naive();
            let today = Utc.from_utc_datetime(&d.and_time(*at));
            Some(if today >= t {
                today
            } else {
                today + Duration::days(1)
            })
        }
        Schedule::Once { at, .. } => {
            let run = match at {
                OnceAt::Asap => asap,
                OnceAt::At(local) => resolve(tz, *local).with_timezone(&Utc),
            };
            (run >= t).then_some(run)
        }
    }
}

fn stop_instant(r: &Recurring, tz: Tz) -> Option<DateTime<Utc>> {
    r.stop.map(|s| resolve(tz, s).with_timezone(&Utc))
}

fn start_instant(r: &Recurring, tz: Tz) -> Option<DateTime<Utc>> {
    r.start.map(|s| resolve(tz, s).with_timezone(&Utc))
}

/// Whole seconds at or after `t`.
fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// Hourly runs sit on an elapsed-time grid: the instants whose minute, read in the
/// zone's standard (non-DST) offset, is `run_on`. In every zone whose DST shift is whole
/// hours this is "minute `run_on` of every local hour", with both 02:00s of a fall-back
/// night and none lost in a spring-forward one. (Lord Howe's DST is 30 minutes: there
/// the runs stay one hour apart and show as :30 local during DST.)
fn grid_at_or_after(minute: u32, tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    let mut s = ceil_seconds(t);
    for _ in 0..3 {
        let at = Utc.timestamp_opt(s, 0).unwrap();
        let base = tz
            .offset_from_utc_datetime(&at.naive_utc())
            .base_utc_offset()
            .num_seconds();
        let rem = (s + base).rem_euclid(3600);
        let delta = (i64::from(minute) * 60 - rem).rem_euclid(3600);
        let candidate = s + delta;
        let cand_t = Utc.timestamp_opt(candidate, 0).unwrap();
        let cand_base = tz
            .offset_from_utc_datetime(&cand_t.naive_utc())
            .base_utc_offset()
            .num_seconds();
        if cand_base == base {
            return cand_t;
        }
        // The zone changed its standard offset in between: start again from there.
        s = candidate.min(s + 3600);
    }
    Utc.timestamp_opt(s, 0).unwrap()
}

fn next_hourly(r: &Recurring, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let run = match start_instant(r, tz) {
        None => grid_at_or_after(r.run_on, tz, t),
        Some(start) => {
            let anchor = grid_at_or_after(r.run_on, tz, start);
            if t <= anchor {
                anchor
            } else {
                let period = i64::from(r.every) * 3600;
                let k = (ceil_seconds(t) - anchor.timestamp() + period - 1) / period;
                anchor + Duration::seconds(k * period)
            }
        }
    };
    match stop_instant(r, tz) {
        Some(stop) if run >= stop => None,
        _ => Some(run),
    }
}

/// The first date on or after `d` on which a daily, weekly, monthly or quarterly
/// schedule runs, honouring `every` counted from `start`.
fn first_run_date_on_or_after(r: &Recurring, d: NaiveDate) -> NaiveDate {
    let every = i64::from(r.every);
    let start = r.start.map(|s| s.date());
    match r.frequency {
        Frequency::Daily => match start {
            None => d,
            Some(s) => {
                let d = d.max(s);
                let rem = (d - s).num_days() % every;
                if rem == 0 {
                    d
                } else {
                    d + Duration::days(every - rem)
                }
            }
        },
        Frequency::Weekly => {
            let wd = i64::from(d.weekday().number_from_monday());
            let mut c = d + Duration::days((i64::from(r.run_on) - wd).rem_euclid(7));
            if let Some(s) = start {
                let monday = |x: NaiveDate| {
                    x - Duration::days(i64::from(x.weekday().num_days_from_monday()))
                };
                let weeks = (monday(c) - monday(s)).num_days() / 7;
                if weeks < 0 {
                    c += Duration::weeks(-weeks);
                } else if weeks % every != 0 {
                    c += Duration::weeks(every - weeks % every);
                }
            }
            c
        }
        Frequency::Monthly | Frequency::Quarterly => {
            let quarterly = r.frequency == Frequency::Quarterly;
            // Work in periods: months, or quarters (whose first month holds the run).
            let period_of = |x: NaiveDate| {
                if quarterly {
                    quarter_index(x)
                } else {
                    month_index(x)
                }
            };
            let date_in =
                |p: i64| clamped_day_of_month(if quarterly { p * 3 } else { p }, r.run_on);
            let mut p = period_of(d);
            if date_in(p) < d {
                p += 1;
            }
            if let Some(s) = start {
                let ps = period_of(s);
                if p < ps {
                    p = ps;
                } else if (p - ps) % every != 0 {
                    p += every - (p - ps) % every;
                }
            }
            date_in(p)
        }
        Frequency::Hourly => unreachable!("hourly schedules are on the elapsed grid"),
    }
}

fn next_calendar(r: &Recurring, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let start = start_instant(r, tz);
    let stop = stop_instant(r, tz);
    // A day early: a zone that falls back at midnight can put an instant after `t` on
    // the previous local date.
    let mut d = t.with_timezone(&tz).date_naive() - Duration::days(1);
    if let Some(s) = r.start {
        d = d.max(s.date());
    }
    // Each turn moves to a later candidate date, and only the first few can fall before
    // `t` or `start`; the bound only guards against a mistake looping forever.
    for _ in 0..1000 {
        let date = first_run_date_on_or_after(r, d);
        let run = resolve(tz, date.and_time(r.at)).with_timezone(&Utc);
        if matches!(stop, Some(stop) if run >= stop) {
            return None;
        }
        if run >= t && start.is_none_or(|s| run >= s) {
            return Some(run);
        }
        d = date + Duration::days(1);
    }
    None
}
