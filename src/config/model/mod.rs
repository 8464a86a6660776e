//! Checked configuration: what the rest of the program works with. Every value here has
//! passed stage two (`check`), so past this boundary nothing is validated again.

mod output;

pub use output::*;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;

pub use super::channels::{HttpOptions, SlackDest, SlackMode, TeamsDest, WebhookDest};
use super::diag::Diagnostic;
use super::secret::Secret;
use crate::config::names::FileNameTemplate;
use crate::schedule::Schedule;
use crate::structured::EventsMapping;
use crate::template::Template;

#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file, as given.
    pub path: PathBuf,
    pub settings: Settings,
    pub sources: BTreeMap<String, Source>,
    pub destinations: BTreeMap<String, Destination>,
    /// In file order.
    pub reports: Vec<Report>,
    /// `[serve]`, when the file has one.
    pub serve: Option<Serve>,
    /// What loading found worth a warning but not an error (an old spelling of a value),
    /// in file order. Commands print them on stderr (`commands::load`); `validate
    /// --json` lists them.
    pub warnings: Vec<Diagnostic>,
}

impl Config {
    pub fn report(&self, name: &str) -> Option<&Report> {
        self.reports.iter().find(|r| r.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub timezone: Tz,
    pub state: StateLocation,
    pub spool: PathBuf,
    /// How long the spooled files of a run that was given up (or run locally) stay
    /// for a retry by hand.
    pub spool_keep_days: u32,
    /// How long `run-due` keeps finished runs in the ledger (0: for ever); see
    /// `engine::housekeeping` for the runs it never prunes.
    pub keep_runs_days: u32,
    pub max_range_days: u32,
    /// How many missed slots of one report `run-due` catches up at most.
    pub catch_up: u32,
    pub lease: Duration,
    /// How many claimed runs `run-due` executes at once.
    pub max_parallel: usize,
    /// How long a command waits for the ledger's lock (or a SQLite write lock, or a
    /// PostgreSQL lock) before giving up with exit code 75.
    pub lock_timeout: Duration,
    pub max_attempts: u32,
    pub retry_delay: Duration,
    /// How many times a delivery that failed for a transient reason (connection refused
    /// or reset, a timeout, an SMTP 4xx, an S3 5xx) is tried again within the run.
    pub delivery_retries: u32,
    /// The wait before the first in-run retry; it doubles with each further one.
    pub delivery_backoff: Duration,
    pub smtp: Option<Smtp>,
    /// `check`: how long after its time a slot may be unfinished before it is late.
    pub check_grace: Duration,
    /// When reports send their notify mail, unless they say otherwise.
    pub notify_on: NotifyOn,
    /// Where `run-due` writes its Prometheus metrics (`metrics_file`), if anywhere.
    pub metrics_file: Option<PathBuf>,
    /// Heartbeat pings of every report that has no `ping_url` of its own.
    pub ping_url: Option<Secret>,
}

/// When a report's notify mail is sent: after every scheduled run, or only after one
/// that failed (or was given up or skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOn {
    Always,
    Failure,
}

impl NotifyOn {
    pub const CHOICES: [(&'static str, NotifyOn); 2] =
        [("always", NotifyOn::Always), ("failure", NotifyOn::Failure)];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    Sqlite(PathBuf),
    Postgres {
        url: String,
        password: Option<Secret>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption; only when asked for explicitly.
    None,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub from: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    /// At most this many of its queries at once (`run-due`); `None`: no limit.
    pub max_concurrent_queries: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Sqlite(SqliteSource),
    Postgres(PostgresSource),
    Command(CommandSource),
}

impl SourceKind {
    pub fn kind_name(&self) -> &'static str {
        match self {
            SourceKind::Sqlite(_) => "sqlite",
            SourceKind::Postgres(_) => "postgres",
            SourceKind::Command(_) => "command",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SqliteSource {
    /// A database file opened read-only, or `None` for an in-memory database built by
    /// `init` scripts.
    pub path: Option<PathBuf>,
    pub init: Vec<PathBuf>,
    pub busy_timeout: Duration,
    /// How the database stores times: the form `:from` and `:to` bind in.
    pub time_format: crate::schedule::params::StoredTime,
    pub events: Option<EventsMapping>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

impl SslMode {
    pub const ALL: [SslMode; 4] = [
        SslMode::Disable,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyFull,
    ];

    /// The libpq name (`sslmode=verify-full`).
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }

    pub fn parse(s: &str) -> Option<SslMode> {
        SslMode::ALL.into_iter().find(|m| m.name() == s)
    }
}

#[derive(Debug, Clone)]
pub struct PostgresSource {
    /// A libpq-style URL or key=value string without the password.
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub dbname: Option<String>,
    pub password: Option<Secret>,
    pub sslmode: SslMode,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub events: Option<EventsMapping>,
}

#[derive(Debug, Clone)]
pub struct CommandSource {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, EnvValue)>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum EnvValue {
    Plain(String),
    Secret(Secret),
}

#[derive(Debug, Clone)]
pub struct Destination {
    pub name: String,
    pub kind: DestinationKind,
    /// At most this many deliveries to it at once (`run-due`); `None`: no limit.
    pub max_concurrent: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum DestinationKind {
    Directory(DirectoryDest),
    Email(EmailDest),
    Sftp(SftpDest),
    S3(S3Dest),
    Pickup(PickupDest),
    Webhook(WebhookDest),
    Slack(SlackDest),
    Teams(TeamsDest),
}

impl DestinationKind {
    pub fn kind_name(&self) -> &'static str {
        match self {
            DestinationKind::Directory(_) => "directory",
            DestinationKind::Email(_) => "email",
            DestinationKind::Sftp(_) => "sftp",
            DestinationKind::S3(_) => "s3",
            DestinationKind::Pickup(_) => "pickup",
            DestinationKind::Webhook(_) => "webhook",
            DestinationKind::Slack(_) => "slack",
            DestinationKind::Teams(_) => "teams",
        }
    }

    /// Whether deliveries here tell of the run and may carry the download links other
    /// destinations made: such destinations are delivered last.
    pub fn tells(&self) -> bool {
        matches!(
            self,
            DestinationKind::Email(_)
                | DestinationKind::Webhook(_)
                | DestinationKind::Slack(_)
                | DestinationKind::Teams(_)
        )
    }
}

#[derive(Debug, Clone)]
pub struct DirectoryDest {
    pub path: PathBuf,
    pub keep_days: u32,
}

#[derive(Debug, Clone)]
pub struct EmailDest {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub from: Option<String>,
    /// Parsed with `template::MAIL_VARS` when the configuration was loaded.
    pub subject: Template,
    pub body: Template,
    pub max_attachment_bytes: u64,
    /// The rows of each file shown in the mail's HTML part; 0: no HTML part.
    pub preview_rows: u32,
    /// This destination's own SMTP server, else `[settings.smtp]`.
    pub smtp: Option<Smtp>,
}

#[derive(Debug, Clone)]
pub enum SftpAuth {
    Key {
        file: PathBuf,
        passphrase: Option<Secret>,
    },
    Agent,
    Password(Secret),
}

#[derive(Debug, Clone)]
pub struct SftpDest {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub path: String,
    pub known_hosts: PathBuf,
    pub accept_new_host_key: bool,
    pub auth: SftpAuth,
    pub create_dirs: bool,
    pub connect_timeout: Duration,
    pub io_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sse {
    Aes256,
    Kms { key_id: Option<String> },
}

#[derive(Debug, Clone)]
pub struct S3Dest {
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub path_style: bool,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    pub sse: Option<Sse>,
    pub content_type: Option<String>,
    pub link_minutes: u32,
    pub part_size: u64,
    pub multipart_threshold: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Draft,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Draft => "draft",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    pub source: String,
    pub outputs: Vec<Output>,
    pub destinations: Vec<String>,
    pub notify: Vec<String>,
    pub notify_on: NotifyOn,
    /// Heartbeat pings (healthchecks.io convention): the report's own, else the
    /// settings'.
    pub ping_url: Option<Secret>,
    pub timezone: Tz,
    pub status: Status,
    pub schedule: Schedule,
    pub backfill: bool,
    pub file_name: FileNameTemplate,
    pub date_format: String,
    pub csv: CsvOptions,
    pub parquet: ParquetOptions,
    pub max_attempts: u32,
    /// `send_empty = false`: a run whose files hold no rows delivers nothing.
    pub send_empty: bool,
    /// `condition`: a query on the report's source, run with the window's parameters
    /// before anything is rendered; the run delivers only when its first cell is true
    /// (see `engine::send_if`). Held as an output of type `condition` so that it runs
    /// as outputs do.
    pub condition: Option<Output>,
    /// `[reports.recipients]`: one run per recipient of each slot.
    pub recipients: Option<Box<super::recipients::Recipients>>,
}

/// A pickup store that `reportctl serve` serves from: report listings with download
/// links, and the app download endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickupDest {
    pub path: PathBuf,
    pub keep_days: u32,
    pub naming: PickupNaming,
    /// The app that downloads this destination's dated zips, if any.
    pub app_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupNaming {
    /// The files as rendered, one per output type.
    Report,
    /// One `{name_}_{YYYYMMDD}.zip` per run holding every output (`"dated-zip"`).
    DatedZip,
}

impl PickupNaming {
    pub fn name(self) -> &'static str {
        match self {
            PickupNaming::Report => "report",
            PickupNaming::DatedZip => "dated-zip",
        }
    }
}

pub use super::limits::MIN_LINK_SECRET;

/// `[serve]`: how `reportctl serve` listens, authenticates and signs links.
#[derive(Debug, Clone)]
pub struct Serve {
    pub listen: std::net::SocketAddr,
    /// The scheme, host and optional path prefix links are built on, without a trailing
    /// slash (behind a reverse proxy); else links use the request's Host.
    pub public_url: Option<String>,
    pub api_key: Secret,
    pub link_secret: Secret,
    pub link_minutes: u32,
    pub request_timeout: Duration,
    pub max_request_bytes: usize,
    pub max_connections: usize,
    /// Open connections allowed from one client address; more are refused with a 429.
    pub max_connections_per_client: usize,
    /// How long a response may wait for the client to read anything before the
    /// connection is closed.
    pub send_timeout: Duration,
    /// How long a connection may stay open without a request in progress and without a
    /// byte received before it is closed.
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
    /// The apps of the app download endpoint, by app id.
    pub apps: BTreeMap<String, App>,
}

/// An app of the app download endpoint: Basic auth is the app id and `api_key`; the `Signature` header is
/// keyed with `signature_secret`.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub api_key: Secret,
    pub signature_secret: Secret,
}
