//! What period a run covers. Hourly windows are elapsed time; daily and longer windows
//! are computed on local dates and times and only then turned into instants, so that
//! "the previous 2 days" is midnight to midnight across a DST change.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::local::{clamped_day_of_month, first_of_month, month_index, quarter_index, resolve};
use super::spec::{Frequency, NamedWindow, Recurring, Schedule, WindowRule};

/// The covered period: `from` inclusive, `to` exclusive, both in the window's zone
/// (the report's zone; UTC for the `send_at` form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Tz>,
    pub to: DateTime<Tz>,
}

impl Window {
    /// The local date of the first instant covered.
    pub fn first_day(&self) -> NaiveDate {
        self.from.date_naive()
    }

    /// The local date of the last instant covered (`to` is exclusive).
    pub fn last_day(&self) -> NaiveDate {
        (self.to - Duration::nanoseconds(1)).date_naive()
    }

    /// The last whole second covered (`to` is exclusive).
    pub fn last_instant(&self) -> DateTime<Tz> {
        self.to - Duration::seconds(1)
    }

    /// The window between two instants, read in zone `tz` (a recorded run's window).
    pub fn in_zone(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Window {
        Window {
            from: from.with_timezone(&tz),
            to: to.with_timezone(&tz),
        }
    }

    /// A window from local dates, both included.
    pub fn from_dates(tz: Tz, first: NaiveDate, last: NaiveDate) -> Window {
        local_window(tz, midnight(first), midnight(last + Duration::days(1)))
    }
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::MIN)
}

fn local_window(tz: Tz, from: NaiveDateTime, to: NaiveDateTime) -> Window {
    Window {
        from: resolve(tz, from),
        to: resolve(tz, to),
    }
}

/// The window of the run of `schedule` at `run`, an instant the schedule produced.
pub fn window_of(schedule: &Schedule, tz: Tz, run: DateTime<Utc>) -> Window {
    match schedule {
        Schedule::Recurring(r) => recurring_window(r, tz, run),
        Schedule::SendAt { days, .. } => {
            let d = run.date_naive();
            let utc: Tz = Tz::UTC;
            local_window(
                utc,
                midnight(d - Duration::days(i64::from(*days))),
                midnight(d),
            )
        }
        Schedule::Once { from, to, .. } => Window::from_dates(tz, *from, *to),
    }
}

/// The local date whose run (at `r.at`) is the instant `run`: the run's local date,
/// unless a spring-forward gap pushed the run past midnight (Pacific/Apia skipped a whole
/// day), in which case it is an earlier date.
fn nominal_run_date(r: &Recurring, tz: Tz, run: DateTime<Utc>) -> NaiveDate {
    let local = run.with_timezone(&tz).date_naive();
    (0..3)
        .map(|back| local - Duration::days(back))
        .find(|d| resolve(tz, d.and_time(r.at)) == run)
        .unwrap_or(local)
}

fn recurring_window(r: &Recurring, tz: Tz, run: DateTime<Utc>) -> Window {
    if let WindowRule::Named(named) = r.window {
        let (first, end) = named_dates(named, nominal_run_date(r, tz, run));
        return local_window(tz, midnight(first), midnight(end));
    }
    if r.frequency == Frequency::Hourly {
        return hourly_window(r, tz, run);
    }
    // Wall clock: the nominal local slot (the schedule's date and time of day), not the
    // instant it resolved to, so that a run moved by a DST gap covers the same local
    // period as any other and consecutive windows tile.
    let run_date = nominal_run_date(r, tz, run);
    match (r.frequency, r.window) {
        (Frequency::Hourly, _) | (_, WindowRule::Named(_)) => unreachable!("handled above"),
        (_, WindowRule::TodayMinusTwo) => {
            // Ends at local midnight at the start of yesterday; starts where the
            // previous run's window ended, so consecutive windows tile.
            let end = run_date - Duration::days(1);
            let start = previous_run_date(r, run_date) - Duration::days(1);
            local_window(tz, midnight(start), midnight(end))
        }
        (Frequency::Daily, WindowRule::Offset { delay, previous }) => {
            // Local wall-clock hours back from the nominal slot time.
            let end = run_date.and_time(r.at) - Duration::hours(i64::from(delay));
            let start = end - Duration::hours(i64::from(previous));
            local_window(tz, start, end)
        }
        (freq, WindowRule::Offset { delay, previous }) => {
            let end = run_date - Duration::days(i64::from(delay));
            let last_day = end - Duration::days(1);
            let previous = i64::from(previous);
            let start = match freq {
                Frequency::Weekly => end - Duration::days(previous),
                Frequency::Monthly => first_of_month(month_index(last_day) - (previous - 1)),
                Frequency::Quarterly => {
                    first_of_month((quarter_index(last_day) - (previous - 1)) * 3)
                }
                Frequency::Hourly | Frequency::Daily => unreachable!("handled above"),
            };
            local_window(tz, midnight(start), midnight(end))
        }
    }
}

/// Hourly windows are elapsed time, back from the run instant.
fn hourly_window(r: &Recurring, tz: Tz, run: DateTime<Utc>) -> Window {
    let (to, length) = match r.window {
        WindowRule::TodayMinusTwo => (
            run - Duration::minutes(i64::from(r.run_on)),
            Duration::hours(i64::from(r.every)),
        ),
        WindowRule::Offset { delay, previous } => (
            run - Duration::minutes(i64::from(delay)),
            Duration::minutes(i64::from(previous)),
        ),
        WindowRule::Named(_) => unreachable!("named windows are handled before"),
    };
    Window {
        from: (to - length).with_timezone(&tz),
        to: to.with_timezone(&tz),
    }
}

/// The run date of the run `every` periods before the one on `run_date`.
fn previous_run_date(r: &Recurring, run_date: NaiveDate) -> NaiveDate {
    let every = i64::from(r.every);
    match r.frequency {
        Frequency::Daily => run_date - Duration::days(every),
        Frequency::Weekly => run_date - Duration::weeks(every),
        Frequency::Monthly => clamped_day_of_month(month_index(run_date) - every, r.run_on),
        Frequency::Quarterly => {
            clamped_day_of_month((quarter_index(run_date) - every) * 3, r.run_on)
        }
        Frequency::Hourly => unreachable!("hourly windows are elapsed time"),
    }
}

/// The first day and the (excluded) end day of a named window for a run on `day`.
pub(super) fn named_dates(named: NamedWindow, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let days = |n: u32| day - Duration::days(i64::from(n));
    let monday = days(day.weekday().num_days_from_monday());
    let month = first_of_month(month_index(day));
    match named {
        NamedWindow::Yesterday => (days(1), day),
        NamedWindow::DayBeforeYesterday => (days(2), days(1)),
        NamedWindow::LastDays(n) => (days(n), day),
        NamedWindow::PreviousWeek => (monday - Duration::weeks(1), monday),
        NamedWindow::PreviousMonth => (first_of_month(month_index(day) - 1), month),
        NamedWindow::PreviousQuarter => {
            let quarter = quarter_index(day) * 3;
            (first_of_month(quarter - 3), first_of_month(quarter))
        }
        NamedWindow::WeekToDate if day == monday => (monday - Duration::weeks(1), monday),
        NamedWindow::WeekToDate => (monday, day),
        NamedWindow::MonthToDate if day == month => (first_of_month(month_index(day) - 1), month),
        NamedWindow::MonthToDate => (month, day),
    }
}
