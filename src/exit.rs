//! Exit codes (documented in the README and the man pages) and the one place where a
//! fatal error is printed.

use std::fmt;

use crate::config::ConfigErrors;

pub const OK: u8 = 0;
/// A run or a delivery failed.
pub const FAILED: u8 = 1;
/// Usage or configuration error.
pub const USAGE: u8 = 2;
/// `send-test` refused by its rate limit (EX_TEMPFAIL).
pub const RATE_LIMITED: u8 = 75;

/// A mistake on the command line that clap cannot see (an unknown report name, say).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A refusal to do something now that will be allowed later.
#[derive(Debug)]
pub struct RateLimited {
    pub message: String,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RateLimited {}

/// Prints `err` on stderr as `reportctl: error: …` with its causes and returns the exit
/// code it stands for. A closed stdout (`reportctl plan | head`) is not an error.
pub fn report(err: &anyhow::Error) -> u8 {
    if err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return OK;
    }
    if let Some(errors) = err.downcast_ref::<ConfigErrors>() {
        for d in &errors.0 {
            eprintln!("reportctl: error: {}", crate::redact::text(&d.to_string()));
        }
        return USAGE;
    }
    let mut msg = format!("reportctl: error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!(": {cause}"));
    }
    eprintln!("{}", crate::redact::text(&msg));
    if err.downcast_ref::<UsageError>().is_some() {
        USAGE
    } else if err.downcast_ref::<RateLimited>().is_some() {
        RATE_LIMITED
    } else {
        FAILED
    }
}
