//! Checking `[settings]`: the ledger, the spool, the limits every report inherits, the
//! SMTP server and the file naming defaults; and the machine's time zone.

use std::path::Path;

use chrono_tz::Tz;
use toml::Spanned;

use super::{Checker, Defaults};
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::names::{
    check_date_format, FileNameTemplate, DEFAULT_DATE_FORMAT, DEFAULT_TEMPLATE,
};
use crate::config::pgurl::{is_postgres_url, split_ssl_params, url_has_password};
use crate::config::raw::RawSettings;
use crate::config::secret::Secret;

impl Checker<'_> {
    /// libpq's `sslmode` and `sslrootcert` in a PostgreSQL ledger's URL.
    pub(super) fn state_tls(&mut self, v: &Spanned<String>, s: &Subject) {
        let (_, ssl) = split_ssl_params(v.get_ref());
        if let Some(m) = &ssl.sslmode {
            if SslMode::parse(m).is_none() {
                self.err(
                    v.span(),
                    s,
                    "state",
                    format!("sslmode={m} is not allowed; allowed: disable, prefer, require, verify-full"),
                );
            }
        }
        if let Some(ca) = &ssl.sslrootcert {
            if self.preflight && !Path::new(ca).exists() {
                self.err(
                    v.span(),
                    s,
                    "state",
                    format!("sslrootcert {ca} does not exist"),
                );
            }
        }
    }

    /// The ledger: a SQLite file (the default) or a PostgreSQL URL with its password.
    fn state(&mut self, raw: &RawSettings, s: &Subject) -> StateLocation {
        let state_password = self.secret(&raw.state_password, s, "state_password");
        match &raw.state {
            Some(v) if is_postgres_url(v.get_ref()) => {
                if url_has_password(v.get_ref()) && !self.allow_plain_secrets {
                    self.err(v.span(), s, "state", "the URL holds a password; put it in `state_password = { env = \"NAME\" }` instead, or set allow_plain_secrets = true");
                }
                self.state_tls(v, s);
                StateLocation::Postgres {
                    url: v.get_ref().clone(),
                    password: state_password,
                }
            }
            Some(v) => {
                if state_password.is_some() {
                    self.err(
                        v.span(),
                        s,
                        "state_password",
                        "only a PostgreSQL ledger (state = \"postgres://…\") takes a password",
                    );
                }
                let path = self.path(v.get_ref());
                self.sqlite_file(&path, v.span(), s, "state", true);
                StateLocation::Sqlite(path)
            }
            None => StateLocation::Sqlite(self.path(limits::DEFAULT_LEDGER)),
        }
    }

    pub(super) fn settings(&mut self, raw: Option<Spanned<RawSettings>>) -> Defaults {
        let subject = Subject::Settings;
        let raw = raw.map(Spanned::into_inner).unwrap_or_default();
        let s = &subject;
        self.allow_plain_secrets = raw
            .allow_plain_secrets
            .as_ref()
            .is_some_and(|b| *b.get_ref());
        let timezone = match &raw.timezone {
            Some(v) => self.tz(v, s, "timezone").unwrap_or(Tz::UTC),
            None => machine_zone(),
        };
        let state = self.state(&raw, s);
        let spool = raw.spool.as_ref().map_or_else(
            || self.path(limits::DEFAULT_SPOOL),
            |v| self.path(v.get_ref()),
        );
        let (spool_keep_days, keep_runs_days, max_range_days) = self.day_limits(&raw, s);
        let catch_up = self.limit(&raw.catch_up, s, "catch_up", limits::CATCH_UP) as u32;
        let lease = self.duration(&raw.lease_seconds, s, "lease_seconds", limits::LEASE);
        let max_parallel =
            self.limit(&raw.max_parallel, s, "max_parallel", limits::MAX_PARALLEL) as usize;
        let lock_timeout = self.duration(
            &raw.lock_timeout_seconds,
            s,
            "lock_timeout_seconds",
            limits::LOCK_TIMEOUT,
        );
        let (max_attempts, retry_delay, delivery_retries, delivery_backoff) = self.retries(&raw, s);
        let smtp = raw.smtp.as_ref().and_then(|m| self.smtp(m, s, "smtp"));
        let (check_grace, notify_on, metrics_file) = self.watching(&raw, s);
        let ping_url = self.ping_url(&raw.ping_url, s);
        let file_name = self.file_name(&raw.file_name, s, "file_name");
        let date_format = self.date_format(&raw.date_format, s, "date_format");
        Defaults {
            settings: Settings {
                timezone,
                state,
                spool,
                spool_keep_days,
                keep_runs_days,
                max_range_days,
                catch_up,
                lease,
                max_parallel,
                lock_timeout,
                max_attempts,
                retry_delay,
                delivery_retries,
                delivery_backoff,
                smtp,
                check_grace,
                notify_on,
                metrics_file,
                ping_url,
            },
            file_name: file_name.unwrap_or_else(|| {
                FileNameTemplate::parse(DEFAULT_TEMPLATE).expect("default template")
            }),
            date_format: date_format.unwrap_or_else(|| DEFAULT_DATE_FORMAT.to_string()),
            csv: raw.csv,
            parquet: raw.parquet,
        }
    }

    /// How long spool files and finished runs are kept, and the longest range a `run`
    /// may cover, in days.
    fn day_limits(&mut self, raw: &RawSettings, s: &Subject) -> (u32, u32, u32) {
        let spool_keep_days = self.limit(
            &raw.spool_keep_days,
            s,
            "spool_keep_days",
            limits::SPOOL_KEEP_DAYS,
        ) as u32;
        let keep_runs_days = self.limit(
            &raw.keep_runs_days,
            s,
            "keep_runs_days",
            limits::KEEP_RUNS_DAYS,
        ) as u32;
        let max_range_days = self.limit(
            &raw.max_range_days,
            s,
            "max_range_days",
            limits::MAX_RANGE_DAYS,
        ) as u32;
        (spool_keep_days, keep_runs_days, max_range_days)
    }

    /// `max_attempts`, `retry_delay_seconds`, `delivery_retries` and
    /// `delivery_backoff_seconds`.
    fn retries(
        &mut self,
        raw: &RawSettings,
        s: &Subject,
    ) -> (u32, std::time::Duration, u32, std::time::Duration) {
        let max_attempts =
            self.limit(&raw.max_attempts, s, "max_attempts", limits::MAX_ATTEMPTS) as u32;
        let retry_delay = self.duration(
            &raw.retry_delay_seconds,
            s,
            "retry_delay_seconds",
            limits::RETRY_DELAY,
        );
        let delivery_retries = self.limit(
            &raw.delivery_retries,
            s,
            "delivery_retries",
            limits::DELIVERY_RETRIES,
        ) as u32;
        let delivery_backoff = self.duration(
            &raw.delivery_backoff_seconds,
            s,
            "delivery_backoff_seconds",
            limits::DELIVERY_BACKOFF,
        );
        (
            max_attempts,
            retry_delay,
            delivery_retries,
            delivery_backoff,
        )
    }

    /// `check_grace_minutes`, `notify_on` and `metrics_file`.
    fn watching(
        &mut self,
        raw: &RawSettings,
        s: &Subject,
    ) -> (std::time::Duration, NotifyOn, Option<std::path::PathBuf>) {
        let check_grace = self.limit(
            &raw.check_grace_minutes,
            s,
            "check_grace_minutes",
            limits::CHECK_GRACE,
        );
        let notify_on = self.word(
            &raw.notify_on,
            s,
            "notify_on",
            &NotifyOn::CHOICES,
            NotifyOn::Always,
        );
        let grace = std::time::Duration::from_secs(check_grace as u64 * 60);
        let metrics_file = raw.metrics_file.as_ref().and_then(|v| {
            if v.get_ref().trim().is_empty() {
                let what = "must be a file path (node_exporter's textfile collector reads `*.prom` files in its directory); leave the key out to write no metrics";
                self.err(v.span(), s, "metrics_file", what);
                return None;
            }
            Some(self.path(v.get_ref()))
        });
        (grace, notify_on, metrics_file)
    }

    /// `ping_url`: a URL (checked now), or a secret reference holding one (checked when
    /// read, before each ping).
    pub(super) fn ping_url(
        &mut self,
        v: &Option<Spanned<toml::Value>>,
        s: &Subject,
    ) -> Option<Secret> {
        let value = v.as_ref()?;
        let toml::Value::String(url) = value.get_ref() else {
            return self.secret(v, s, "ping_url");
        };
        if let Err(e) = check_ping_url(url) {
            self.err(
                value.span(),
                s,
                "ping_url",
                format!("{e}; expected a URL such as \"https://hc-ping.com/<uuid>\", or {{ env = \"NAME\" }} holding one"),
            );
            return None;
        }
        Some(Secret::Plain(url.clone()))
    }

    pub(super) fn file_name(
        &mut self,
        v: &Option<Spanned<String>>,
        subject: &Subject,
        key: &str,
    ) -> Option<FileNameTemplate> {
        let v = v.as_ref()?;
        match FileNameTemplate::parse(v.get_ref()) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err(v.span(), subject, key, e);
                None
            }
        }
    }

    pub(super) fn date_format(
        &mut self,
        v: &Option<Spanned<String>>,
        subject: &Subject,
        key: &str,
    ) -> Option<String> {
        let v = v.as_ref()?;
        match check_date_format(v.get_ref()) {
            Ok(()) => Some(v.get_ref().clone()),
            Err(e) => {
                self.err(v.span(), subject, key, e);
                None
            }
        }
    }
}

