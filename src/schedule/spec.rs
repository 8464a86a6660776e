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
    /// `delay` and `previous_time`, in the frequency's units (see the README's schedule
    /// table): hourly minutes/minutes, daily hours/hours, weekly days/days, monthly
    /// days/months, quarterly days/quarters.
    Offset { delay: u32, previous: u32 },
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
