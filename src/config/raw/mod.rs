//! Stage one of configuration loading: plain serde structs that mirror the TOML file,
//! with unknown keys rejected and every value kept with its byte span so that stage two
//! (`check`) can point at it. Nothing here is validated beyond its TOML type.
//!
//! Values that may take several TOML shapes (secrets, local date-times, `once`) are read
//! as `toml::Value` and interpreted in stage two, where the error can say what is allowed.
//!
//! `read` is the reader that fills these structs from the parsed document, part by part;
//! `halves` reads a large file on two threads with it.

pub(super) mod halves;
mod messages;
pub(super) mod read;
mod unknown;

/// The first stage: the document parsed and read into raw structs, with the problems
/// found on the way; `Err` for a syntax error, which stops everything. A large file is
/// read on two threads when that provably reads the same (see `halves`).
pub(super) fn read_raw(
    src: &crate::config::SourceText<'_>,
) -> Result<(RawConfig, Vec<crate::config::Diagnostic>), crate::config::ConfigErrors> {
    match halves::cut(src.text).and_then(|at| halves::read(src, at)) {
        Some(raw) => Ok((raw, Vec::new())),
        None => read::read_whole(src),
    }
}

use std::ops::Range;

use serde::de::IgnoredAny;
use serde::Deserialize;
use toml::Spanned;

use super::diag::Subject;

pub type S<T> = Spanned<T>;

/// An integer setting as written. Wider than any setting needs, so that a value too
/// large for 64 bits still reaches its range check (and gets the allowed range in the
/// message) instead of a bare serde error.
pub type Int = i128;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub timezone: Option<S<String>>,
    pub state: Option<S<String>>,
    pub state_password: Option<S<toml::Value>>,
    pub spool: Option<S<String>>,
    pub spool_keep_days: Option<S<Int>>,
    pub max_range_days: Option<S<Int>>,
    pub catch_up: Option<S<Int>>,
    pub lease_seconds: Option<S<Int>>,
    pub lock_timeout_seconds: Option<S<Int>>,
    pub max_attempts: Option<S<Int>>,
    pub retry_delay_seconds: Option<S<Int>>,
    pub delivery_retries: Option<S<Int>>,
    pub delivery_backoff_seconds: Option<S<Int>>,
    pub allow_plain_secrets: Option<S<bool>>,
    pub file_name: Option<S<String>>,
    pub date_format: Option<S<String>>,
    pub csv: Option<S<RawCsv>>,
    pub smtp: Option<S<RawSmtp>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCsv {
    pub delimiter: Option<S<String>>,
    pub header: Option<S<bool>>,
    pub bom: Option<S<bool>>,
    pub line_ending: Option<S<String>>,
    pub formula_guard: Option<S<bool>>,
    pub null: Option<S<String>>,
    pub blob: Option<S<String>>,
    pub compression: Option<S<String>>,
    pub compress_above_mb: Option<S<Number>>,
}

/// A number written either as an integer or a float (`10` or `0.5`).
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(Int),
    Float(f64),
}

