//! Stage two of configuration loading: raw structs in, checked `model` types out. Each
//! problem becomes a `Diagnostic` pointing at the offending value; checking goes on
//! after a problem so that one pass finds them all.

mod database;
mod endpoints;
mod report;
mod schedule;
mod serve;
mod spool;
mod structured;

pub use endpoints::{DEFAULT_BODY, DEFAULT_SUBJECT};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use toml::{Spanned, Value};

use super::diag::{Diagnostic, SourceText, Subject};
use super::model::*;
use super::raw::{RawCsv, RawSettings};
use super::secret::Secret;
use super::{RawConfig, RawReportParts};
use crate::render::naming::{
    check_date_format, check_identifier, FileNameTemplate, DEFAULT_DATE_FORMAT, DEFAULT_TEMPLATE,
};

pub struct Checker<'a> {
    src: &'a SourceText<'a>,
    base_dir: PathBuf,
    pub errors: Vec<Diagnostic>,
    /// Problems that do not stop the configuration from loading (an old spelling of a
    /// value): every command that loads it prints them on stderr.
    pub warnings: Vec<Diagnostic>,
    allow_plain_secrets: bool,
    /// Also check what a run will need from the outside world: secrets resolvable,
    /// files present. `validate` asks for this; `plan` and `list` do not.
    pub preflight: bool,
    /// The columns of tables looked up under `preflight`, by source and table: each
    /// database is asked once, not once per report.
    table_columns: HashMap<(String, Vec<String>), TableColumns>,
    /// `validate`'s read-only verdicts, by (source, query): many reports share a query.
    read_checks: HashMap<(String, String), Option<String>>,
    /// `validate`'s connections to SQLite files, by source, opened once (`None`: the
    /// file is not a database, which is reported on the source's `path`).
    sqlite_files: HashMap<String, Option<Result<rusqlite::Connection, String>>>,
}

type TableColumns = Result<Option<Vec<String>>, String>;

/// From this many reports on, they are checked on two threads.
const PARALLEL_REPORTS: usize = 2000;

/// What reports may refer to: the sources declared (and those that checked out), and
/// the destinations declared.
struct References<'r> {
    sources: (&'r BTreeSet<String>, &'r BTreeMap<String, Source>),
    destinations: &'r BTreeSet<String>,
}

/// Settings as the reports see them: checked values plus the defaults reports inherit.
pub(crate) struct Defaults {
    settings: Settings,
    file_name: FileNameTemplate,
    date_format: String,
    csv: Option<Spanned<RawCsv>>,
}

impl<'a> Checker<'a> {
    pub fn new(src: &'a SourceText<'a>, base_dir: PathBuf) -> Self {
        Checker {
            src,
            base_dir,
            errors: Vec::new(),
            warnings: Vec::new(),
            allow_plain_secrets: false,
            preflight: false,
            table_columns: HashMap::new(),
            read_checks: HashMap::new(),
            sqlite_files: HashMap::new(),
        }
    }

