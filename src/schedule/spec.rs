//! Checked schedule definitions: what `[reports.schedule]` becomes once stage two of
//! configuration loading has accepted it. Code past the config boundary never
//! re-validates these; every value is in range for its frequency.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
}

impl Frequency {
    pub const ALL: [(&'static str, Frequency); 5] = [
        ("hourly", Frequency::Hourly),
        ("daily", Frequency::Daily),
        ("weekly", Frequency::Weekly),
        ("monthly", Frequency::Monthly),
        ("quarterly", Frequency::Quarterly),
    ];

    pub fn parse(s: &str) -> Option<Frequency> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, f)| *f == self).unwrap().0
    }
}

/// How the covered period of a recurring run is derived from its run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRule {
    /// No `previous_time`, "today minus two": the window ends at local midnight at the start of
    /// yesterday and spans `every` periods back. Hourly: the `every` whole hours before
    /// the run's hour.
    TodayMinusTwo,
    /// `delay` and `previous_time`, in the frequency's units (see docs/schedules.md's schedule
    /// table): hourly minutes/minutes, daily hours/hours, weekly days/days, monthly
    /// days/months, quarterly days/quarters.
    Offset { delay: u32, previous: u32 },
    /// `window = "…"`: a calendar period named relative to the run's local date.
    Named(NamedWindow),
}

/// The named windows of `[reports.schedule] window`, computed on local dates in the
/// report's zone from the run's local date (independent of `at`). Each ends at the
/// local midnight that starts the run's day, except `day_before_yesterday`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedWindow {
    Yesterday,
    /// The default daily window (`every = 1`, no `delay`/`previous_time`), by name.
    DayBeforeYesterday,
    /// `last_N_days`: the N whole days before the run's day, 1 ≤ N ≤ 366.
    LastDays(u32),
    /// The ISO week (Monday to Sunday) before the run's week.
    PreviousWeek,
    PreviousMonth,
    PreviousQuarter,
    /// Monday of the run's week up to the run's day; on a Monday the whole previous week.
    WeekToDate,
    /// The 1st of the run's month up to the run's day; on the 1st the whole previous month.
    MonthToDate,
}

impl NamedWindow {
    /// The longest `last_N_days`.
    pub const MAX_DAYS: u32 = 366;

    /// The names a user writes, with `last_N_days` as its pattern.
    pub const NAMES: [&'static str; 8] = [
        "yesterday",
        "day_before_yesterday",
        "last_N_days",
        "previous_week",
        "previous_month",
        "previous_quarter",
        "week_to_date",
        "month_to_date",
    ];

    /// Reads a name; `Err` says why a `last_N_days` is out of range, `Ok(None)` is an
    /// unknown name.
    pub fn parse(s: &str) -> Result<Option<NamedWindow>, String> {
        use NamedWindow::*;
        Ok(Some(match s {
            "yesterday" => Yesterday,
            "day_before_yesterday" => DayBeforeYesterday,
            "previous_week" => PreviousWeek,
            "previous_month" => PreviousMonth,
            "previous_quarter" => PreviousQuarter,
            "week_to_date" => WeekToDate,
            "month_to_date" => MonthToDate,
            _ => {
                let Some(n) = s
                    .strip_prefix("last_")
                    .and_then(|r| r.strip_suffix("_days"))
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                else {
                    return Ok(None);
                };
                match n.parse::<u32>() {
                    Ok(n) if (1..=Self::MAX_DAYS).contains(&n) => LastDays(n),
                    _ => {
                        return Err(format!(
                            "\"{s}\": N in last_N_days must be 1 to {}",
                            Self::MAX_DAYS
                        ))
                    }
                }
            }
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurring {
    pub frequency: Frequency,
    /// 1–6 periods between runs, counted from `start`.
    pub every: u32,
    /// Hourly: the minute (0–59). Weekly: ISO weekday (1 = Monday … 7 = Sunday).
    /// Monthly and quarterly: day of the month (1–31, clamped to the month's last day).
    /// Daily: unused; the time is in `at`.
    pub run_on: u32,
    /// Local time of day of the run (daily and longer).
    pub at: NaiveTime,
    pub window: WindowRule,
    /// Local date-times in the report's zone; no run before `start` nor at or after `stop`.
    pub start: Option<NaiveDateTime>,
    pub stop: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnceAt {
    /// As soon as `run-due` first sees the report.
    Asap,
    /// A local date-time in the report's zone.
    At(NaiveDateTime),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Recurring(Recurring),
    /// `send_at`: daily at `at` UTC, covering the `days` whole UTC days before the run date.
    SendAt {
        at: NaiveTime,
        days: u32,
    },
    /// `once`: one run, covering `from` to `to` (local dates, both included).
    Once {
        at: OnceAt,
        from: NaiveDate,
        to: NaiveDate,
    },
}
