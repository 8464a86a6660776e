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
        }
    }

    /// The value of the parameter called `name` (without its `:`), if it is one.
    pub fn get(&self, name: &str) -> Option<ParamValue<'_>> {
        Some(match name {
            "from" => ParamValue::Text(&self.from),
            "to" => ParamValue::Text(&self.to),
            "from_local" => ParamValue::Text(&self.from_local),
            "to_local" => ParamValue::Text(&self.to_local),
            "from_date" => ParamValue::Text(&self.from_date),
            "to_date" => ParamValue::Text(&self.to_date),
            "from_epoch" => ParamValue::Int(self.from_epoch),
            "to_epoch" => ParamValue::Int(self.to_epoch),
            _ => return None,
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
}
