//! Exit codes (documented in the README and the man pages) and the one place where a
//! fatal error is printed.

use crate::config::ConfigErrors;

pub const OK: u8 = 0;
/// A run or a delivery failed.
pub const FAILED: u8 = 1;
/// Usage or configuration error.
pub const USAGE: u8 = 2;
/// `send-test` refused by its rate limit (EX_TEMPFAIL).
pub const RATE_LIMITED: u8 = 75;

/// A mistake on the command line that clap cannot see (an unknown report name, say).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A refusal to do something now that will be allowed later.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RateLimited {
    pub message: String,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_their_message_and_nothing_else() {
        assert_eq!(
            UsageError("no report \"x\"".into()).to_string(),
            "no report \"x\""
        );
        let limited = RateLimited {
            message: "send-test was run 5 times in the last hour".into(),
        };
        assert_eq!(
            limited.to_string(),
            "send-test was run 5 times in the last hour"
        );
        assert_eq!(
            crate::deliver::Transient("450 mailbox busy".into()).to_string(),
            "450 mailbox busy"
        );
        assert_eq!(
            crate::ledger::LostClaim {
                token: "00ab".into()
            }
            .to_string(),
            "lost the claim on run 00ab: another process took it over after the lease expired"
        );
    }
}
