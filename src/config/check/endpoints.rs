//! Checking sources, destinations and SMTP servers.

use std::ops::Range;

use toml::{Spanned, Value};

use super::{is_postgres_url, url_has_password, Checker};
use crate::config::diag::Subject;
use crate::config::model::*;
use crate::config::raw::*;
use crate::config::{RawDestination, RawSource};
use crate::template::{Template, MAIL_VARS};

pub const DEFAULT_SUBJECT: &str = "{name}: {from} to {to}";
pub const DEFAULT_BODY: &str =
    "Report {name} for {window}.\n\nFiles: {files}\nRows: {rows}\nToken: {token}\n";

/// Whether a connection URL or key=value string sets TLS options (`sslmode`,
/// `sslrootcert`), which a source takes as its own keys.
fn url_has_tls_param(s: &str) -> bool {
    let keys = ["sslmode", "sslrootcert"];
    match s.split_once('?') {
        Some((_, q)) if super::is_postgres_url(s) => q
            .split('&')
            .any(|p| keys.contains(&p.split('=').next().unwrap_or(""))),
        _ if !super::is_postgres_url(s) => s
            .split_whitespace()
            .any(|p| keys.contains(&p.split('=').next().unwrap_or("").trim())),
        _ => false,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Checker<'_> {
    pub(crate) fn smtp(&mut self, m: &Spanned<RawSmtp>, s: &Subject, prefix: &str) -> Option<Smtp> {
        let span = m.span();
        let m = m.get_ref();
        let k = |key: &str| format!("{prefix}.{key}");
        let before = self.errors.len();
        let host = self.required(&m.host, s, &k("host"), &span, "the SMTP server's host name");
        let tls = self.word(
            &m.tls,
            s,
            &k("tls"),
            &[
                ("starttls", SmtpTls::StartTls),
                ("tls", SmtpTls::Tls),
                ("none", SmtpTls::None),
            ],
            SmtpTls::StartTls,
        );
        let default_port = match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        };
        let port = self.int(&m.port, s, &k("port"), (1, 65535), default_port, "") as u16;
        let password = self.secret(&m.password, s, &k("password"));
        let user = m.user.as_ref().map(|u| u.get_ref().clone());
        match (&m.user, &m.password) {
            (Some(u), None) => self.err(
                u.span(),
                s,
                &k("password"),
                "`user` needs `password`, e.g. password = { env = \"SMTP_PASSWORD\" }",
            ),
            (None, Some(p)) => self.err(p.span(), s, &k("user"), "`password` needs `user`"),
            _ => {}
        }
        if let (SmtpTls::None, Some(p), Some(h)) = (tls, &m.password, &host) {
            if !is_loopback(h) {
                self.err(p.span(), s, &k("password"), format!("tls = \"none\" would send the password in clear to {h}; use \"starttls\" or \"tls\" (plain is allowed only to localhost)"));
            }
        }
        let from = m.from.as_ref().and_then(|f| self.mailbox(f, s, &k("from")));
        let ca_file = m
            .ca_file
            .as_ref()
            .map(|c| self.existing_path(c, s, &k("ca_file")));
        let timeout = self.seconds(&m.timeout_seconds, s, &k("timeout_seconds"), (1, 600), 60);
        if self.errors.len() > before {
            return None;
        }
        Some(Smtp {
            host: host?,
            port,
            tls,
            user,
            password,
            from,
            ca_file,
            timeout,
        })
    }

    pub(crate) fn source(
        &mut self,
        raw: RawSource,
        s: &Subject,
        span: Range<usize>,
    ) -> Option<SourceKind> {
        let before = self.errors.len();
        let events_span = match &raw {
            RawSource::Sqlite(r) => r.events.as_ref().map(|e| e.span()),
            RawSource::Postgres(r) => r.events.as_ref().map(|e| e.span()),
            RawSource::Command(_) => None,
        };
        let kind = match raw {
            RawSource::Sqlite(r) => {
                let busy_timeout = std::time::Duration::from_millis(self.int(
                    &r.busy_timeout_ms,
                    s,
                    "busy_timeout_ms",
                    (0, 600_000),
                    5000,
                    " milliseconds",
                ) as u64);
                let init: Vec<_> = r.init.as_ref().map_or_else(Vec::new, |list| {
                    list.get_ref()
                        .iter()
                        .map(|p| self.existing_path(p, s, "init"))
                        .collect()
                });
                let path = r.path.as_ref().map(|p| self.existing_path(p, s, "path"));
                if let (Some(p), Some(raw)) = (&path, &r.path) {
                    self.sqlite_file(p, raw.span(), s, "path", false);
                }
                match (&r.path, &r.init) {
                    (Some(p), Some(_)) => self.err(p.span(), s, "path", "give either `path` (a database file, opened read-only) or `init` (SQL scripts that build an in-memory database), not both"),
                    (None, None) => self.err(span.clone(), s, "path", "missing key `path` (a database file) or `init` (SQL scripts that build an in-memory database)"),
                    (None, Some(i)) if i.get_ref().is_empty() => self.err(i.span(), s, "init", "the list is empty; name one or more SQL scripts"),
                    _ => {}
                }
                let events = r
                    .events
                    .as_ref()
                    .and_then(|e| self.events(e, s, "events", true));
                SourceKind::Sqlite(SqliteSource {
                    path,
                    init,
                    busy_timeout,
                    events,
                })
            }
            RawSource::Postgres(r) => {
                let str_of = |v: &Option<Spanned<String>>| v.as_ref().map(|x| x.get_ref().clone());
                if let Some(u) = &r.url {
                    let text = u.get_ref();
                    if !(is_postgres_url(text) || text.contains('=')) {
                        self.err(
                            u.span(),
                            s,
                            "url",
                            "expected a postgres:// URL or a key=value connection string",
                        );
                    } else if url_has_password(text) && !self.allow_plain_secrets {
                        self.err(u.span(), s, "url", "the URL holds a password; put it in `password = { env = \"NAME\" }` instead, or set [settings] allow_plain_secrets = true");
                    }
                    if url_has_tls_param(text) {
                        self.err(u.span(), s, "url", "give TLS settings as the keys `sslmode` (disable, prefer, require, verify-full) and `ca_file`, not in the URL");
                    }
                    if let Some(h) = &r.host {
                        self.err(
                            h.span(),
                            s,
                            "host",
                            "give either `url` or `host`/`port`/`user`/`dbname`, not both",
                        );
                    }
                } else if r.host.is_none() {
                    self.err(
                        span.clone(),
                        s,
                        "url",
                        "missing key `url` (postgres://user@host:5432/db) or `host`",
                    );
                }
                let sslmode = self.word(
                    &r.sslmode,
                    s,
                    "sslmode",
                    &[
                        ("disable", SslMode::Disable),
                        ("prefer", SslMode::Prefer),
                        ("require", SslMode::Require),
                        ("verify-full", SslMode::VerifyFull),
                    ],
                    SslMode::Prefer,
                );
                let ca_file = r
                    .ca_file
                    .as_ref()
                    .map(|c| self.existing_path(c, s, "ca_file"));
                let statement_timeout = r.statement_timeout_seconds.as_ref().map(|_| {
                    self.seconds(
                        &r.statement_timeout_seconds,
                        s,
                        "statement_timeout_seconds",
                        (1, 604_800),
                        3600,
                    )
                });
                SourceKind::Postgres(PostgresSource {
                    url: str_of(&r.url),
                    host: str_of(&r.host),
                    port: r
                        .port
                        .as_ref()
                        .map(|_| self.int(&r.port, s, "port", (1, 65535), 5432, "") as u16),
                    user: str_of(&r.user),
                    dbname: str_of(&r.dbname),
                    password: self.secret(&r.password, s, "password"),
                    sslmode,
                    ca_file,
                    connect_timeout: self.seconds(
                        &r.connect_timeout_seconds,
                        s,
                        "connect_timeout_seconds",
                        (1, 600),
                        10,
                    ),
                    statement_timeout,
                    events: r
                        .events
                        .as_ref()
                        .and_then(|e| self.events(e, s, "events", false)),
                })
            }
            RawSource::Command(r) => {
                let program = self.required(
                    &r.program,
                    s,
                    "program",
                    &span,
                    "the program to run (no shell is involved)",
                );
                let args = r.args.as_ref().map_or_else(Vec::new, |a| {
                    a.get_ref().iter().map(|x| x.get_ref().clone()).collect()
                });
                for a in r.args.iter().flat_map(|a| a.get_ref()) {
                    let known = |n: &str| {
                        crate::source::PARAM_NAMES.contains(&n)
                            || crate::source::command::OTHER_PLACEHOLDERS.contains(&n)
                    };
                    match crate::source::command::placeholder(a.get_ref()) {
                        Some(name) if !known(name) => self.err(
                            a.span(),
                            s,
                            "args",
                            format!(
                                "unknown placeholder {}; allowed (as a whole argument): {}",
                                a.get_ref(),
                                crate::source::command::allowed_placeholders()
                            ),
                        ),
                        _ => {}
                    }
                }
                let mut env = Vec::new();
                if let Some(t) = &r.env {
                    for (k, v) in t.get_ref() {
                        let value = match v {
                            Value::String(x) => Some(EnvValue::Plain(x.clone())),
                            Value::Table(_) => {
                                let sv = Some(Spanned::new(t.span(), v.clone()));
                                self.secret(&sv, s, &format!("env.{k}"))
                                    .map(EnvValue::Secret)
                            }
                            _ => {
                                self.err(t.span(), s, &format!("env.{k}"), "expected a string, or a secret { env = \"NAME\" } / { file = \"/path\" }");
                                None
                            }
                        };
                        if let Some(value) = value {
                            env.push((k.clone(), value));
                        }
                    }
                }
                let timeout =
                    self.seconds(&r.timeout_seconds, s, "timeout_seconds", (1, 86_400), 3600);
                SourceKind::Command(CommandSource {
                    program: program.unwrap_or_default(),
                    args,
                    env,
                    timeout,
                })
            }
        };
        if self.errors.len() == before {
            if let (
                SourceKind::Sqlite(SqliteSource {
                    events: Some(m), ..
                })
                | SourceKind::Postgres(PostgresSource {
                    events: Some(m), ..
                }),
                Some(raw_span),
            ) = (&kind, events_span)
            {
                let name = match s {
                    Subject::Source(n) => n.as_str(),
                    _ => "",
                };
                self.events_in_database((name, &kind), m, raw_span, s, "events");
            }
        }
        (self.errors.len() == before).then_some(kind)
    }

    pub(crate) fn destination(
        &mut self,
        raw: RawDestination,
        s: &Subject,
        span: Range<usize>,
        settings: &Settings,
    ) -> Option<DestinationKind> {
        let before = self.errors.len();
        let kind = match raw {
            RawDestination::Directory(r) => {
                let path =
                    self.required(&r.path, s, "path", &span, "the directory the files go to");
                DestinationKind::Directory(DirectoryDest {
                    path: self.path(&path.unwrap_or_default()),
                    keep_days: self.int(&r.keep_days, s, "keep_days", (1, 3650), 7, " days") as u32,
                })
            }
            RawDestination::Email(r) => {
                let to = self.mailboxes(&r.to, s, "to");
                if r.to.as_ref().is_none_or(|t| t.get_ref().is_empty()) {
                    let at = r.to.as_ref().map_or(span.clone(), |t| t.span());
                    self.err(
                        at,
                        s,
                        "to",
                        "an email destination needs at least one address in `to`",
                    );
                }
                let smtp = r.smtp.as_ref().and_then(|m| self.smtp(m, s, "smtp"));
                let from = r.from.as_ref().and_then(|f| self.mailbox(f, s, "from"));
                let server = smtp.as_ref().or(settings.smtp.as_ref());
                match server {
                    None if r.smtp.is_none() => self.err(
                        span.clone(),
                        s,
                        "smtp",
                        "no SMTP server: add `smtp = { host = … }` here or a [settings.smtp] table",
                    ),
                    Some(m) if from.is_none() && m.from.is_none() => self.err(
                        span.clone(),
                        s,
                        "from",
                        "no sender address: add `from` here or to the SMTP settings",
                    ),
                    _ => {}
                }
                let mut template = |v: &Option<Spanned<String>>, key: &str, default: &str| {
                    let text = v
                        .as_ref()
                        .map_or(default, |x| x.get_ref().as_str())
                        .to_string();
                    if let Err(e) = Template::parse(&text, MAIL_VARS) {
                        let at = v.as_ref().map_or(span.clone(), |x| x.span());
                        self.err(at, s, key, e);
                    }
                    text
                };
                let subject = template(&r.subject, "subject", DEFAULT_SUBJECT);
                let body = template(&r.body, "body", DEFAULT_BODY);
                let max_mb = match &r.max_attachment_mb {
                    None => 10.0,
                    Some(v) if v.get_ref().get() > 0.0 && v.get_ref().get() <= 1000.0 => {
                        v.get_ref().get()
                    }
                    Some(v) => {
                        self.err(
                            v.span(),
                            s,
                            "max_attachment_mb",
                            format!(
                                "{} is out of range; allowed: more than 0 up to 1000 (MB)",
                                v.get_ref().get()
                            ),
                        );
                        10.0
                    }
                };
                DestinationKind::Email(EmailDest {
                    to,
                    cc: self.mailboxes(&r.cc, s, "cc"),
                    bcc: self.mailboxes(&r.bcc, s, "bcc"),
                    from,
                    subject,
                    body,
                    max_attachment_bytes: (max_mb * 1024.0 * 1024.0) as u64,
                    smtp,
                })
            }
            RawDestination::Sftp(r) => {
                let host = self.required(&r.host, s, "host", &span, "the SFTP server's host name");
                let user = self.required(
                    &r.user,
                    s,
                    "user",
                    &span,
                    "the login name on the SFTP server",
                );
                let path = self.required(
                    &r.path,
                    s,
                    "path",
                    &span,
                    "the remote directory the files go to",
                );
                let accept_new = r.accept_new_host_key.as_ref().is_some_and(|a| *a.get_ref());
                let known_hosts = match &r.known_hosts {
                    // Trusting new keys creates the file on first use.
                    Some(k) if accept_new => self.path(k.get_ref()),
                    Some(k) => self.existing_path(k, s, "known_hosts"),
                    None => self.path("~/.ssh/known_hosts"),
                };
                let agent = r.agent.as_ref().is_some_and(|a| *a.get_ref());
                let password = self.secret(&r.password, s, "password");
                let passphrase = self.secret(&r.key_passphrase, s, "key_passphrase");
                let key_file = r
                    .key_file
                    .as_ref()
                    .map(|k| self.existing_path(k, s, "key_file"));
                let ways = usize::from(key_file.is_some())
                    + usize::from(agent)
                    + usize::from(r.password.is_some());
                if ways != 1 {
                    self.err(span.clone(), s, "key_file", "give exactly one way to log in: `key_file` (with optional `key_passphrase`), `agent = true`, or `password`");
                }
                if r.key_passphrase.is_some() && key_file.is_none() {
                    self.err(
                        span.clone(),
                        s,
                        "key_passphrase",
                        "`key_passphrase` goes with `key_file`",
                    );
                }
                let auth = match (key_file, agent, password) {
                    (Some(file), _, _) => SftpAuth::Key { file, passphrase },
                    (None, true, _) => SftpAuth::Agent,
                    (None, false, Some(p)) => SftpAuth::Password(p),
                    _ => SftpAuth::Agent,
                };
                DestinationKind::Sftp(SftpDest {
                    host: host.unwrap_or_default(),
                    port: self.int(&r.port, s, "port", (1, 65535), 22, "") as u16,
                    user: user.unwrap_or_default(),
                    path: path.unwrap_or_default(),
                    known_hosts,
                    accept_new_host_key: accept_new,
                    auth,
                    create_dirs: r.create_dirs.as_ref().is_some_and(|a| *a.get_ref()),
                    connect_timeout: self.seconds(
                        &r.connect_timeout_seconds,
                        s,
                        "connect_timeout_seconds",
                        (1, 600),
                        30,
                    ),
                    io_timeout: self.seconds(
                        &r.io_timeout_seconds,
                        s,
                        "io_timeout_seconds",
                        (1, 3600),
                        300,
                    ),
                })
            }
            RawDestination::Pickup(r) => self.pickup_dest(&r, s),
            RawDestination::S3(r) => {
                let bucket = self.required(&r.bucket, s, "bucket", &span, "the bucket name");
                if let (Some(b), Some(v)) = (&bucket, &r.bucket) {
                    let ok = (3..=63).contains(&b.len())
                        && b.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                        });
                    if !ok {
                        self.err(
                            v.span(),
                            s,
                            "bucket",
                            "a bucket name is 3 to 63 lowercase letters, digits, `.` and `-`",
                        );
                    }
                }
                let prefix = r
                    .prefix
                    .as_ref()
                    .map_or_else(String::new, |p| p.get_ref().clone());
                if let Some(p) = &r.prefix {
                    if prefix.starts_with('/') || prefix.split('/').any(|c| c == "..") {
                        self.err(
                            p.span(),
                            s,
                            "prefix",
                            "a key prefix cannot start with `/` or contain `..`",
                        );
                    }
                }
                if let Some(e) = &r.endpoint {
                    if !(e.get_ref().starts_with("https://") || e.get_ref().starts_with("http://"))
                    {
                        self.err(
                            e.span(),
                            s,
                            "endpoint",
                            "expected a URL such as https://s3.example.com",
                        );
                    }
                }
                let access_key_id = self.secret(&r.access_key_id, s, "access_key_id");
                let secret_access_key = self.secret(&r.secret_access_key, s, "secret_access_key");
                match (&r.access_key_id, &r.secret_access_key) {
                    (Some(a), None) => self.err(
                        a.span(),
                        s,
                        "secret_access_key",
                        "`access_key_id` needs `secret_access_key`",
                    ),
                    (None, Some(a)) => self.err(
                        a.span(),
                        s,
                        "access_key_id",
                        "`secret_access_key` needs `access_key_id`",
                    ),
                    _ => {}
                }
                let session_token = self.secret(&r.session_token, s, "session_token");
                let sse = match r.sse.as_ref().map(|v| (v, v.get_ref().as_str())) {
                    None => None,
                    Some((_, "AES256")) => Some(Sse::Aes256),
                    Some((_, "aws:kms")) => Some(Sse::Kms {
                        key_id: r.sse_kms_key_id.as_ref().map(|k| k.get_ref().clone()),
                    }),
                    Some((v, other)) => {
                        self.err(
                            v.span(),
                            s,
                            "sse",
                            format!(
                                "\"{}\" is not allowed; allowed: AES256, aws:kms",
                                other.escape_default()
                            ),
                        );
                        None
                    }
                };
                if let (Some(k), false) = (&r.sse_kms_key_id, matches!(sse, Some(Sse::Kms { .. })))
                {
                    self.err(k.span(), s, "sse_kms_key_id", "goes with sse = \"aws:kms\"");
                }
                let part_mb =
                    self.int(&r.part_size_mb, s, "part_size_mb", (5, 5120), 16, " MB") as u64;
                let threshold_mb = self.int(
                    &r.multipart_threshold_mb,
                    s,
                    "multipart_threshold_mb",
                    (5, 5120),
                    64,
                    " MB",
                ) as u64;
                DestinationKind::S3(S3Dest {
                    bucket: bucket.unwrap_or_default(),
                    prefix,
                    region: r
                        .region
                        .as_ref()
                        .map_or_else(|| "us-east-1".to_string(), |v| v.get_ref().clone()),
                    endpoint: r.endpoint.as_ref().map(|v| v.get_ref().clone()),
                    path_style: r.path_style.as_ref().is_some_and(|v| *v.get_ref()),
                    access_key_id,
                    secret_access_key,
                    session_token,
                    sse,
                    content_type: r.content_type.as_ref().map(|v| v.get_ref().clone()),
                    link_minutes: self.int(
                        &r.link_minutes,
                        s,
                        "link_minutes",
                        (1, 10080),
                        30,
                        " minutes",
                    ) as u32,
                    part_size: part_mb * 1024 * 1024,
                    multipart_threshold: threshold_mb * 1024 * 1024,
                })
            }
        };
        (self.errors.len() == before).then_some(kind)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tls_params_in_urls() {
        assert!(super::url_has_tls_param("postgres://h/db?sslmode=require"));
        assert!(super::url_has_tls_param("host=h sslrootcert=/ca.pem"));
        assert!(!super::url_has_tls_param(
            "postgres://h/db?application_name=x"
        ));
        assert!(!super::url_has_tls_param("host=h dbname=db"));
    }

    #[test]
    fn loopback_hosts() {
        assert!(super::is_loopback("localhost"));
        assert!(super::is_loopback("127.0.0.1"));
        assert!(super::is_loopback("::1"));
        assert!(!super::is_loopback("mail.example.com"));
    }
}
