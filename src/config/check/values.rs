//! Typed values from the configuration: integers in a range, durations, words from a
//! fixed set, required strings, paths, secrets, zones, local dates and mailboxes. Each
//! records a problem at the value and returns a default, so that checking goes on.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use toml::{Spanned, Value};

use super::Checker;
use crate::config::diag::{did_you_mean, Subject};
use crate::config::limits::Limit;
use crate::config::raw::Int;
use crate::config::secret::Secret;

impl Checker<'_> {
    /// An integer in `lo..=hi`, or `default` when absent (or wrong, after recording it).
    pub(super) fn int(
        &mut self,
        v: &Option<Spanned<Int>>,
        subject: &Subject,
        key: &str,
        (lo, hi): (i64, i64),
        default: i64,
        unit: &str,
    ) -> i64 {
        match v {
            None => default,
            Some(s) if (i128::from(lo)..=i128::from(hi)).contains(s.get_ref()) => {
                *s.get_ref() as i64
            }
            Some(s) => {
                self.err(
                    s.span(),
                    subject,
                    key,
                    format!(
                        "{} is out of range; allowed: {lo} to {hi}{unit}",
                        s.get_ref()
                    ),
                );
                default
            }
        }
    }

    /// An integer key within its limit (range, default and unit from `limits`).
    pub(super) fn limit(
        &mut self,
        v: &Option<Spanned<Int>>,
        subject: &Subject,
        key: &str,
        limit: Limit,
    ) -> i64 {
        self.int(v, subject, key, limit.range(), limit.default, limit.unit)
    }

    /// A limit on concurrent work (`max_concurrent…`): `None` (no limit) when absent.
    pub(super) fn at_most(
        &mut self,
        v: &Option<Spanned<Int>>,
        subject: &Subject,
        key: &str,
    ) -> Option<usize> {
        v.as_ref()?;
        Some(self.limit(v, subject, key, crate::config::limits::MAX_CONCURRENT) as usize)
    }

    /// A key in seconds within its limit.
    pub(super) fn duration(
        &mut self,
        v: &Option<Spanned<Int>>,
        subject: &Subject,
        key: &str,
        limit: Limit,
    ) -> Duration {
        Duration::from_secs(self.limit(v, subject, key, limit) as u64)
    }

    /// One of a fixed set of words.
    pub(super) fn word<T: Copy>(
        &mut self,
        v: &Option<Spanned<String>>,
        subject: &Subject,
        key: &str,
        choices: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(s) = v else { return default };
        match choices.iter().find(|(n, _)| *n == s.get_ref()) {
            Some((_, t)) => *t,
            None => {
                let allowed: Vec<_> = choices.iter().map(|(n, _)| *n).collect();
                let hint = did_you_mean(s.get_ref(), allowed.iter().copied(), "\"");
                self.err(
                    s.span(),
                    subject,
                    key,
                    format!(
                        "\"{}\" is not allowed; {hint}allowed: {}",
                        s.get_ref().escape_default(),
                        allowed.join(", ")
                    ),
                );
                default
            }
        }
    }

    /// A required non-empty string; `table` is where to point when it is missing.
    pub(super) fn required(
        &mut self,
        v: &Option<Spanned<String>>,
        subject: &Subject,
        key: &str,
        table: &Range<usize>,
        what: &str,
    ) -> Option<String> {
        match v {
            Some(s) if !s.get_ref().trim().is_empty() => Some(s.get_ref().clone()),
            Some(s) => {
                self.err(s.span(), subject, key, format!("cannot be empty; {what}"));
                None
            }
            None => {
                self.err(
                    table.clone(),
                    subject,
                    key,
                    format!("missing key `{key}`; {what}"),
                );
                None
            }
        }
    }

    pub(super) fn tz(&mut self, v: &Spanned<String>, subject: &Subject, key: &str) -> Option<Tz> {
        let name = v.get_ref();
        match name.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                let zones = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
                let hint = did_you_mean(name, zones, "");
                self.err(
                    v.span(),
                    subject,
                    key,
                    format!(
                        "\"{}\" is not an IANA time zone; {hint}use a name such as America/New_York, Europe/Berlin or UTC",
                        name.escape_default()
                    ),
                );
                None
            }
        }
    }

    /// A path from the configuration: `~/` is the home directory, relative paths are
    /// relative to the configuration file's directory.
    pub(super) fn path(&self, s: &str) -> PathBuf {
        if let Some(rest) = s.strip_prefix("~/") {
            if let Some(home) = std::env::var_os("HOME") {
                return Path::new(&home).join(rest);
            }
        }
        if self.base_dir == Path::new(".") {
            PathBuf::from(s)
        } else {
            self.base_dir.join(s)
        }
    }

    /// A path that must exist when a run needs it; checked now under `preflight`.
    pub(super) fn existing_path(
        &mut self,
        v: &Spanned<String>,
        subject: &Subject,
        key: &str,
    ) -> PathBuf {
        let p = self.path(v.get_ref());
        if self.preflight && !p.exists() {
            self.err(
                v.span(),
                subject,
                key,
                format!("{} does not exist", p.display()),
            );
        }
        p
    }

    /// A secret that is required; `table` is where to point when it is missing.
    pub(super) fn required_secret(
        &mut self,
        v: &Option<Spanned<Value>>,
        subject: &Subject,
        key: &str,
        table: &Range<usize>,
        what: &str,
    ) -> Option<Secret> {
        if v.is_none() {
            self.err(
                table.clone(),
                subject,
                key,
                format!("missing key `{key}`: {what}, a secret such as {{ env = \"NAME\" }} or {{ file = \"/path\" }}"),
            );
            return None;
        }
        self.secret(v, subject, key)
    }

    pub(super) fn secret(
        &mut self,
        v: &Option<Spanned<Value>>,
        subject: &Subject,
        key: &str,
    ) -> Option<Secret> {
        let v = v.as_ref()?;
        const FORM: &str = "a secret is { env = \"NAME\" } or { file = \"/path/to/file\" }";
        let secret = match v.get_ref() {
            Value::String(s) => {
                if !self.allow_plain_secrets {
                    self.err(
                        v.span(),
                        subject,
                        key,
                        format!("a secret must not be written in the configuration; {FORM}, or set [settings] allow_plain_secrets = true"),
                    );
                    return None;
                }
                Secret::Plain(s.clone())
            }
            Value::Table(t) if t.len() == 1 => match t.iter().next() {
                Some((k, Value::String(s))) if k == "env" && !s.is_empty() => {
                    Secret::Env(s.clone())
                }
                Some((k, Value::String(s))) if k == "file" && !s.is_empty() => {
                    Secret::File(self.path(s))
                }
                _ => {
                    self.err(v.span(), subject, key, FORM);
                    return None;
                }
            },
            _ => {
                self.err(v.span(), subject, key, FORM);
                return None;
            }
        };
        let watched = secret.clone();
        crate::redact::watch(move || watched.read_quietly());
        if self.preflight {
            if let Err(e) = secret.resolve() {
                self.err(v.span(), subject, key, e);
            }
        }
        Some(secret)
    }

    pub(super) fn local_datetime(
        &mut self,
        v: &Spanned<Value>,
        subject: &Subject,
        key: &str,
    ) -> Option<NaiveDateTime> {
        const WANT: &str =
            "expected a local date-time in the report's zone, e.g. 2026-01-01T06:00:00 or 2026-01-01";
        let parsed = match v.get_ref() {
            Value::Datetime(dt) if dt.offset.is_some() => {
                self.err(
                    v.span(),
                    subject,
                    key,
                    format!("{dt} has a UTC offset; write a local date-time in the report's zone, e.g. 2026-01-01T06:00:00"),
                );
                return None;
            }
            Value::Datetime(dt) => parse_local(&dt.to_string()),
            Value::String(s) => parse_local(s),
            _ => None,
        };
        if parsed.is_none() {
            self.err(v.span(), subject, key, WANT);
        }
        parsed
    }

    pub(super) fn local_date(
        &mut self,
        v: &Spanned<Value>,
        subject: &Subject,
        key: &str,
    ) -> Option<NaiveDate> {
        let text = match v.get_ref() {
            Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.err(
                v.span(),
                subject,
                key,
                "expected a date such as 2026-11-01 (the day is included)",
            );
        }
        parsed
    }

    pub(super) fn mailbox(
        &mut self,
        v: &Spanned<String>,
        subject: &Subject,
        key: &str,
    ) -> Option<String> {
        // `{recipient.email}`: filled and parsed at run time (`config::recipients`).
        if crate::config::recipients::has_placeholder(v.get_ref()) {
            return match crate::config::recipients::field_columns(v.get_ref()) {
                Ok(_) => Some(v.get_ref().clone()),
                Err(e) => {
                    self.err(v.span(), subject, key, e);
                    None
                }
            };
        }
        match v.get_ref().parse::<lettre::message::Mailbox>() {
            Ok(_) => Some(v.get_ref().clone()),
            Err(_) => {
                self.err(
                    v.span(),
                    subject,
                    key,
                    format!(
                        "\"{}\" is not an email address; write name@example.com or \"Name <name@example.com>\"",
                        v.get_ref().escape_default()
                    ),
                );
                None
            }
        }
    }

    pub(super) fn mailboxes(
        &mut self,
        v: &Option<Spanned<Vec<Spanned<String>>>>,
        subject: &Subject,
        key: &str,
    ) -> Vec<String> {
        let Some(list) = v else { return Vec::new() };
        list.get_ref()
            .iter()
            .filter_map(|a| self.mailbox(a, subject, key))
            .collect()
    }
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_forms() {
        assert!(parse_local("2026-01-01").is_some());
        assert!(parse_local("2026-01-01T06:00").is_some());
        assert!(parse_local("2026-01-01 06:00:00").is_some());
        assert!(parse_local("2026-01-01T06:00:00Z").is_none());
    }
}
