//! The window as query parameters: what a source binds (never splices) into a query,
//! and what a structured query is compiled against. Pure, like the rest of the planner.

use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;

use super::Window;

/// The named parameters a query may use, in the order of `WindowParams::values`.
pub const PARAM_NAMES: [&str; 8] = [
    "from",
    "to",
    "from_local",
    "to_local",
    "from_date",
    "to_date",
    "from_epoch",
    "to_epoch",
];

/// How a database stores its times (a sqlite source's `time_format`): the form `:from`
/// and `:to` bind in. The other parameters say their form in their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoredTime {
    /// UTC text `YYYY-MM-DDTHH:MM:SSZ`.
    #[default]
    Rfc3339,
    /// UTC text `YYYY-MM-DD HH:MM:SS`, what SQLite's `CURRENT_TIMESTAMP` writes.
    Sqlite,
    /// `YYYY-MM-DD HH:MM:SS` in the report's zone.
    Local,
    /// Integer seconds since 1970-01-01 UTC.
    Unix,
    /// Integer milliseconds since 1970-01-01 UTC.
    UnixMs,
}

impl StoredTime {
    pub const ALL: [(&'static str, StoredTime); 5] = [
        ("rfc3339", StoredTime::Rfc3339),
        ("sqlite", StoredTime::Sqlite),
        ("local", StoredTime::Local),
        ("unix", StoredTime::Unix),
        ("unix_ms", StoredTime::UnixMs),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .expect("listed")
            .0
    }

    /// An example value, for messages.
    pub fn example(self) -> &'static str {
        match self {
            StoredTime::Rfc3339 => "2026-11-30T06:00:00Z",
            StoredTime::Sqlite | StoredTime::Local => "2026-11-30 06:00:00",
            StoredTime::Unix => "1796018400",
            StoredTime::UnixMs => "1796018400000",
        }
    }
}

/// A value read from a time column (`validate` samples a few), by SQLite storage class.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeSample {
    Int(i64),
    Real(f64),
    Text(String),
    Blob,
}

impl TimeSample {
    /// The stored form this value looks like, if any. Integers from 10^11 up are taken
    /// for milliseconds (10^11 seconds is the year 5138).
    pub fn looks_like(&self) -> Option<StoredTime> {
        let text_form = |t: &str| {
            let b = t.as_bytes();
            let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
            let date_time = b.len() >= 19
                && digits(0..4)
                && b[4] == b'-'
                && digits(5..7)
                && b[7] == b'-'
                && digits(8..10)
                && digits(11..13)
                && b[13] == b':'
                && digits(14..16)
                && b[16] == b':'
                && digits(17..19);
            let fraction = |rest: &[u8]| match rest.split_first() {
                Some((b'.', f)) => !f.is_empty() && f.iter().all(u8::is_ascii_digit),
                _ => rest.is_empty(),
            };
            match (date_time, b.get(10), b.last()) {
                (true, Some(b'T'), Some(b'Z')) if fraction(&b[19..b.len() - 1]) => {
                    Some(StoredTime::Rfc3339)
                }
                (true, Some(b' '), _) if fraction(&b[19..]) => Some(StoredTime::Sqlite),
                _ => None,
            }
        };
        // Numbers compare as numbers: a fraction of a second is still seconds.
        let number = |v: f64| {
            if v.abs() >= 1e11 {
                StoredTime::UnixMs
            } else {
                StoredTime::Unix
            }
        };
        match self {
            TimeSample::Int(v) => Some(number(*v as f64)),
            TimeSample::Real(v) => Some(number(*v)),
            TimeSample::Text(t) => text_form(t),
            TimeSample::Blob => None,
        }
    }

    /// The value as a message shows it.
    pub fn shown(&self) -> String {
        match self {
            TimeSample::Int(v) => v.to_string(),
            TimeSample::Real(v) => v.to_string(),
            TimeSample::Text(t) => format!("\"{}\"", t.escape_default()),
            TimeSample::Blob => "a blob".to_string(),
        }
    }
}

impl StoredTime {
    /// What this form is, for messages.
    pub fn described(self) -> &'static str {
        match self {
            StoredTime::Rfc3339 => "RFC 3339 UTC text",
            StoredTime::Sqlite => "SQLite's CURRENT_TIMESTAMP text, YYYY-MM-DD HH:MM:SS in UTC",
            StoredTime::Local => "local-time text, YYYY-MM-DD HH:MM:SS",
            StoredTime::Unix => "Unix seconds",
            StoredTime::UnixMs => "Unix milliseconds",
        }
    }

    /// Whether `sample` fits this form (`Local` text reads like `Sqlite` text).
    pub fn fits(self, sample: &TimeSample) -> bool {
        match (self, sample.looks_like()) {
            (StoredTime::Local, Some(StoredTime::Sqlite)) => true,
            (want, got) => got == Some(want),
        }
    }
}