    pub fn config(&mut self, raw: RawConfig) -> Option<Config> {
        self.pickup_rules(&raw);
        let spool_span = raw
            .settings
            .as_ref()
            .and_then(|s| s.get_ref().spool.as_ref())
            .map(Spanned::span);
        let defaults = self.settings(raw.settings);
        let serve = raw.serve.as_ref().map(|s| self.serve(s));
        // Reports may name a source or destination that has problems of its own: those
        // are reported once, at the source or destination, not again at every report.
        let declared_sources: BTreeSet<String> = raw
            .sources
            .iter()
            .map(|s| s.name.get_ref().clone())
            .collect();
        let declared_destinations: BTreeSet<String> = raw
            .destinations
            .iter()
            .map(|d| d.name.get_ref().clone())
            .collect();
        let mut sources = BTreeMap::new();
        for s in raw.sources {
            let subject = Subject::Source(s.name.get_ref().clone());
            if let Err(e) = check_identifier("source name", s.name.get_ref()) {
                self.err(s.name.span(), &subject, "", e);
            }
            if let Some(kind) = self.source(s.value, &subject, s.span.clone()) {
                let name = s.name.into_inner();
                sources.insert(name.clone(), Source { name, kind });
            }
        }
        let mut destinations = BTreeMap::new();
        for d in raw.destinations {
            let subject = Subject::Destination(d.name.get_ref().clone());
            if let Err(e) = check_identifier("destination name", d.name.get_ref()) {
                self.err(d.name.span(), &subject, "", e);
            }
            let span = d.span.clone();
            if let Some(kind) = self.destination(d.value, &subject, span, &defaults.settings) {
                let name = d.name.into_inner();
                destinations.insert(name.clone(), Destination { name, kind });
            }
        }
        self.spool_placement(spool_span, &defaults.settings, &destinations);
        self.unique_report_names(&raw.reports);
        let refs = References {
            sources: (&declared_sources, &sources),
            destinations: &declared_destinations,
        };
        let reports = self.reports(raw.reports, &defaults, &refs);
        if raw.incomplete || matches!(serve, Some(None)) {
            return None;
        }
        Some(Config {
            path: self.src.path.to_path_buf(),
            settings: defaults.settings,
            sources,
            destinations,
            reports,
            serve: serve.flatten(),
            warnings: Vec::new(),
        })
    }

    /// Checks each report. Thousands of them are checked on two threads, each with
    /// its own checker (errors and the caches of `validate`), in configuration order.
    fn reports(
        &mut self,
        mut parts: Vec<RawReportParts>,
        defaults: &Defaults,
        refs: &References<'_>,
    ) -> Vec<Report> {
        let mut reports: Vec<Report> = Vec::with_capacity(parts.len());
        let tail = (parts.len() >= PARALLEL_REPORTS).then(|| parts.split_off(parts.len() / 2));
        std::thread::scope(|scope| {
            let tail = tail.map(|tail| {
                let mut worker = self.worker();
                scope.spawn(move || {
                    let checked: Vec<Report> = tail
                        .into_iter()
                        .filter_map(|p| worker.report(p, defaults, refs.sources, refs.destinations))
                        .collect();
                    (checked, worker.errors, worker.warnings)
                })
            });
            for p in parts {
                if let Some(r) = self.report(p, defaults, refs.sources, refs.destinations) {
                    reports.push(r);
                }
            }
            if let Some(tail) = tail {
                let (checked, errors, warnings) =
                    tail.join().expect("the report checker does not panic");
                reports.extend(checked);
                self.errors.extend(errors);
                self.warnings.extend(warnings);
            }
        });
        reports
    }

