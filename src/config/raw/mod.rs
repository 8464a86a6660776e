//! Stage one of configuration loading: plain serde structs that mirror the TOML file,
//! with unknown keys rejected and every value kept with its byte span so that stage two
//! (`check`) can point at it. Nothing here is validated beyond its TOML type.
//!
//! Values that may take several TOML shapes (secrets, local date-times, `once`) are read
//! as `toml::Value` and interpreted in stage two, where the error can say what is allowed.
//!
//! `read` is the reader that fills these structs from the parsed document, part by part;
//! `halves` reads a large file on two threads with it.

mod endpoints;
pub(super) mod files;
pub(super) mod halves;
mod messages;
mod outputs;
pub(super) mod read;
pub mod schema;
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

pub use endpoints::*;
pub use outputs::*;

pub type S<T> = Spanned<T>;

/// An integer setting as written. Wider than any setting needs, so that a value too
/// large for 64 bits still reaches its range check (and gets the allowed range in the
/// message) instead of a bare serde error.
pub type Int = i128;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Settings")]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    #[schemars(with = "Option<String>")]
    pub timezone: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub state: Option<S<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub state_password: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub spool: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub spool_keep_days: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub keep_runs_days: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub max_range_days: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub catch_up: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub lease_seconds: Option<S<Int>>,
    /// How many claimed runs `run-due` executes at once (1: one after another).
    #[schemars(with = "Option<Int>")]
    pub max_parallel: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub lock_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub max_attempts: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub retry_delay_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub delivery_retries: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub delivery_backoff_seconds: Option<S<Int>>,
    #[schemars(with = "Option<bool>")]
    pub allow_plain_secrets: Option<S<bool>>,
    #[schemars(with = "Option<Int>")]
    pub check_grace_minutes: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub notify_on: Option<S<String>>,
    /// A URL, or a secret reference holding one.
    #[schemars(with = "Option<serde_json::Value>")]
    pub ping_url: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub metrics_file: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub file_name: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub date_format: Option<S<String>>,
    #[schemars(with = "Option<RawCsv>")]
    pub csv: Option<S<RawCsv>>,
    #[schemars(with = "Option<RawParquet>")]
    pub parquet: Option<S<RawParquet>>,
    #[schemars(with = "Option<RawSmtp>")]
    pub smtp: Option<S<RawSmtp>>,
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

impl schemars::JsonSchema for Number {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Number".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "number" })
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

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Smtp")]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    #[schemars(with = "Option<String>")]
    pub host: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub port: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub tls: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub user: Option<S<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub password: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub from: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub timeout_seconds: Option<S<Int>>,
}

/// A report without its sub-tables (`schedule`, `csv`, `outputs`), which are read on
/// their own so that a mistake in one does not hide mistakes in the others.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Report")]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[serde(rename = "type")]
    #[schemars(with = "Option<String>")]
    pub kind: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub source: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub query: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub query_file: Option<S<String>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub destinations: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub notify: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<String>")]
    pub notify_on: Option<S<String>>,
    /// A URL, or a secret reference holding one.
    #[schemars(with = "Option<serde_json::Value>")]
    pub ping_url: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub timezone: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub status: Option<S<String>>,
    #[schemars(with = "Option<bool>")]
    pub backfill: Option<S<bool>>,
    #[schemars(with = "Option<String>")]
    pub file_name: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub date_format: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub max_attempts: Option<S<Int>>,
    /// `false`: a run whose files hold no rows delivers nothing ("empty, not sent").
    #[schemars(with = "Option<bool>")]
    pub send_empty: Option<S<bool>>,
    /// A query on the report's source whose first cell decides whether the run
    /// delivers (an alert).
    #[schemars(with = "Option<String>")]
    pub condition: Option<S<String>>,
    /// The format of the report's outputs that do not set their own: `csv` (default),
    /// `xlsx`, `jsonl` or `parquet`.
    #[schemars(with = "Option<String>")]
    pub format: Option<S<String>>,
    /// Read on their own before this struct; listed so that unknown-key errors name them.
    #[schemars(with = "Option<Vec<RawOutput>>")]
    pub outputs: Option<IgnoredAny>,
    #[schemars(with = "Option<RawCsv>")]
    pub csv: Option<IgnoredAny>,
    #[schemars(with = "Option<RawParquet>")]
    pub parquet: Option<IgnoredAny>,
    #[schemars(with = "Option<RawSchedule>")]
    pub schedule: Option<IgnoredAny>,
    #[schemars(with = "Option<RawEvents>")]
    pub events: Option<IgnoredAny>,
    /// One run per recipient of each slot (bursting).
    #[schemars(with = "Option<RawRecipients>")]
    pub recipients: Option<S<RawRecipients>>,
}