/// The window as query parameters: `from` inclusive, `to` exclusive, except `to_date`
/// which is the last day included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowParams {
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub from: String,
    pub to: String,
    /// `YYYY-MM-DD HH:MM:SS` in the report's zone.
    pub from_local: String,
    pub to_local: String,
    /// `YYYY-MM-DD` in the report's zone; `to_date` is the last day included.
    pub from_date: String,
    pub to_date: String,
    pub from_epoch: i64,
    pub to_epoch: i64,
    /// The form `get("from")` and `get("to")` give (`from` and `to` stay RFC 3339).
    pub stored: StoredTime,
    /// UTC `YYYY-MM-DD HH:MM:SS`, for `StoredTime::Sqlite`.
    from_sqlite: String,
    to_sqlite: String,
    /// Named parameters beyond the window's: a recipient's columns (bursting).
    pub extra: Vec<(String, OwnedParam)>,
}

/// An owned parameter value (see `WindowParams::extra`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedParam {
    Text(String),
    Int(i64),
}

/// A parameter's value: text or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamValue<'a> {
    Text(&'a str),
    Int(i64),
}

impl WindowParams {
    pub fn new(window: &Window, tz: Tz) -> Self {
        let utc = |t: &chrono::DateTime<Tz>| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        };
        let sqlite = |t: &chrono::DateTime<Tz>| {
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        let local =
            |t: &chrono::DateTime<Tz>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
        let from_day = window.from.with_timezone(&tz).date_naive();
        let last_day = Window {
            from: window.from.with_timezone(&tz),
            to: window.to.with_timezone(&tz),
        }
        .last_day();
        WindowParams {
            from: utc(&window.from),
            to: utc(&window.to),
            from_local: local(&window.from),
            to_local: local(&window.to),
            from_date: from_day.to_string(),
            to_date: last_day.to_string(),
            from_epoch: window.from.timestamp(),
            to_epoch: window.to.timestamp(),
            stored: StoredTime::Rfc3339,
            from_sqlite: sqlite(&window.from),
            to_sqlite: sqlite(&window.to),
            extra: Vec::new(),
        }
    }

    /// The same parameters and `extra` ones (a recipient's columns), which never
    /// shadow a window parameter.
    pub fn with_extra(mut self, extra: Vec<(String, OwnedParam)>) -> Self {
        self.extra = extra
            .into_iter()
            .filter(|(n, _)| !PARAM_NAMES.contains(&n.as_str()))
            .collect();
        self
    }

    /// The same parameters with `:from` and `:to` in the form `stored`.
    pub fn stored_as(mut self, stored: StoredTime) -> Self {
        self.stored = stored;
        self
    }

    /// `from` (`to` when `end`) in the stored form.
    fn bound(&self, end: bool) -> ParamValue<'_> {
        let (text, epoch) = match (self.stored, end) {
            (StoredTime::Rfc3339, false) => (&self.from, self.from_epoch),
            (StoredTime::Rfc3339, true) => (&self.to, self.to_epoch),
            (StoredTime::Sqlite, false) => (&self.from_sqlite, self.from_epoch),
            (StoredTime::Sqlite, true) => (&self.to_sqlite, self.to_epoch),
            (_, false) => (&self.from_local, self.from_epoch),
            (_, true) => (&self.to_local, self.to_epoch),
        };
        match self.stored {
            StoredTime::Unix => ParamValue::Int(epoch),
            StoredTime::UnixMs => ParamValue::Int(epoch * 1000),
            _ => ParamValue::Text(text),
        }
    }

    /// The value of the parameter called `name` (without its `:`), if it is one.
    pub fn get(&self, name: &str) -> Option<ParamValue<'_>> {
        Some(match name {
            "from" => self.bound(false),
            "to" => self.bound(true),
            "from_local" => ParamValue::Text(&self.from_local),
            "to_local" => ParamValue::Text(&self.to_local),
            "from_date" => ParamValue::Text(&self.from_date),
            "to_date" => ParamValue::Text(&self.to_date),
            "from_epoch" => ParamValue::Int(self.from_epoch),
            "to_epoch" => ParamValue::Int(self.to_epoch),
            _ => {
                let (_, v) = self.extra.iter().find(|(n, _)| n == name)?;
                match v {
                    OwnedParam::Text(t) => ParamValue::Text(t),
                    OwnedParam::Int(i) => ParamValue::Int(*i),
                }
            }
        })
    }

    /// `(name, value as text)` for each parameter, e.g. for environment variables.
    pub fn as_text(&self) -> Vec<(&'static str, String)> {
        PARAM_NAMES
            .iter()
            .map(|n| {
                let v = match self.get(n).expect("known name") {
                    ParamValue::Text(t) => t.to_string(),
                    ParamValue::Int(i) => i.to_string(),
                };
                (*n, v)
            })
            .collect()
    }
}

