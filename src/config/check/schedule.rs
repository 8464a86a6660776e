//! Checking `[reports.schedule]`: which of the three forms it is, and every value in
//! range for its frequency (the table in the brief's "Schedules and windows").

use std::ops::Range;

use chrono::{NaiveDateTime, NaiveTime, Timelike};
use toml::Spanned;

use super::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::raw::RawSchedule;
use crate::schedule::{Frequency, NamedWindow, OnceAt, Recurring, Schedule, WindowRule};

const FORMS: &str = "a schedule is one of: recurring (`frequency`, `every`, `run_on`, `at`, `window` or `delay` and `previous_time`, `start`, `stop`), daily at a UTC time (`send_at`, `included_range_days`) or one-time (`once`, `from`, `to`)";

impl Checker<'_> {
    pub(crate) fn schedule(
        &mut self,
        raw: &Spanned<RawSchedule>,
        subject: &Subject,
        max_range_days: u32,
    ) -> Option<Schedule> {
        let span = raw.span();
        let r = raw.get_ref();
        let recurring = r.frequency.is_some()
            || r.every.is_some()
            || r.run_on.is_some()
            || r.at.is_some()
            || r.delay.is_some()
            || r.previous_time.is_some()
            || r.start.is_some()
            || r.stop.is_some();
        let send_at = r.send_at.is_some() || r.included_range_days.is_some();
        let once = r.once.is_some() || r.from.is_some() || r.to.is_some();
        // `window` alone is a recurring schedule missing its frequency; with the keys of
        // another form it is refused on its own (below) rather than as a mix of forms.
        let recurring = recurring || (r.window.is_some() && !send_at && !once);
        if let (Some(w), true) = (&r.window, send_at || once) {
            let (form, covers) = if send_at {
                (
                    "a `send_at` schedule",
                    "the `included_range_days` UTC days before the run date",
                )
            } else {
                ("a one-time schedule", "`from` to `to`")
            };
            self.err(w.span(), subject, "schedule.window", format!("`window` is for recurring schedules (`frequency` = daily, weekly, monthly or quarterly); {form} covers {covers}"));
        }
        match (recurring, send_at, once) {
            (true, false, false) => self.recurring(r, &span, subject),
            (false, true, false) => self.send_at(r, &span, subject),
            (false, false, true) => self.once(r, &span, subject, max_range_days),
            (false, false, false) => {
                self.err(
                    span,
                    subject,
                    "schedule",
                    format!("the schedule is empty; {FORMS}"),
                );
                None
            }
            _ => {
                self.err(
                    span,
                    subject,
                    "schedule",
                    format!("the schedule mixes keys of different forms; {FORMS}"),
                );
                None
            }
        }
    }

    fn recurring(
        &mut self,
        r: &RawSchedule,
        span: &Range<usize>,
        subject: &Subject,
    ) -> Option<Schedule> {
        let frequency = self.frequency(r, span, subject)?;
        let lim = limits::schedule(frequency);
        let fname = frequency.name();
        let errors_before = self.errors.len();
        let every = self.int(
            &r.every,
            subject,
            "schedule.every",
            limits::EVERY.range(),
            limits::EVERY.default,
            &format!(" ({fname} periods between runs)"),
        ) as u32;
        let run_on = self.int(
            &r.run_on,
            subject,
            "schedule.run_on",
            lim.run_on,
            lim.run_on_default,
            &format!(" for {fname} ({})", lim.run_on_is),
        ) as u32;
        let at = self.time_of_day(r, frequency, run_on, subject);
        let window = match &r.window {
            Some(w) => self.named_window(w, r, frequency, subject),
            None => self.window_rule(r, &lim, fname, subject),
        };
        let (start, stop) = self.start_stop(r, subject);
        if self.errors.len() > errors_before {
            return None;
        }
        Some(Schedule::Recurring(Recurring {
            frequency,
            every,
            run_on,
            at,
            window,
            start,
            stop,
        }))
    }

    fn frequency(
        &mut self,
        r: &RawSchedule,
        span: &Range<usize>,
        subject: &Subject,
    ) -> Option<Frequency> {
        let allowed: Vec<_> = Frequency::ALL.iter().map(|(n, _)| *n).collect();
        match &r.frequency {
            None => {
                self.err(
                    span.clone(),
                    subject,
                    "schedule.frequency",
                    format!("missing key `frequency`; allowed: {}", allowed.join(", ")),
                );
                None
            }
            Some(f) => match Frequency::parse(f.get_ref()) {
                Some(f) => Some(f),
                None => {
                    self.err(
                        f.span(),
                        subject,
                        "schedule.frequency",
                        format!(
                            "\"{}\" is not a frequency; {}allowed: {}",
                            f.get_ref().escape_default(),
                            crate::config::diag::did_you_mean(
                                f.get_ref(),
                                allowed.iter().copied(),
                                "\""
                            ),
                            allowed.join(", ")
                        ),
                    );
                    None
                }
            },
        }
    }

    /// The time of day of a daily or longer schedule: `at`, or a daily `run_on` hour.
    fn time_of_day(
        &mut self,
        r: &RawSchedule,
        frequency: Frequency,
        run_on: u32,
        subject: &Subject,
    ) -> NaiveTime {
        match (&r.at, frequency) {
            (Some(a), Frequency::Hourly) => {
                self.err(a.span(), subject, "schedule.at", "hourly runs take the minute from `run_on`; `at` is for daily and longer frequencies");
                NaiveTime::MIN
            }
            (Some(a), _) => {
                if let (Some(ro), Frequency::Daily) = (&r.run_on, frequency) {
                    self.err(ro.span(), subject, "schedule.run_on", "give either `run_on` (the hour) or `at` (\"HH:MM\") for a daily schedule, not both");
                }
                match parse_hh_mm(a.get_ref()) {
                    Some(t) => t,
                    None => {
                        self.err(a.span(), subject, "schedule.at", format!("\"{}\" is not a time of day; write \"HH:MM\", from \"00:00\" to \"23:59\"", a.get_ref().escape_default()));
                        NaiveTime::MIN
                    }
                }
            }
            (None, Frequency::Daily) => {
                NaiveTime::from_hms_opt(run_on, 0, 0).unwrap_or(NaiveTime::MIN)
            }
            (None, Frequency::Hourly) => NaiveTime::MIN,
            (None, _) => NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
        }
    }

    /// The window each run covers: `delay` and `previous_time`, or today minus two.
    fn window_rule(
        &mut self,
        r: &RawSchedule,
        lim: &limits::ScheduleLimits,
        fname: &str,
        subject: &Subject,
    ) -> WindowRule {
        match (&r.delay, &r.previous_time) {
            (None, None) => WindowRule::TodayMinusTwo,
            (Some(d), None) => {
                self.err(
                    d.span(),
                    subject,
                    "schedule.delay",
                    format!(
                        "`delay` needs `previous_time`, the window's length in {}",
                        lim.previous_unit
                    ),
                );
                WindowRule::TodayMinusTwo
            }
            (d, Some(_)) => {
                let delay = self.int(
                    d,
                    subject,
                    "schedule.delay",
                    lim.delay,
                    0,
                    &format!(" {} for {fname}", lim.delay_unit),
                ) as u32;
                let previous = self.int(
                    &r.previous_time,
                    subject,
                    "schedule.previous_time",
                    lim.previous,
                    1,
                    &format!(" {} for {fname}", lim.previous_unit),
                ) as u32;
                WindowRule::Offset { delay, previous }
            }
        }
    }

    /// `window = "…"`, a named window: for daily and longer schedules, instead of
    /// `delay`/`previous_time`.
    fn named_window(
        &mut self,
        w: &Spanned<String>,
        r: &RawSchedule,
        frequency: Frequency,
        subject: &Subject,
    ) -> WindowRule {
        let key = "schedule.window";
        if frequency == Frequency::Hourly {
            self.err(w.span(), subject, key, "`window` is for daily, weekly, monthly and quarterly schedules; an hourly run covers the `every` hours before its hour, or `previous_time` minutes ending `delay` minutes before the run");
        }
        let offsets = [("delay", &r.delay), ("previous_time", &r.previous_time)];
        if let Some((name, Some(v))) = offsets.into_iter().find(|(_, v)| v.is_some()) {
            self.err(v.span(), subject, &format!("schedule.{name}"), format!("give either `window` (a named period) or `delay` and `previous_time` (counted back from the run), not both; `window` = \"{}\" is set", w.get_ref().escape_default()));
        }
        match NamedWindow::parse(w.get_ref()) {
            Ok(Some(named)) => return WindowRule::Named(named),
            Ok(None) => {
                let hint = did_you_mean(w.get_ref())
                    .map_or(String::new(), |s| format!(" did you mean \"{s}\"?"));
                let allowed = NamedWindow::NAMES.join(", ").replace(
                    "last_N_days",
                    &format!("last_N_days (N from 1 to {})", NamedWindow::MAX_DAYS),
                );
                self.err(
                    w.span(),
                    subject,
                    key,
                    format!(
                        "\"{}\" is not a window;{hint} allowed: {allowed}",
                        w.get_ref().escape_default()
                    ),
                );
            }
            Err(e) => self.err(w.span(), subject, key, e),
        }
        WindowRule::TodayMinusTwo
    }

    /// `start` and `stop`, and the rules that tie them to each other and to `every`.
    fn start_stop(
        &mut self,
        r: &RawSchedule,
        subject: &Subject,
    ) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
        let start = r
            .start
            .as_ref()
            .and_then(|v| self.local_datetime(v, subject, "schedule.start"));
        let stop = r
            .stop
            .as_ref()
            .and_then(|v| self.local_datetime(v, subject, "schedule.stop"));
        if let (Some(e), None) = (&r.every, &r.start) {
            if *e.get_ref() > 1 {
                self.err(e.span(), subject, "schedule.every", format!("every = {} counts periods from `start`; add `start`, a local date-time such as 2026-01-01T00:00:00", e.get_ref()));
            }
        }
        if let (Some(a), Some(b), Some(v)) = (start, stop, &r.stop) {
            if b <= a {
                self.err(
                    v.span(),
                    subject,
                    "schedule.stop",
                    format!("stop ({b}) must be after start ({a})"),
                );
            }
        }
        (start, stop)
    }

    fn send_at(
        &mut self,
        r: &RawSchedule,
        span: &Range<usize>,
        subject: &Subject,
    ) -> Option<Schedule> {
        let Some(v) = &r.send_at else {
            self.err(span.clone(), subject, "schedule.send_at", "missing key `send_at`, the UTC time of day \"HH:MM\" on a 30-minute slot that `included_range_days` goes with");
            return None;
        };
        let at = match parse_hh_mm(v.get_ref()) {
            Some(t) if t.minute() % 30 == 0 => Some(t),
            Some(_) => {
                self.err(v.span(), subject, "schedule.send_at", format!("\"{}\" is not on a 30-minute slot; allowed: \"00:00\" to \"23:30\" in steps of 30 minutes (UTC)", v.get_ref()));
                None
            }
            None => {
                self.err(v.span(), subject, "schedule.send_at", format!("\"{}\" is not a UTC time of day; allowed: \"00:00\" to \"23:30\" in steps of 30 minutes", v.get_ref().escape_default()));
                None
            }
        };
        let days = match &r.included_range_days {
            None => Some(1),
            Some(d) if matches!(d.get_ref(), 1 | 3 | 7) => Some(*d.get_ref() as u32),
            Some(d) => {
                self.err(
                    d.span(),
                    subject,
                    "schedule.included_range_days",
                    format!("{} is not allowed; allowed: 1, 3 or 7", d.get_ref()),
                );
                None
            }
        };
        let (at, days) = (at?, days?);
        Some(Schedule::SendAt { at, days })
    }

    fn once(
        &mut self,
        r: &RawSchedule,
        span: &Range<usize>,
        subject: &Subject,
        max_range_days: u32,
    ) -> Option<Schedule> {
        let at = match &r.once {
            None => {
                self.err(span.clone(), subject, "schedule.once", "missing key `once`; allowed: \"asap\" or a local date-time such as 2026-12-01T08:00:00");
                None
            }
            Some(v) if v.get_ref().as_str() == Some("asap") => Some(OnceAt::Asap),
            Some(v) => self
                .local_datetime(v, subject, "schedule.once")
                .map(OnceAt::At),
        };
        let mut date = |key: &str, v: &Option<Spanned<toml::Value>>| match v {
            None => {
                self.err(span.clone(), subject, &format!("schedule.{key}"), format!("missing key `{key}`; a one-time report covers `from` to `to`, both dates included"));
                None
            }
            Some(v) => self.local_date(v, subject, &format!("schedule.{key}")),
        };
        let from = date("from", &r.from);
        let to = date("to", &r.to);
        let (at, from, to) = (at?, from?, to?);
        let to_span = r.to.as_ref().map_or(span.clone(), |v| v.span());
        if to < from {
            self.err(
                to_span,
                subject,
                "schedule.to",
                format!("to ({to}) is before from ({from})"),
            );
            return None;
        }
        let days = (to - from).num_days() + 1;
        if days > i64::from(max_range_days) {
            self.err(to_span, subject, "schedule.to", format!("{from} to {to} is {days} days; at most max_range_days = {max_range_days} days are allowed"));
            return None;
        }
        Some(Schedule::Once { at, from, to })
    }
}

