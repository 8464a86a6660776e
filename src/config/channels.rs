//! Checked settings of the HTTP destinations: webhook, Slack and Microsoft Teams.

use std::path::PathBuf;
use std::time::Duration;

use super::secret::Secret;

/// How an HTTP destination talks to its server.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// For the whole request: connection, TLS, upload and answer.
    pub timeout: Duration,
    /// A CA certificate (PEM) trusted besides the system's.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct WebhookDest {
    pub url: String,
    pub secret: Secret,
    pub attach_files: bool,
    pub max_upload_bytes: u64,
    pub http: HttpOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackMode {
    Files,
    Links,
}

#[derive(Debug, Clone)]
pub struct SlackDest {
    pub token: Secret,
    pub channel: String,
    pub mode: SlackMode,
    /// Without a trailing `/`.
    pub api_url: String,
    pub http: HttpOptions,
}

#[derive(Debug, Clone)]
pub struct TeamsDest {
    /// The Workflows webhook URL: a secret, since whoever has it can post.
    pub url: Secret,
    pub http: HttpOptions,
}
