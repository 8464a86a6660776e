//! Schedules in words, for `list`: "daily at 06:00 America/New_York, covering the day
//! before yesterday".

use chrono_tz::Tz;

use super::spec::{Frequency, NamedWindow, OnceAt, Recurring, Schedule, WindowRule};
use crate::ui::count;

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// "at the run", "15 minutes before the run".
fn before(n: u32, one: &str, many: &str, what: &str) -> String {
    if n == 0 {
        format!("at {what}")
    } else {
        format!("{} before {what}", count(n, one, many))
    }
}

/// "hour", "3 hours": for "the hour before", "the 3 hours before".
fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        format!("{n} {many}")
    }
}

pub fn describe(schedule: &Schedule, tz: Tz) -> String {
    match schedule {
        Schedule::Recurring(r) => recurring(r, tz),
        Schedule::SendAt { at, days } => format!(
            "daily at {} UTC, covering the {} before the run date",
            at.format("%H:%M"),
            plural(*days, "UTC day", "UTC days")
        ),
        Schedule::Once { at, from, to } => {
            let when = match at {
                OnceAt::Asap => "once, as soon as possible".to_string(),
                OnceAt::At(t) => format!("once at {} {tz}", t.format("%Y-%m-%d %H:%M")),
            };
            format!("{when}, covering {from} to {to}")
        }
    }
}

fn recurring(r: &Recurring, tz: Tz) -> String {
    let at = r.at.format("%H:%M");
    let every = |unit: &str, units: &str| {
        if r.every == 1 {
            unit.to_string()
        } else {
            format!("every {} {units}", r.every)
        }
    };
    let mut s = match r.frequency {
        Frequency::Hourly => format!("{} at minute {}", every("hourly", "hours"), r.run_on),
        Frequency::Daily => format!("{} at {at} {tz}", every("daily", "days")),
        Frequency::Weekly => format!(
            "{} on {} at {at} {tz}",
            every("weekly", "weeks"),
            WEEKDAYS[(r.run_on - 1) as usize]
        ),
        Frequency::Monthly => format!(
            "{} on day {}{} at {at} {tz}",
            every("monthly", "months"),
            r.run_on,
            if r.run_on > 28 {
                " (or the month's last day)"
            } else {
                ""
            }
        ),
        Frequency::Quarterly => format!(
            "{} on day {} of Jan/Apr/Jul/Oct at {at} {tz}",
            every("quarterly", "quarters"),
            r.run_on
        ),
    };
    s.push_str(", covering ");
    s.push_str(&covering(r));
    if let Some(start) = r.start {
        s.push_str(&format!(", from {}", start.format("%Y-%m-%d %H:%M")));
    }
    if let Some(stop) = r.stop {
        s.push_str(&format!(", until {}", stop.format("%Y-%m-%d %H:%M")));
    }
    s
}

/// What a recurring schedule's runs cover, after "covering ".
fn covering(r: &Recurring) -> String {
    match (r.frequency, r.window) {
        (_, WindowRule::Named(named)) => named_window(named),
        (Frequency::Hourly, WindowRule::TodayMinusTwo) => {
            format!(
                "the {} before the run's hour",
                plural(r.every, "hour", "hours")
            )
        }
        (Frequency::Hourly, WindowRule::Offset { delay, previous }) => format!(
            "{} ending {}",
            count(previous, "minute", "minutes"),
            before(delay, "minute", "minutes", "the run")
        ),
        (_, WindowRule::TodayMinusTwo) => {
            let unit = match r.frequency {
                Frequency::Daily => count(r.every, "day", "days"),
                Frequency::Weekly => count(r.every, "week", "weeks"),
                Frequency::Monthly => count(r.every, "month", "months"),
                _ => count(r.every, "quarter", "quarters"),
            };
            format!("{unit} up to the end of the day before yesterday")
        }
        (Frequency::Daily, WindowRule::Offset { delay, previous }) => format!(
            "{} ending {}",
            count(previous, "hour", "hours"),
            before(delay, "hour", "hours", "the run")
        ),
        (freq, WindowRule::Offset { delay, previous }) => {
            let span = match freq {
                Frequency::Weekly => count(previous, "day", "days"),
                Frequency::Monthly => count(previous, "calendar month", "calendar months"),
                _ => count(previous, "calendar quarter", "calendar quarters"),
            };
            format!(
                "{span} ending at midnight {}",
                before(delay, "day", "days", "the run date")
                    .replace("at the run date", "of the run date")
            )
        }
    }
}

/// A named window in words, as `list` shows it after "covering ".
pub fn named_window(named: NamedWindow) -> String {
    match named {
        NamedWindow::Yesterday => "yesterday".to_string(),
        NamedWindow::DayBeforeYesterday => "the day before yesterday".to_string(),
        NamedWindow::LastDays(1) => "the last day, up to the end of yesterday".to_string(),
        NamedWindow::LastDays(n) => format!("the last {n} days, up to the end of yesterday"),
        NamedWindow::PreviousWeek => "the previous week, Monday to Sunday".to_string(),
        NamedWindow::PreviousMonth => "the previous calendar month".to_string(),
        NamedWindow::PreviousQuarter => "the previous calendar quarter".to_string(),
        NamedWindow::WeekToDate => {
            "the week to date, Monday to yesterday (on Mondays the whole previous week)".to_string()
        }
        NamedWindow::MonthToDate => {
            "the month to date, the 1st to yesterday (on the 1st the whole previous month)"
                .to_string()
        }
    }
}
