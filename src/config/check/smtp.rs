//! Checking an SMTP server table (`[settings.smtp]` or an email destination's `smtp`).

use toml::Spanned;

use super::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawSmtp;

pub(crate) fn is_loopback(host: &str) -> bool {
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
        let port = match tls {
            SmtpTls::StartTls => limits::SMTP_STARTTLS_PORT,
            SmtpTls::Tls => limits::SMTP_TLS_PORT,
            SmtpTls::None => limits::SMTP_PLAIN_PORT,
        };
        let port = self.limit(&m.port, s, &k("port"), port) as u16;
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
        let timeout = self.duration(
            &m.timeout_seconds,
            s,
            &k("timeout_seconds"),
            limits::SMTP_TIMEOUT,
        );
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
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_hosts() {
        assert!(super::is_loopback("localhost"));
        assert!(super::is_loopback("127.0.0.1"));
        assert!(super::is_loopback("::1"));
        assert!(!super::is_loopback("mail.example.com"));
    }
}
