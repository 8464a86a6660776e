//! The wall clock: the instant claims, leases, first sight of a report, `send-test`'s
//! rate limit and links are measured against (a run's slot comes from `--now`, not
//! from here).
//!
//! Debug builds, which the integration tests run, read `REPORTCTL_TEST_WALL_CLOCK`: an
//! RFC 3339 instant the clock then stands still at for the whole process. Tests use it
//! to take over an expired lease or to hit the rate limit without racing the real
//! clock on a busy machine. Release builds always read the system clock.

use chrono::{DateTime, Utc};

/// Now, by the wall clock.
pub fn wall() -> DateTime<Utc> {
    #[cfg(debug_assertions)]
    if let Some(t) = fixed() {
        return t;
    }
    Utc::now()
}

#[cfg(debug_assertions)]
fn fixed() -> Option<DateTime<Utc>> {
    static FIXED: std::sync::OnceLock<Option<DateTime<Utc>>> = std::sync::OnceLock::new();
    *FIXED.get_or_init(|| {
        let v = std::env::var("REPORTCTL_TEST_WALL_CLOCK").ok()?;
        let t = DateTime::parse_from_rfc3339(&v)
            .unwrap_or_else(|e| panic!("REPORTCTL_TEST_WALL_CLOCK={v:?} is not RFC 3339: {e}"));
        Some(t.with_timezone(&Utc))
    })
}
