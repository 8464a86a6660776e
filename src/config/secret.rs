//! Secrets: passwords, keys and tokens are referenced, not written, in the configuration
//! (`{ env = "SMTP_PASSWORD" }` or `{ file = "/run/secrets/smtp" }`). A plain string is
//! accepted only with `[settings] allow_plain_secrets = true`. Neither a `Secret` nor a
//! resolved `SecretValue` ever prints its value: `Debug` and `Display` are redacted.

use std::fmt;
use std::path::PathBuf;

#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Env(String),
    File(PathBuf),
    Plain(String),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Secret {
    /// Where the secret comes from, safe to show.
    pub fn describe(&self) -> String {
        match self {
            Secret::Env(name) => format!("environment variable {name}"),
            Secret::File(path) => format!("file {}", path.display()),
            Secret::Plain(_) => "a plain value in the configuration".to_string(),
        }
    }

    /// Reads the secret now. File contents lose one trailing newline. The value is
    /// remembered for redaction (`crate::redact`): it never shows in captured text.
    pub fn resolve(&self) -> Result<SecretValue, String> {
        let value = self.read()?;
        crate::redact::remember(&value);
        Ok(SecretValue(value))
    }

    /// The value, if it can be read now and is not empty; for redaction only.
    pub(crate) fn read_quietly(&self) -> Option<String> {
        self.read().ok()
    }

    fn read(&self) -> Result<String, String> {
        let value = match self {
            Secret::Env(name) => match std::env::var(name) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!("environment variable {name} is not set"))
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("environment variable {name} is not valid UTF-8"))
                }
            },
            Secret::File(path) => match std::fs::read_to_string(path) {
                Ok(mut v) => {
                    if v.ends_with('\n') {
                        v.pop();
                        if v.ends_with('\r') {
                            v.pop();
                        }
                    }
                    v
                }
                Err(e) => return Err(format!("cannot read secret file {}: {e}", path.display())),
            },
            Secret::Plain(v) => v.clone(),
        };
        if value.is_empty() {
            return Err(format!("{} is empty", self.describe()));
        }
        Ok(value)
    }
}

/// A secret's value, read at the moment it is needed. Redacted in `Debug`.
#[derive(Clone)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::Plain("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        let v = s.resolve().unwrap();
        assert!(!format!("{v:?}").contains("hunter2"));
        assert_eq!(v.expose(), "hunter2");
    }

    #[test]
    fn file_secret_loses_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "abc\n").unwrap();
        assert_eq!(Secret::File(p.clone()).resolve().unwrap().expose(), "abc");
        std::fs::write(&p, "").unwrap();
        assert!(Secret::File(p).resolve().unwrap_err().contains("is empty"));
    }

    #[test]
    fn missing_env_is_named() {
        let e = Secret::Env("REPORTCTL_TEST_SURELY_UNSET_VAR".into())
            .resolve()
            .unwrap_err();
        assert_eq!(
            e,
            "environment variable REPORTCTL_TEST_SURELY_UNSET_VAR is not set"
        );
    }
}
