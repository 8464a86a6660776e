//! Redaction of secret values from captured text. A command source's program, an SFTP,
//! SMTP, S3 or PostgreSQL server may echo a secret back in its messages (a program that
//! prints its environment on failure, a server that repeats a rejected login). Such text
//! reaches the terminal, `--json`, the ledger, `history` and `status`; every place where
//! captured text enters a message passes it through [`text`], which replaces each known
//! secret value with [`REPLACEMENT`].
//!
//! Known values are every secret the configuration references (registered by the
//! configuration checker and read on first use, so that a secret the run has not needed
//! yet is hidden too, e.g. one a child program inherited through the environment) and
//! every secret value read during this process.

use std::sync::Mutex;

/// What a secret value is replaced with.
pub const REPLACEMENT: &str = "[redacted]";

/// Reads a secret's value, if it can be read now.
type Read = Box<dyn Fn() -> Option<String> + Send>;

struct Known {
    /// Referenced by the configuration, not read yet.
    pending: Vec<Read>,
    /// Values to hide, longest first.
    values: Vec<String>,
}

static KNOWN: Mutex<Known> = Mutex::new(Known {
    pending: Vec::new(),
    values: Vec::new(),
});

fn known() -> std::sync::MutexGuard<'static, Known> {
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remembers a secret the configuration references, as the way to read it: its value
/// is read when text is next redacted (a secret that cannot be read then has nothing to
/// hide). This module knows nothing of the configuration.
pub fn watch(read: impl Fn() -> Option<String> + Send + 'static) {
    known().pending.push(Box::new(read));
}

/// Remembers a secret value that was read.
pub fn remember(value: &str) {
    add(&mut known(), value);
}

fn add(k: &mut Known, value: &str) {
    if value.is_empty() || k.values.iter().any(|v| v == value) {
        return;
    }
    k.values.push(value.to_string());
    // Longest first: a secret that contains another is replaced whole.
    k.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// `s` with every known secret value replaced by [`REPLACEMENT`].
pub fn text(s: &str) -> String {
    let mut k = known();
    for read in std::mem::take(&mut k.pending) {
        if let Some(v) = read() {
            add(&mut k, &v);
        }
    }
    let mut out = s.to_string();
    for v in &k.values {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), REPLACEMENT);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_replaced_longest_first() {
        remember("unit-redact-pw");
        remember("unit-redact-pw-longer");
        assert_eq!(
            text("a unit-redact-pw-longer b unit-redact-pw c"),
            "a [redacted] b [redacted] c"
        );
        assert_eq!(text("nothing secret"), "nothing secret");
    }

    #[test]
    fn watched_secrets_are_read_when_needed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, "unit-redact-from-file\n").unwrap();
        let read = |p: std::path::PathBuf| {
            move || {
                std::fs::read_to_string(&p)
                    .ok()
                    .map(|s| s.trim_end().to_string())
            }
        };
        watch(read(p));
        assert_eq!(text("x unit-redact-from-file y"), "x [redacted] y");
        // An unreadable secret hides nothing and is no error.
        watch(read(dir.path().join("missing")));
        assert_eq!(text("plain"), "plain");
    }
}