/// The machine's zone: `TZ` when it names an IANA zone, else the system setting, else
/// UTC. A `TZ` that names no zone reportctl knows gets one warning saying what is used.
pub fn machine_zone() -> Tz {
    static ZONE: std::sync::OnceLock<Tz> = std::sync::OnceLock::new();
    *ZONE.get_or_init(|| {
        let tz = std::env::var_os("TZ").map(|v| v.to_string_lossy().into_owned());
        let (zone, unknown) = zone_from_tz(tz.as_deref(), system_zone);
        if let Some(value) = unknown {
            crate::ui::warn(format!(
                "TZ={value:?} is not an IANA time zone name; using {} (the system zone) instead; set TZ to a name such as America/New_York, or `timezone` in [settings]",
                zone.name()
            ));
        }
        zone
    })
}

fn system_zone() -> Tz {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|n| n.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

/// The zone a `TZ` value names (`Europe/Berlin`, `:Europe/Berlin`,
/// `:/usr/share/zoneinfo/Europe/Berlin`), else `system()`; with the value when it was
/// set but names no zone. An empty `TZ` counts as unset.
fn zone_from_tz(tz: Option<&str>, system: impl Fn() -> Tz) -> (Tz, Option<String>) {
    match tz {
        None | Some("") => (system(), None),
        Some(value) => {
            let name = value.trim_start_matches(':');
            let name = name.rsplit_once("zoneinfo/").map_or(name, |(_, n)| n);
            match name.parse::<Tz>() {
                Ok(z) => (z, None),
                Err(_) => (system(), Some(value.to_string())),
            }
        }
    }
}

/// A ping URL: http or https, with a host, no user or password in it.
pub fn check_ping_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "a ping URL is http:// or https://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the ping URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the ping URL holds a user or password; healthchecks-style URLs carry their key in the path".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tz_values() {
        let sys = || chrono_tz::Europe::Berlin;
        let ny = chrono_tz::America::New_York;
        assert_eq!(zone_from_tz(Some("America/New_York"), sys), (ny, None));
        assert_eq!(zone_from_tz(Some(":America/New_York"), sys), (ny, None));
        let path = ":/usr/share/zoneinfo/America/New_York";
        assert_eq!(zone_from_tz(Some(path), sys), (ny, None));
        assert_eq!(zone_from_tz(None, sys), (sys(), None));
        assert_eq!(zone_from_tz(Some(""), sys), (sys(), None));
        assert_eq!(
            zone_from_tz(Some("Mars/Base"), sys),
            (sys(), Some("Mars/Base".to_string()))
        );
    }

    #[test]
    fn ping_urls_are_checked() {
        assert!(check_ping_url("https://hc-ping.com/abc").is_ok());
        assert!(check_ping_url("http://127.0.0.1:8000/x/y").is_ok());
        assert!(check_ping_url("ftp://h/x")
            .unwrap_err()
            .contains("not ftp://"));
        assert!(check_ping_url("hc-ping.com/abc")
            .unwrap_err()
            .starts_with("not a URL"));
        assert!(check_ping_url("https://u:p@h/x")
            .unwrap_err()
            .contains("user or password"));
    }
}