/// The window name closest to an unknown one, if one is close: a misspelt name, or
/// `last_N_days` written another way ("last7days", "last_7_day").
fn did_you_mean(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let mut candidates: Vec<String> = NamedWindow::NAMES
        .iter()
        .filter(|n| !n.contains('N'))
        .map(|n| n.to_string())
        .collect();
    if !digits.is_empty() {
        candidates.push(format!("last_{digits}_days"));
    }
    crate::config::diag::closest(s, candidates.iter().map(String::as_str)).map(str::to_string)
}

/// "HH:MM" or "H:MM", 00:00 to 23:59.
fn parse_hh_mm(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    let digits = |p: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    NaiveTime::from_hms_opt(h, m, 0).filter(|_| h < 24 && m < 60)
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, parse_hh_mm};

    #[test]
    fn window_suggestions() {
        let dym = |s| did_you_mean(s);
        assert_eq!(dym("yesterdy").as_deref(), Some("yesterday"));
        assert_eq!(dym("last7days").as_deref(), Some("last_7_days"));
        assert_eq!(dym("last_7_day").as_deref(), Some("last_7_days"));
        assert_eq!(dym("previous_months").as_deref(), Some("previous_month"));
        assert_eq!(dym("Yesterday").as_deref(), Some("yesterday"));
        assert_eq!(dym("fortnight"), None);
    }

    #[test]
    fn hh_mm() {
        assert!(parse_hh_mm("00:00").is_some());
        assert!(parse_hh_mm("23:59").is_some());
        assert!(parse_hh_mm("24:00").is_none());
        assert_eq!(parse_hh_mm("7:00"), parse_hh_mm("07:00"));
        assert!(parse_hh_mm("7:00").is_some());
        assert!(parse_hh_mm("007:00").is_none());
        assert!(parse_hh_mm("7:0").is_none());
        assert!(parse_hh_mm("+7:00").is_none());
        assert!(parse_hh_mm("09:60").is_none());
        assert!(parse_hh_mm("09:00:00").is_none());
    }
}
