//! PostgreSQL connection strings as the configuration writes them (`postgres://` URLs
//! and libpq key=value strings): pure text functions shared by the checkers and by
//! `pgconn`, which connects. They live here so that the configuration imports nothing
//! from the modules that use it.

pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Whether a `postgres://user:password@host` URL carries a password.
pub fn url_has_password(s: &str) -> bool {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// Whether a connection URL or key=value string sets TLS options (`sslmode`,
/// `sslrootcert`), which a source takes as its own keys.
pub fn url_has_tls_param(s: &str) -> bool {
    let keys = ["sslmode", "sslrootcert"];
    match s.split_once('?') {
        Some((_, q)) if is_postgres_url(s) => q
            .split('&')
            .any(|p| keys.contains(&p.split('=').next().unwrap_or(""))),
        _ if !is_postgres_url(s) => s
            .split_whitespace()
            .any(|p| keys.contains(&p.split('=').next().unwrap_or("").trim())),
        _ => false,
    }
}

/// The TLS settings libpq reads from a URL's query, which are taken out of it here
/// (tokio-postgres knows neither `verify-full` nor `sslrootcert`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SslParams {
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// Splits `sslmode` and `sslrootcert` off a `postgres://` URL's query.
pub fn split_ssl_params(url: &str) -> (String, SslParams) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), SslParams::default());
    };
    let mut ssl = SslParams::default();
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || {
            url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        match k {
            "sslmode" => ssl.sslmode = Some(value()),
            "sslrootcert" => ssl.sslrootcert = Some(value()),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, ssl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_spotted() {
        assert!(url_has_password("postgres://u:p@h/db"));
        assert!(!url_has_password("postgres://u@h/db"));
        assert!(!url_has_password("postgres://h/db?user=u"));
        assert!(url_has_password("postgresql://u:p%40x@h:5432/db"));
    }

    #[test]
    fn ssl_params_come_out_of_the_url() {
        let (u, s) =
            split_ssl_params("postgres://u@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(u, "postgres://u@h:5432/db?application_name=x");
        assert_eq!(s.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        let (u, s) = split_ssl_params("postgres://u@h/db?sslmode=disable");
        assert_eq!(u, "postgres://u@h/db");
        assert_eq!(s.sslmode.as_deref(), Some("disable"));
        let (u, s) = split_ssl_params("postgres://u@h/db");
        assert_eq!((u.as_str(), s), ("postgres://u@h/db", SslParams::default()));
    }

    #[test]
    fn tls_params_in_urls() {
        assert!(url_has_tls_param("postgres://h/db?sslmode=require"));
        assert!(url_has_tls_param("host=h sslrootcert=/ca.pem"));
        assert!(!url_has_tls_param("postgres://h/db?application_name=x"));
        assert!(!url_has_tls_param("host=h dbname=db"));
    }
}