/// An events mapping (`[sources.NAME.events]` or `[reports.events]`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Events")]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    #[schemars(with = "Option<String>")]
    pub table: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub time: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub time_format: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub traffic: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub id: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub tags: Option<S<String>>,
    /// Dimension → a column, or several columns (matched touchpoints).
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub dimensions: Option<S<std::collections::BTreeMap<String, S<toml::Value>>>>,
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    pub measures: Option<S<std::collections::BTreeMap<String, S<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub default_columns: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Schedule")]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    #[schemars(with = "Option<String>")]
    pub frequency: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub every: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub run_on: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub at: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub delay: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub previous_time: Option<S<Int>>,
    /// A named window (`yesterday`, `last_7_days`, `previous_month`, …).
    #[schemars(with = "Option<String>")]
    pub window: Option<S<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub start: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub stop: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub send_at: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub included_range_days: Option<S<Int>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub once: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub from: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub to: Option<S<toml::Value>>,
}

/// `[serve]`: the pickup API (`reportctl serve`).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Serve")]
#[serde(deny_unknown_fields)]
pub struct RawServe {
    #[schemars(with = "Option<String>")]
    pub listen: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub public_url: Option<S<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub api_key: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub link_secret: Option<S<toml::Value>>,
    #[schemars(with = "Option<Int>")]
    pub link_minutes: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub request_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub max_request_bytes: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub max_connections: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub max_connections_per_client: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub send_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub idle_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub shutdown_grace_seconds: Option<S<Int>>,
    /// `[serve.apps.APP_ID]`: an app of the app download endpoint, one table per app.
    #[schemars(with = "Option<std::collections::BTreeMap<String, RawApp>>")]
    pub apps: Option<S<std::collections::BTreeMap<S<String>, S<RawApp>>>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "App")]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    #[schemars(with = "Option<serde_json::Value>")]
    pub api_key: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
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
    Webhook(Box<RawWebhookDest>),
    Slack(Box<RawSlackDest>),
    Teams(Box<RawTeamsDest>),
}

impl RawSource {
    /// `max_concurrent_queries`, a key every kind has.
    pub fn max_concurrent_queries(&self) -> &Option<S<Int>> {
        match self {
            RawSource::Sqlite(r) => &r.max_concurrent_queries,
            RawSource::Postgres(r) => &r.max_concurrent_queries,
            RawSource::Command(r) => &r.max_concurrent_queries,
        }
    }
}

impl RawDestination {
    /// `max_concurrent`, a key every kind has.
    pub fn max_concurrent(&self) -> &Option<S<Int>> {
        match self {
            RawDestination::Directory(r) => &r.max_concurrent,
            RawDestination::Email(r) => &r.max_concurrent,
            RawDestination::Sftp(r) => &r.max_concurrent,
            RawDestination::S3(r) => &r.max_concurrent,
            RawDestination::Pickup(r) => &r.max_concurrent,
            RawDestination::Webhook(r) => &r.max_concurrent,
            RawDestination::Slack(r) => &r.max_concurrent,
            RawDestination::Teams(r) => &r.max_concurrent,
        }
    }
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
    pub parquet: Option<Box<Spanned<RawParquet>>>,
    pub events: Option<Box<Spanned<RawEvents>>>,
    pub outputs: Option<Vec<Spanned<RawOutput>>>,
    /// False when a part was present but unreadable: the report is not checked further.
    pub complete: bool,
}
