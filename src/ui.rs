//! Messages on stderr, by verbosity: quiet on success unless `-v`. Known secret values
//! are redacted (`crate::redact`).

use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(1);

/// 0: errors only (`-q`); 1: warnings (default); 2: what was done (`-v`); 3: details.
pub fn init(verbose: u8, quiet: bool) {
    let level = if quiet { 0 } else { 1 + verbose.min(2) };
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

pub fn warn(msg: impl AsRef<str>) {
    if level() >= 1 {
        eprintln!("reportctl: warning: {}", crate::redact::text(msg.as_ref()));
    }
}

pub fn info(msg: impl AsRef<str>) {
    if level() >= 2 {
        eprintln!("reportctl: {}", crate::redact::text(msg.as_ref()));
    }
}

pub fn debug(msg: impl AsRef<str>) {
    if level() >= 3 {
        eprintln!("reportctl: {}", crate::redact::text(msg.as_ref()));
    }
}

/// `1 file`, `2 files`, `0 files`: a count with its noun in the right number.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(super::count(1u32, "file", "files"), "1 file");
        assert_eq!(super::count(0u32, "file", "files"), "0 files");
        assert_eq!(super::count(2u64, "row", "rows"), "2 rows");
    }
}
