//! Sending one message through an SMTP server (lettre), for email destinations and
//! notify mails alike. STARTTLS is required unless the configuration says `tls = "tls"`
//! (implicit TLS) or, for localhost only, `tls = "none"`; the server's certificate is
//! checked against the public roots plus `ca_file`. The password is read when the first
//! mail to the server is sent and never appears in a message.
//!
//! Connections are reused: one transport per server (host, port, TLS, user…) for the
//! whole process, with lettre's connection pool, so that a `run-due` sending many mails
//! to one server opens one connection (one per mail sent at the same moment, when runs
//! go side by side; a destination's `max_concurrent = 1` keeps it to one). An idle
//! pooled connection is tested (NOOP) before it is reused; a broken one is dropped and
//! a new one opened. `close` ends them politely (QUIT) when the command is done.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{Message, SmtpTransport, Transport};

use super::Transient;
use crate::config::{Smtp, SmtpTls};

/// `host:port`, for messages.
pub fn address(server: &Smtp) -> String {
    format!("{}:{}", server.host, server.port)
}

/// Parses a checked address (configuration checking already accepted it).
pub fn mailbox(text: &str) -> Result<Mailbox> {
    text.parse()
        .map_err(|e| anyhow!("\"{}\" is not an email address: {e}", text.escape_default()))
}

/// The transport of each server this process has sent to, by its settings.
static TRANSPORTS: Mutex<Option<HashMap<String, SmtpTransport>>> = Mutex::new(None);

/// Sends `message` to the recipients of its envelope (To, Cc and Bcc), on a pooled
/// connection to `server` when one is open.
pub fn send(server: &Smtp, message: &Message) -> Result<()> {
    let transport = pooled(server)?;
    transport.send(message).map_err(|e| explain(server, e))?;
    Ok(())
}

/// Closes the pooled connections (QUIT), at the end of a command.
pub fn close() {
    let transports = TRANSPORTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    drop(transports);
}

/// The process's transport to `server`, made on first use.
fn pooled(server: &Smtp) -> Result<SmtpTransport> {
    // Debug of the settings: the password shows as where it comes from, never its value.
    let key = format!("{server:?}");
    let mut transports = TRANSPORTS.lock().unwrap_or_else(PoisonError::into_inner);
    let transports = transports.get_or_insert_with(HashMap::new);
    if let Some(t) = transports.get(&key) {
        return Ok(t.clone());
    }
    let t = transport(server)?;
    transports.insert(key, t.clone());
    Ok(t)
}

fn transport(server: &Smtp) -> Result<SmtpTransport> {
    let tls = match server.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(tls_parameters(server)?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters(server)?),
    };
    let mut builder = SmtpTransport::builder_dangerous(server.host.as_str())
        .port(server.port)
        .tls(tls)
        .timeout(Some(server.timeout))
        // Idle connections kept: at most one per run in flight; closed after a minute.
        .pool_config(
            PoolConfig::new()
                .max_size(8)
                .idle_timeout(Duration::from_secs(60)),
        );
    if let (Some(user), Some(password)) = (&server.user, &server.password) {
        let password = password
            .resolve()
            .map_err(|e| anyhow!("the SMTP password: {e}"))?;
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    Ok(builder.build())
}

fn tls_parameters(server: &Smtp) -> Result<TlsParameters> {
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(ca) = &server.ca_file {
        let pem = std::fs::read(ca).with_context(|| format!("reading ca_file {}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| anyhow!("ca_file {} holds no PEM certificate: {e}", ca.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| anyhow!("setting up TLS for {}: {e}", address(server)))
}

/// An SMTP failure as one message that says what to do; network trouble and 4xx
/// answers are marked transient.
fn explain(server: &Smtp, e: lettre::transport::smtp::Error) -> anyhow::Error {
    let at = address(server);
    // lettre's Display already includes the cause; the text is kept flat.
    let text = e.to_string();
    let code = e.status().map(|c| c.to_string());
    // Connection and network errors are none of the kinds lettre names.
    let network = !(e.is_response() || e.is_permanent() || e.is_tls() || e.is_client());
    if e.is_transient() || e.is_timeout() || network {
        return anyhow::Error::new(Transient(format!("SMTP server {at}: {text}")));
    }
    let hint = match code.as_deref() {
        Some("535") | Some("534") | Some("530") => {
            let user = server.user.as_deref().unwrap_or("(none)");
            let source = server
                .password
                .as_ref()
                .map_or_else(|| "no password is configured".to_string(), |p| format!("the password comes from {}", p.describe()));
            format!("; the server refused the login of user {user}: check the SMTP user and password ({source})")
        }
        _ if e.is_tls() => "; check that the server speaks the configured `tls` mode and that its certificate is trusted (set `ca_file` to the CA that signed it)".to_string(),
        _ => String::new(),
    };
    anyhow!("SMTP server {at}: {text}{hint}")
}
