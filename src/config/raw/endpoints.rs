//! The raw structs of each kind of source and destination (`[sources.NAME]`,
//! `[destinations.NAME]`), as the reader fills them.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{Int, Number, RawEvents, RawSmtp, S};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "SqliteSource")]
#[serde(deny_unknown_fields)]
pub struct RawSqliteSource {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub path: Option<S<String>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub init: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Int>")]
    pub busy_timeout_ms: Option<S<Int>>,
    /// How the database stores times: the form `:from` and `:to` bind in.
    #[schemars(with = "Option<String>")]
    pub time_format: Option<S<String>>,
    #[schemars(with = "Option<RawEvents>")]
    pub events: Option<S<RawEvents>>,
    /// At most this many of this source's queries run at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent_queries: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "PostgresSource")]
#[serde(deny_unknown_fields)]
pub struct RawPostgresSource {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub url: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub host: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub port: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub user: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub dbname: Option<S<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub password: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub sslmode: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub connect_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub statement_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<RawEvents>")]
    pub events: Option<S<RawEvents>>,
    /// At most this many of this source's queries run at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent_queries: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "CommandSource")]
#[serde(deny_unknown_fields)]
pub struct RawCommandSource {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub program: Option<S<String>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub args: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub env: Option<S<toml::Table>>,
    #[schemars(with = "Option<Int>")]
    pub timeout_seconds: Option<S<Int>>,
    /// At most this many of this source's queries run at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent_queries: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DirectoryDest")]
#[serde(deny_unknown_fields)]
pub struct RawDirectoryDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub path: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub keep_days: Option<S<Int>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "EmailDest")]
#[serde(deny_unknown_fields)]
pub struct RawEmailDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<Vec<String>>")]
    pub to: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub cc: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub bcc: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<String>")]
    pub from: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub subject: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub body: Option<S<String>>,
    #[schemars(with = "Option<Number>")]
    pub max_attachment_mb: Option<S<Number>>,
    /// Rows of each file shown in the mail's HTML part (0: a plain-text mail only).
    #[schemars(with = "Option<Int>")]
    pub preview_rows: Option<S<Int>>,
    #[schemars(with = "Option<RawSmtp>")]
    pub smtp: Option<S<RawSmtp>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "SftpDest")]
#[serde(deny_unknown_fields)]
pub struct RawSftpDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub host: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub port: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub user: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub path: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub known_hosts: Option<S<String>>,
    #[schemars(with = "Option<bool>")]
    pub accept_new_host_key: Option<S<bool>>,
    #[schemars(with = "Option<String>")]
    pub key_file: Option<S<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub key_passphrase: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub password: Option<S<toml::Value>>,
    #[schemars(with = "Option<bool>")]
    pub agent: Option<S<bool>>,
    #[schemars(with = "Option<bool>")]
    pub create_dirs: Option<S<bool>>,
    #[schemars(with = "Option<Int>")]
    pub connect_timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub io_timeout_seconds: Option<S<Int>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "S3Dest")]
#[serde(deny_unknown_fields)]
pub struct RawS3Dest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub bucket: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub prefix: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub region: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<S<String>>,
    #[schemars(with = "Option<bool>")]
    pub path_style: Option<S<bool>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub access_key_id: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub secret_access_key: Option<S<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub session_token: Option<S<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub sse: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub sse_kms_key_id: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub content_type: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub link_minutes: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub part_size_mb: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub multipart_threshold_mb: Option<S<Int>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "PickupDest")]
#[serde(deny_unknown_fields)]
pub struct RawPickupDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub path: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub keep_days: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub naming: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub app_id: Option<S<String>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "WebhookDest")]
#[serde(deny_unknown_fields)]
pub struct RawWebhookDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    #[schemars(with = "Option<String>")]
    pub url: Option<S<String>>,
    /// The signing secret, by reference: `{ env = "NAME" }` or `{ file = "/path" }`.
    #[schemars(with = "Option<serde_json::Value>")]
    pub secret: Option<S<toml::Value>>,
    #[schemars(with = "Option<bool>")]
    pub attach_files: Option<S<bool>>,
    #[schemars(with = "Option<Int>")]
    pub max_upload_mb: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<S<String>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "SlackDest")]
#[serde(deny_unknown_fields)]
pub struct RawSlackDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    /// The bot token (`xoxb-…`), by reference.
    #[schemars(with = "Option<serde_json::Value>")]
    pub token: Option<S<toml::Value>>,
    /// The channel's ID, e.g. C0123456789.
    #[schemars(with = "Option<String>")]
    pub channel: Option<S<String>>,
    /// `files` (upload the files) or `links` (a message with download links).
    #[schemars(with = "Option<String>")]
    pub mode: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub api_url: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<S<String>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TeamsDest")]
#[serde(deny_unknown_fields)]
pub struct RawTeamsDest {
    /// Read before this struct; listed so that unknown-key errors name it.
    #[schemars(skip)]
    pub kind: Option<IgnoredAny>,
    /// The Workflows webhook URL, by reference: it is a secret.
    #[schemars(with = "Option<serde_json::Value>")]
    pub url: Option<S<toml::Value>>,
    #[schemars(with = "Option<Int>")]
    pub timeout_seconds: Option<S<Int>>,
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<S<String>>,
    /// At most this many deliveries to this destination at once (default: no limit).
    #[schemars(with = "Option<Int>")]
    pub max_concurrent: Option<S<Int>>,
}