pub fn allowed_params() -> String {
    PARAM_NAMES
        .iter()
        .map(|n| format!(":{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn params_of_a_window_across_dst() {
        let tz = chrono_tz::America::New_York;
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = Window::from_dates(tz, d("2026-11-01"), d("2026-11-01"));
        let p = WindowParams::new(&w, tz);
        assert_eq!(p.from, "2026-11-01T04:00:00Z");
        assert_eq!(p.to, "2026-11-02T05:00:00Z");
        assert_eq!(p.from_local, "2026-11-01 00:00:00");
        assert_eq!(p.to_local, "2026-11-02 00:00:00");
        assert_eq!(p.from_date, "2026-11-01");
        assert_eq!(p.to_date, "2026-11-01");
        assert_eq!(p.to_epoch - p.from_epoch, 25 * 3600);
        assert_eq!(p.get("to_epoch"), Some(ParamValue::Int(p.to_epoch)));
        assert_eq!(p.get("nope"), None);
    }

    #[test]
    fn samples_look_like_their_form() {
        let text = |t: &str| TimeSample::Text(t.to_string()).looks_like();
        assert_eq!(text("2026-11-30T07:00:00Z"), Some(StoredTime::Rfc3339));
        assert_eq!(text("2026-11-30T07:00:00.125Z"), Some(StoredTime::Rfc3339));
        assert_eq!(text("2026-11-30 07:00:00"), Some(StoredTime::Sqlite));
        assert_eq!(text("2026-11-30 07:00:00.5"), Some(StoredTime::Sqlite));
        assert_eq!(text("2026-11-30T07:00:00+01:00"), None);
        assert_eq!(text("2026-11-30"), None);
        assert_eq!(text("30/11/2026 07:00"), None);
        assert_eq!(
            TimeSample::Int(1796018400).looks_like(),
            Some(StoredTime::Unix)
        );
        assert_eq!(
            TimeSample::Int(1796018400000).looks_like(),
            Some(StoredTime::UnixMs)
        );
        assert_eq!(
            TimeSample::Real(1796018400.5).looks_like(),
            Some(StoredTime::Unix)
        );
        assert_eq!(TimeSample::Blob.looks_like(), None);
        assert!(StoredTime::Local.fits(&TimeSample::Text("2026-11-30 07:00:00".into())));
        assert!(!StoredTime::Rfc3339.fits(&TimeSample::Text("2026-11-30 07:00:00".into())));
        assert!(!StoredTime::Unix.fits(&TimeSample::Int(1796018400000)));
    }

    #[test]
    fn from_and_to_bind_in_the_stored_form() {
        let tz = chrono_tz::Europe::Paris;
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = Window::from_dates(tz, d("2026-11-29"), d("2026-11-29"));
        let p = |f| WindowParams::new(&w, tz).stored_as(f);
        let check = |f, from: ParamValue<'_>, to: ParamValue<'_>| {
            let p = p(f);
            assert_eq!(
                (p.get("from").unwrap(), p.get("to").unwrap()),
                (from, to),
                "{f:?}"
            );
        };
        use ParamValue::{Int, Text};
        check(
            StoredTime::Rfc3339,
            Text("2026-11-28T23:00:00Z"),
            Text("2026-11-29T23:00:00Z"),
        );
        check(
            StoredTime::Sqlite,
            Text("2026-11-28 23:00:00"),
            Text("2026-11-29 23:00:00"),
        );
        check(
            StoredTime::Local,
            Text("2026-11-29 00:00:00"),
            Text("2026-11-30 00:00:00"),
        );
        check(StoredTime::Unix, Int(1795906800), Int(1795993200));
        check(StoredTime::UnixMs, Int(1795906800000), Int(1795993200000));
        // The named forms do not change.
        assert_eq!(
            p(StoredTime::Unix).get("from_local"),
            Some(ParamValue::Text("2026-11-29 00:00:00"))
        );
        assert_eq!(p(StoredTime::Unix).from, "2026-11-28T23:00:00Z");
    }
}