/// By hand rather than `#[serde(untagged)]`, which cannot hold integers beyond 64 bits.
impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Number, E> {
                Ok(Number::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Number, E> {
                Ok(Number::Int(Int::try_from(v).unwrap_or(Int::MAX)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number::Float(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Number {
    pub fn get(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<S<String>>,
    pub port: Option<S<Int>>,
    pub tls: Option<S<String>>,
    pub user: Option<S<String>>,
    pub password: Option<S<toml::Value>>,
    pub from: Option<S<String>>,
    pub ca_file: Option<S<String>>,
    pub timeout_seconds: Option<S<Int>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSqliteSource {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub path: Option<S<String>>,
    pub init: Option<S<Vec<S<String>>>>,
    pub busy_timeout_ms: Option<S<Int>>,
    /// How the database stores times: the form `:from` and `:to` bind in.
    pub time_format: Option<S<String>>,
    pub events: Option<S<RawEvents>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostgresSource {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub url: Option<S<String>>,
    pub host: Option<S<String>>,
    pub port: Option<S<Int>>,
    pub user: Option<S<String>>,
    pub dbname: Option<S<String>>,
    pub password: Option<S<toml::Value>>,
    pub sslmode: Option<S<String>>,
    pub ca_file: Option<S<String>>,
    pub connect_timeout_seconds: Option<S<Int>>,
    pub statement_timeout_seconds: Option<S<Int>>,
    pub events: Option<S<RawEvents>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommandSource {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub program: Option<S<String>>,
    pub args: Option<S<Vec<S<String>>>>,
    pub env: Option<S<toml::Table>>,
    pub timeout_seconds: Option<S<Int>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirectoryDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub path: Option<S<String>>,
    pub keep_days: Option<S<Int>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmailDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub to: Option<S<Vec<S<String>>>>,
    pub cc: Option<S<Vec<S<String>>>>,
    pub bcc: Option<S<Vec<S<String>>>>,
    pub from: Option<S<String>>,
    pub subject: Option<S<String>>,
    pub body: Option<S<String>>,
    pub max_attachment_mb: Option<S<Number>>,
    pub smtp: Option<S<RawSmtp>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSftpDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub host: Option<S<String>>,
    pub port: Option<S<Int>>,
    pub user: Option<S<String>>,
    pub path: Option<S<String>>,
    pub known_hosts: Option<S<String>>,
    pub accept_new_host_key: Option<S<bool>>,
    pub key_file: Option<S<String>>,
    pub key_passphrase: Option<S<toml::Value>>,
    pub password: Option<S<toml::Value>>,
    pub agent: Option<S<bool>>,
    pub create_dirs: Option<S<bool>>,
    pub connect_timeout_seconds: Option<S<Int>>,
    pub io_timeout_seconds: Option<S<Int>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawS3Dest {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub bucket: Option<S<String>>,
    pub prefix: Option<S<String>>,
    pub region: Option<S<String>>,
    pub endpoint: Option<S<String>>,
    pub path_style: Option<S<bool>>,
    pub access_key_id: Option<S<toml::Value>>,
    pub secret_access_key: Option<S<toml::Value>>,
    pub session_token: Option<S<toml::Value>>,
    pub sse: Option<S<String>>,
    pub sse_kms_key_id: Option<S<String>>,
    pub content_type: Option<S<String>>,
    pub link_minutes: Option<S<Int>>,
    pub part_size_mb: Option<S<Int>>,
    pub multipart_threshold_mb: Option<S<Int>>,
}

/// A report without its sub-tables (`schedule`, `csv`, `outputs`), which are read on
/// their own so that a mistake in one does not hide mistakes in the others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub name: Option<S<String>>,
    #[serde(rename = "type")]
    pub kind: Option<S<String>>,
    pub source: Option<S<String>>,
    pub query: Option<S<String>>,
    pub query_file: Option<S<String>>,
    pub destinations: Option<S<Vec<S<String>>>>,
    pub notify: Option<S<Vec<S<String>>>>,
    pub timezone: Option<S<String>>,
    pub status: Option<S<String>>,
    pub backfill: Option<S<bool>>,
    pub file_name: Option<S<String>>,
    pub date_format: Option<S<String>>,
    pub max_attempts: Option<S<Int>>,
    /// Read on their own before this struct; listed so that unknown-key errors name them.
    pub outputs: Option<IgnoredAny>,
    pub csv: Option<IgnoredAny>,
    pub schedule: Option<IgnoredAny>,
    pub events: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    #[serde(rename = "type")]
    pub file_type: Option<S<String>>,
    pub query: Option<S<String>>,
    pub query_file: Option<S<String>>,
    /// `sql` (with `query`), `summary` or `detail`.
    pub kind: Option<S<String>>,
    pub traffic: Option<S<Vec<S<String>>>>,
    pub group_by: Option<S<Vec<S<String>>>>,
    pub time_series: Option<S<toml::Value>>,
    pub counters: Option<S<Vec<S<String>>>>,
    pub columns_order: Option<S<Vec<S<String>>>>,
    pub filter: Option<S<RawFilter>>,
    pub traffic_filter: Option<S<std::collections::BTreeMap<String, S<RawFilter>>>>,
    pub exclude_data: Option<S<Vec<S<String>>>>,
    pub row_limit: Option<S<Int>>,
    pub cardinality_limit: Option<S<Int>>,
}

/// A filter table: dimension names (include), `exclude_<dimension>`, and
/// `tags_any` / `tags_only` / `tags_none`; checked against the events mapping.
pub type RawFilter = std::collections::BTreeMap<String, S<Vec<S<String>>>>;

/// An events mapping (`[sources.NAME.events]` or `[reports.events]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    pub table: Option<S<String>>,
    pub time: Option<S<String>>,
    pub time_format: Option<S<String>>,
    pub traffic: Option<S<String>>,
    pub id: Option<S<String>>,
    pub tags: Option<S<String>>,
    /// Dimension → a column, or several columns (matched touchpoints).
    pub dimensions: Option<S<std::collections::BTreeMap<String, S<toml::Value>>>>,
    pub measures: Option<S<std::collections::BTreeMap<String, S<String>>>>,
    pub default_columns: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub frequency: Option<S<String>>,
    pub every: Option<S<Int>>,
    pub run_on: Option<S<Int>>,
    pub at: Option<S<String>>,
    pub delay: Option<S<Int>>,
    pub previous_time: Option<S<Int>>,
    /// A named window (`yesterday`, `last_7_days`, `previous_month`, …).
    pub window: Option<S<String>>,
    pub start: Option<S<toml::Value>>,
    pub stop: Option<S<toml::Value>>,
    pub send_at: Option<S<String>>,
    pub included_range_days: Option<S<Int>>,
    pub once: Option<S<toml::Value>>,
    pub from: Option<S<toml::Value>>,
    pub to: Option<S<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPickupDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    pub kind: Option<IgnoredAny>,
    pub path: Option<S<String>>,
    pub keep_days: Option<S<Int>>,
    pub naming: Option<S<String>>,
    pub app_id: Option<S<String>>,
}

/// `[serve]`: the pickup API (`reportctl serve`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServe {
    pub listen: Option<S<String>>,
    pub public_url: Option<S<String>>,
    pub api_key: Option<S<toml::Value>>,
    pub link_secret: Option<S<toml::Value>>,
    pub link_minutes: Option<S<Int>>,
    pub request_timeout_seconds: Option<S<Int>>,
    pub max_request_bytes: Option<S<Int>>,
    pub max_connections: Option<S<Int>>,
    pub max_connections_per_client: Option<S<Int>>,
    pub send_timeout_seconds: Option<S<Int>>,
    pub idle_timeout_seconds: Option<S<Int>>,
    pub shutdown_grace_seconds: Option<S<Int>>,
    /// `[serve.apps.APP_ID]`: an app of the app download endpoint, one table per app.
    pub apps: Option<S<std::collections::BTreeMap<S<String>, S<RawApp>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    pub api_key: Option<S<toml::Value>>,
    pub signature_secret: Option<S<toml::Value>>,
}

/// Everything the file holds, read into raw structs where it could be.
#[derive(Default)]
pub struct RawConfig {
    pub settings: Option<Spanned<RawSettings>>,
    pub sources: Vec<RawNamed<RawSource>>,
    pub destinations: Vec<RawNamed<RawDestination>>,
    pub reports: Vec<RawReportParts>,
    pub serve: Option<Spanned<RawServe>>,
    /// Names of sources and destinations whose tables could not be read (their errors
    /// are recorded): reports naming them get no second error.
    pub unreadable_sources: Vec<String>,
    pub unreadable_destinations: Vec<String>,
    /// `[settings]` is in the file but could not be read.
    pub settings_unreadable: bool,
    /// Set when some part could not be read at all (errors already recorded).
    pub incomplete: bool,
}

pub struct RawNamed<T> {
    pub name: Spanned<String>,
    pub span: Range<usize>,
    pub value: T,
}

pub enum RawSource {
    Sqlite(Box<RawSqliteSource>),
    Postgres(Box<RawPostgresSource>),
    Command(Box<RawCommandSource>),
}

pub enum RawDestination {
    Directory(Box<RawDirectoryDest>),
    Email(Box<RawEmailDest>),
    Sftp(Box<RawSftpDest>),
    S3(Box<RawS3Dest>),
    Pickup(Box<RawPickupDest>),
}

pub struct RawReportParts {
    pub index: usize,
    pub span: Range<usize>,
    pub subject: Subject,
    // Boxed: ten thousand reports are read, most without `csv` or `events`, and each
    // raw part is hundreds of bytes.
    pub report: Option<Box<RawReport>>,
    pub schedule: Option<Box<Spanned<RawSchedule>>>,
    pub csv: Option<Box<Spanned<RawCsv>>>,
    pub events: Option<Box<Spanned<RawEvents>>>,
    pub outputs: Option<Vec<Spanned<RawOutput>>>,
    /// False when a part was present but unreadable: the report is not checked further.
    pub complete: bool,
}
