//! PostgreSQL connections, shared by the `postgres` source and the PostgreSQL ledger:
//! connection settings from a URL or fields, the password from a secret, TLS by
//! `sslmode` with libpq's meaning (through rustls), and error messages that carry
//! PostgreSQL's own message, detail and hint but never the password.
//!
//! | sslmode | TLS | certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers it, else plain | not checked (as libpq), unless `ca_file` is given |
//! | `require` | always; fails if the server has none | not checked (as libpq), unless `ca_file` is given |
//! | `verify-full` | always | chain to `ca_file` (else the system's roots) and host name |

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres::config::Host;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::pgurl::split_ssl_params;
use crate::config::secret::Secret;
use crate::config::{PostgresSource, SslMode};

/// Where and how to connect.
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub sslmode: SslMode,
    /// The whole-connection time limit (TCP, TLS, authentication).
    pub connect_timeout: Duration,
    /// `host:port/dbname as user`, safe to show.
    pub describe: String,
}

/// The connection of a `postgres` source.
pub fn for_source(source: &PostgresSource) -> Result<Target> {
    let mut config = match &source.url {
        Some(url) => parse(url)?,
        None => {
            let mut c = tokio_postgres::Config::new();
            if let Some(h) = &source.host {
                c.host(h);
            }
            if let Some(p) = source.port {
                c.port(p);
            }
            if let Some(u) = &source.user {
                c.user(u);
            }
            if let Some(d) = &source.dbname {
                c.dbname(d);
            }
            c
        }
    };
    if let Some(secret) = &source.password {
        config.password(resolve(secret, "password")?.as_bytes());
    }
    finish(
        config,
        source.sslmode,
        source.ca_file.as_deref(),
        source.connect_timeout,
    )
}

/// The connection of a PostgreSQL ledger: `state = "postgres://…"` (libpq's
/// `sslmode` and `sslrootcert` may be given in the URL) and `state_password`.
pub fn for_ledger(url: &str, password: Option<&Secret>) -> Result<Target> {
    let (url, ssl) = split_ssl_params(url);
    let mut config = parse(&url)?;
    if let Some(secret) = password {
        config.password(resolve(secret, "state_password")?.as_bytes());
    }
    let mode = match ssl.sslmode.as_deref() {
        None => SslMode::Prefer,
        Some(m) => SslMode::parse(m).ok_or_else(|| {
            anyhow!(
                "state: sslmode={m} is not allowed; allowed: disable, prefer, require, verify-full"
            )
        })?,
    };
    let ca = ssl.sslrootcert.map(PathBuf::from);
    // libpq's connect_timeout in the URL, else 10 seconds.
    let timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(10));
    finish(config, mode, ca.as_deref(), timeout)
}

fn parse(url: &str) -> Result<tokio_postgres::Config> {
    // The URL never holds a password unless allow_plain_secrets; still, never echo it.
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| anyhow!("the connection URL cannot be read: {e}"))
}

fn resolve(secret: &Secret, key: &str) -> Result<String> {
    secret
        .resolve()
        .map(|v| v.expose().to_string())
        .map_err(|e| anyhow!("{key}: {e}"))
}

fn finish(
    mut config: tokio_postgres::Config,
    sslmode: SslMode,
    ca_file: Option<&Path>,
    connect_timeout: Duration,
) -> Result<Target> {
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        // libpq's default on Debian: the local server's socket directory.
        config.host("/var/run/postgresql");
    }
    config
        .application_name("reportctl")
        .connect_timeout(connect_timeout)
        .ssl_mode(match sslmode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
    let describe = describe(&config);
    let tls = tls_connector(sslmode, ca_file)?;
    Ok(Target {
        config,
        tls,
        sslmode,
        connect_timeout,
        describe,
    })
}

fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => config
            .get_hostaddrs()
            .first()
            .map_or_else(String::new, |a| a.to_string()),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let mut s = format!("{host}:{port}");
    if let Some(db) = config.get_dbname() {
        s.push_str(&format!("/{db}"));
    }
    if let Some(u) = config.get_user() {
        s.push_str(&format!(" as {u}"));
    }
    s
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS connector for `sslmode` (unused with `disable`).
pub fn tls_connector(sslmode: SslMode, ca_file: Option<&Path>) -> Result<MakeRustlsConnect> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let verify =
        sslmode == SslMode::VerifyFull || (sslmode != SslMode::Disable && ca_file.is_some());
    let config = if verify {
        let mut roots = rustls::RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| anyhow!("reading ca_file {}: {e}", path.display()))?;
                if certs.is_empty() {
                    bail!("ca_file {} holds no PEM certificate", path.display());
                }
                for c in certs {
                    roots
                        .add(c)
                        .map_err(|e| anyhow!("ca_file {}: {e}", path.display()))?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    bail!("sslmode = verify-full without ca_file needs the system's trusted certificates, and none were found; set ca_file");
                }
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(MakeRustlsConnect::new(config))
}

/// libpq's `prefer` and `require` without a root certificate: the connection is
/// encrypted, the server's certificate is not checked. Handshake signatures still are.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A failed connection attempt, explained.
pub fn connect_error(target: &Target, e: &tokio_postgres::Error) -> anyhow::Error {
    let mut msg = describe_error(e, &|_| None);
    let text = format!("{e:?}");
    if text.contains("server does not support TLS") {
        msg = format!(
            "the server does not offer TLS, and sslmode = {} requires it",
            target.sslmode.name()
        );
    } else if text.contains("InvalidCertificate") || text.contains("invalid peer certificate") {
        msg.push_str(
            " (the server's certificate was refused: check ca_file, and that the host name is one the certificate names)",
        );
    } else if msg.contains("password missing") {
        msg = "the server asks for a password and none is configured; set password = { env = \"NAME\" }".into();
    }
    anyhow!("connecting to PostgreSQL at {}: {msg}", target.describe)
}

/// PostgreSQL's message with its detail, hint and SQLSTATE; `position` turns
/// PostgreSQL's character position into "line L, column C of the query".
pub fn describe_error(
    e: &tokio_postgres::Error,
    position: &dyn Fn(u32) -> Option<String>,
) -> String {
    let Some(db) = e.as_db_error() else {
        // Transport errors: the chain says it all ("error connecting to server: …").
        let mut s = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            let t = inner.to_string();
            if !s.contains(&t) {
                s.push_str(": ");
                s.push_str(&t);
            }
            source = inner.source();
        }
        return s;
    };
    let mut s = format!("PostgreSQL: {}", db.message());
    if let Some(tokio_postgres::error::ErrorPosition::Original(p)) = db.position() {
        if let Some(at) = position(*p) {
            s.push_str(&format!(" (at {at})"));
        }
    }
    if let Some(d) = db.detail() {
        s.push_str(&format!("; DETAIL: {d}"));
    }
    if let Some(h) = db.hint() {
        s.push_str(&format!("; HINT: {h}"));
    }
    if let Some(w) = db.where_() {
        s.push_str(&format!("; WHERE: {w}"));
    }
    s.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_never_holds_the_password() {
        let src = PostgresSource {
            url: Some("postgres://rep@db.example:6543/analytics".into()),
            host: None,
            port: None,
            user: None,
            dbname: None,
            password: Some(Secret::Plain("hunter2".into())),
            sslmode: SslMode::Disable,
            ca_file: None,
            connect_timeout: Duration::from_secs(3),
            statement_timeout: None,
            events: None,
        };
        let t = for_source(&src).unwrap();
        assert_eq!(t.describe, "db.example:6543/analytics as rep");
        assert!(!format!("{:?}", t.config).contains("hunter2"));
    }
}
