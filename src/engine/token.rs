//! Run tokens: the handle of one run in the ledger, in
//! `status`, `cancel` and the `{token}` file name placeholder.
//!
//! A manual run's token is random. A scheduled slot's token is derived from the report
//! name and the slot's run time, so `plan` can show it before the run exists and every
//! host sharing a ledger agrees on it.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The token of the scheduled slot of `report` at `run_at`: 16 hex digits.
pub fn slot_token(report: &str, run_at: DateTime<Utc>) -> String {
    let mut h = Sha256::new();
    h.update(b"reportctl slot\n");
    h.update(report.as_bytes());
    h.update(b"\n");
    h.update(run_at.to_rfc3339_opts(SecondsFormat::Secs, true).as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// The token of the run of recipient `key` in the scheduled slot of `report` at
/// `run_at`: 16 hex digits, derived like `slot_token` so that every host agrees, and
/// distinct from the slot's own and from every other recipient's.
pub fn recipient_token(report: &str, run_at: DateTime<Utc>, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"reportctl recipient slot\n");
    for part in [
        report,
        &run_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        key,
    ] {
        // Lengths first: no two (report, key) pairs hash the same bytes.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// The token of a manual, test or local run: 16 random hex digits.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_tokens_are_stable_and_distinct() {
        let t = "2026-11-25T11:00:00Z".parse().unwrap();
        let a = slot_token("Daily Views", t);
        assert_eq!(a.len(), 16);
        assert_eq!(a, slot_token("Daily Views", t));
        assert_ne!(a, slot_token("Daily Views", t + chrono::Duration::hours(1)));
        assert_ne!(a, slot_token("Daily views", t));
    }

    #[test]
    fn recipient_tokens_are_stable_and_distinct() {
        let t = "2026-11-25T11:00:00Z".parse().unwrap();
        let a = recipient_token("Daily Views", t, "p1");
        // Fixed: hosts running different builds must agree.
        assert_eq!(a, "3bce5af3930d40d7");
        assert_eq!(a, recipient_token("Daily Views", t, "p1"));
        assert_ne!(a, recipient_token("Daily Views", t, "p2"));
        assert_ne!(a, slot_token("Daily Views", t));
        assert_ne!(
            recipient_token("Daily Views", t + chrono::Duration::days(1), "p1"),
            a
        );
        assert_ne!(recipient_token("a", t, "bc"), recipient_token("ab", t, "c"));
    }
}
