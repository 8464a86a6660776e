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