    /// A checker for the same file and settings, with no errors or warnings and empty
    /// caches.
    fn worker(&self) -> Checker<'a> {
        let mut c = Checker::new(self.src, self.base_dir.clone());
        c.allow_plain_secrets = self.allow_plain_secrets;
        c.preflight = self.preflight;
        c
    }

    // ----- reporting -----

    fn err(&mut self, span: Range<usize>, subject: &Subject, key: &str, msg: impl Into<String>) {
        let key = (!key.is_empty()).then(|| key.to_string());
        let d = self.src.diagnostic(Some(span), subject.clone(), key, msg);
        self.errors.push(d);
    }

    fn warn(&mut self, span: Range<usize>, subject: &Subject, key: &str, msg: impl Into<String>) {
        let key = (!key.is_empty()).then(|| key.to_string());
        let d = self.src.diagnostic(Some(span), subject.clone(), key, msg);
        self.warnings.push(d);
    }

    // ----- typed values -----

    /// An integer in `lo..=hi`, or `default` when absent (or wrong, after recording it).
    fn int(
        &mut self,
        v: &Option<Spanned<crate::config::raw::Int>>,
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

    fn seconds(
        &mut self,
        v: &Option<Spanned<crate::config::raw::Int>>,
        subject: &Subject,
        key: &str,
        range: (i64, i64),
        default: i64,
    ) -> Duration {
        Duration::from_secs(self.int(v, subject, key, range, default, " seconds") as u64)
    }

    /// One of a fixed set of words.
    fn word<T: Copy>(
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
                self.err(
                    s.span(),
                    subject,
                    key,
                    format!(
                        "\"{}\" is not allowed; allowed: {}",
                        s.get_ref().escape_default(),
                        allowed.join(", ")
                    ),
                );
                default
            }
        }
    }

    /// A required non-empty string; `table` is where to point when it is missing.
    fn required(
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

    fn tz(&mut self, v: &Spanned<String>, subject: &Subject, key: &str) -> Option<Tz> {
        let name = v.get_ref();
        match name.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                let hint = suggest_zone(name)
                    .map(|z| format!("did you mean {z}? "))
                    .unwrap_or_default();
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
    fn path(&self, s: &str) -> PathBuf {
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
    fn existing_path(&mut self, v: &Spanned<String>, subject: &Subject, key: &str) -> PathBuf {
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

    fn secret(
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
        crate::redact::watch(&secret);
        if self.preflight {
            if let Err(e) = secret.resolve() {
                self.err(v.span(), subject, key, e);
            }
        }
        Some(secret)
    }

    fn local_datetime(
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

    fn local_date(
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

    fn mailbox(&mut self, v: &Spanned<String>, subject: &Subject, key: &str) -> Option<String> {
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

    fn mailboxes(
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

    // ----- [settings] -----

    /// libpq's `sslmode` and `sslrootcert` in a PostgreSQL ledger's URL.
    fn state_tls(&mut self, v: &Spanned<String>, s: &Subject) {
        let (_, ssl) = crate::pgconn::split_ssl_params(v.get_ref());
        if let Some(m) = &ssl.sslmode {
            if crate::pgconn::parse_sslmode(m).is_none() {
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

    fn settings(&mut self, raw: Option<Spanned<RawSettings>>) -> Defaults {
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
        let state_password = self.secret(&raw.state_password, s, "state_password");
        let state = match &raw.state {
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
            None => StateLocation::Sqlite(self.path(".reportctl/ledger.sqlite")),
        };
        let spool = raw
            .spool
            .as_ref()
            .map_or_else(|| self.path(".reportctl/spool"), |v| self.path(v.get_ref()));
        let spool_keep_days = self.int(
            &raw.spool_keep_days,
            s,
            "spool_keep_days",
            (1, 3660),
            7,
            " days",
        ) as u32;
        let max_range_days = self.int(
            &raw.max_range_days,
            s,
            "max_range_days",
            (1, 3660),
            90,
            " days",
        ) as u32;
        let catch_up = self.int(&raw.catch_up, s, "catch_up", (1, 1000), 24, " slots") as u32;
        let lease = self.seconds(&raw.lease_seconds, s, "lease_seconds", (2, 86400), 600);
        let lock_timeout = self.seconds(
            &raw.lock_timeout_seconds,
            s,
            "lock_timeout_seconds",
            (0, 3600),
            60,
        );
        let max_attempts = self.int(&raw.max_attempts, s, "max_attempts", (1, 100), 5, "") as u32;
        let retry_delay = self.seconds(
            &raw.retry_delay_seconds,
            s,
            "retry_delay_seconds",
            (0, 86400),
            60,
        );
        let delivery_retries = self.int(
            &raw.delivery_retries,
            s,
            "delivery_retries",
            (0, 10),
            2,
            " retries",
        ) as u32;
        let delivery_backoff = self.seconds(
            &raw.delivery_backoff_seconds,
            s,
            "delivery_backoff_seconds",
            (0, 300),
            5,
        );
        let smtp = raw.smtp.as_ref().and_then(|m| self.smtp(m, s, "smtp"));
        let file_name = self.file_name(&raw.file_name, s, "file_name");
        let date_format = self.date_format(&raw.date_format, s, "date_format");
        Defaults {
            settings: Settings {
                timezone,
                state,
                spool,
                spool_keep_days,
                max_range_days,
                catch_up,
                lease,
                lock_timeout,
                max_attempts,
                retry_delay,
                delivery_retries,
                delivery_backoff,
                smtp,
            },
            file_name: file_name.unwrap_or_else(|| {
                FileNameTemplate::parse(DEFAULT_TEMPLATE).expect("default template")
            }),
            date_format: date_format.unwrap_or_else(|| DEFAULT_DATE_FORMAT.to_string()),
            csv: raw.csv,
        }
    }

    fn file_name(
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

    fn date_format(
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

    /// CSV options: the report's keys over `[settings.csv]` over the defaults.
    fn csv(
        &mut self,
        settings: Option<&Spanned<RawCsv>>,
        report: Option<&Spanned<RawCsv>>,
        subject: &Subject,
    ) -> CsvOptions {
        let mut o = CsvOptions::default();
        let layers = [
            settings.map(|c| (c.get_ref(), Subject::Settings)),
            report.map(|c| (c.get_ref(), subject.clone())),
        ];
        for (c, subject) in layers.into_iter().flatten() {
            let s = &subject;
            if let Some(d) = &c.delimiter {
                match d.get_ref().as_bytes() {
                    [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => o.delimiter = *b,
                    _ => self.err(d.span(), s, "csv.delimiter", "must be one ASCII character other than a quote or a line break, e.g. \",\", \";\" or \"\\t\""),
                }
            }
            if let Some(b) = &c.header {
                o.header = *b.get_ref();
            }
            if let Some(b) = &c.bom {
                o.bom = *b.get_ref();
            }
            if let Some(b) = &c.formula_guard {
                o.formula_guard = *b.get_ref();
            }
            if let Some(n) = &c.null {
                o.null = n.get_ref().clone();
            }
            o.crlf = self.word(
                &c.line_ending,
                s,
                "csv.line_ending",
                &[("lf", false), ("crlf", true)],
                o.crlf,
            );
            o.blob = self.word(
                &c.blob,
                s,
                "csv.blob",
                &[
                    ("refuse", BlobEncoding::Refuse),
                    ("hex", BlobEncoding::Hex),
                    ("base64", BlobEncoding::Base64),
                ],
                o.blob,
            );
            o.compression = self.word(
                &c.compression,
                s,
                "csv.compression",
                &[
                    ("none", Compression::None),
                    ("gzip", Compression::Gzip),
                    ("zip", Compression::Zip),
                ],
                o.compression,
            );
            if let Some(mb) = &c.compress_above_mb {
                let v = mb.get_ref().get();
                if v > 0.0 && v <= 1_048_576.0 {
                    o.compress_above = Some((v * 1024.0 * 1024.0) as u64);
                } else {
                    self.err(
                        mb.span(),
                        s,
                        "csv.compress_above_mb",
                        format!(
                            "{} is out of range; allowed: more than 0 up to 1048576 (MB)",
                            match mb.get_ref() {
                                crate::config::raw::Number::Int(i) => i.to_string(),
                                crate::config::raw::Number::Float(f) => f.to_string(),
                            }
                        ),
                    );
                }
            }
        }
        if o.compress_above.is_some() && o.compression == Compression::None {
            let span = report.or(settings).map_or(0..0, |c| c.span());
            self.err(
                span,
                subject,
                "csv.compress_above_mb",
                "compresses files above a size, so it needs compression = \"gzip\" or \"zip\"",
            );
        }
        o
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

pub(crate) fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Whether a `postgres://user:password@host` URL carries a password.
pub(crate) fn url_has_password(s: &str) -> bool {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
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

fn suggest_zone(name: &str) -> Option<&'static str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace([' ', '_', '-'], "");
    let want = norm(name);
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .find(|z| norm(z) == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_spotted() {
        assert!(url_has_password("postgres://u:p@h/db"));
        assert!(!url_has_password("postgres://u@h/db"));
        assert!(!url_has_password("postgres://h/db?user=u"));
        assert!(url_has_password("postgresql://u:p%40x@h:5432/db"));
    }

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
    fn zone_suggestions() {
        assert_eq!(suggest_zone("america/new york"), Some("America/New_York"));
        assert_eq!(suggest_zone("Nowhere/Else"), None);
    }

    #[test]
    fn local_forms() {
        assert!(parse_local("2026-01-01").is_some());
        assert!(parse_local("2026-01-01T06:00").is_some());
        assert!(parse_local("2026-01-01 06:00:00").is_some());
        assert!(parse_local("2026-01-01T06:00:00Z").is_none());
    }
}
