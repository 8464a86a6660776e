//! Checking a `kind = "postgres"` source: a URL or host/port/user/dbname, TLS as keys of
//! their own, and the timeouts.

use std::ops::Range;

use toml::Spanned;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::pgurl::{is_postgres_url, url_has_password, url_has_tls_param};
use crate::config::raw::RawPostgresSource;

impl Checker<'_> {
    pub(super) fn postgres_source(
        &mut self,
        r: &RawPostgresSource,
        s: &Subject,
        span: &Range<usize>,
    ) -> SourceKind {
        let str_of = |v: &Option<Spanned<String>>| v.as_ref().map(|x| x.get_ref().clone());
        self.postgres_address(r, s, span);
        let sslmode = self.word(
            &r.sslmode,
            s,
            "sslmode",
            &SslMode::ALL.map(|m| (m.name(), m)),
            SslMode::Prefer,
        );
        let ca_file = r
            .ca_file
            .as_ref()
            .map(|c| self.existing_path(c, s, "ca_file"));
        let statement_timeout = r.statement_timeout_seconds.as_ref().map(|_| {
            self.duration(
                &r.statement_timeout_seconds,
                s,
                "statement_timeout_seconds",
                limits::POSTGRES_STATEMENT_TIMEOUT,
            )
        });
        SourceKind::Postgres(PostgresSource {
            url: str_of(&r.url),
            host: str_of(&r.host),
            port: r
                .port
                .as_ref()
                .map(|_| self.limit(&r.port, s, "port", limits::POSTGRES_PORT) as u16),
            user: str_of(&r.user),
            dbname: str_of(&r.dbname),
            password: self.secret(&r.password, s, "password"),
            sslmode,
            ca_file,
            connect_timeout: self.duration(
                &r.connect_timeout_seconds,
                s,
                "connect_timeout_seconds",
                limits::POSTGRES_CONNECT_TIMEOUT,
            ),
            statement_timeout,
            events: r
                .events
                .as_ref()
                .and_then(|e| self.events(e, s, "events", false)),
        })
    }

    /// Either a URL (without a password, unless plain secrets are allowed, and without
    /// TLS parameters) or a host.
    fn postgres_address(&mut self, r: &RawPostgresSource, s: &Subject, span: &Range<usize>) {
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
    }
}
