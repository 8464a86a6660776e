//! The planner: which runs a report has and which period each one covers. Pure: a
//! schedule, a zone and `now` in, slots out; no clock, no I/O. Every schedule rule of
//! the brief is testable here without waiting for time to pass.

mod describe;
pub mod local;
pub mod params;
mod runs;
pub mod spec;
mod window;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

pub use describe::describe;
pub use spec::{Frequency, NamedWindow, OnceAt, Recurring, Schedule, WindowRule};
pub use window::Window;

/// One scheduled run: when it happens and what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub run_at: DateTime<Tz>,
    pub window: Window,
}

/// A schedule read in its zone. `send_at` schedules are UTC whatever the report says.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub schedule: &'a Schedule,
    pub tz: Tz,
    /// When a `once = "asap"` schedule counts as due: the moment `run-due` first saw the
    /// report, or `now` when only planning.
    pub asap: DateTime<Utc>,
}

impl<'a> Plan<'a> {
    pub fn new(schedule: &'a Schedule, tz: Tz, asap: DateTime<Utc>) -> Self {
        Plan { schedule, tz, asap }
    }

    /// The slot that runs at `run` (an instant this schedule produces).
    pub fn slot_at(&self, run: DateTime<Utc>) -> Slot {
        Slot {
            run_at: run.with_timezone(&self.tz),
            window: window::window_of(self.schedule, self.tz, run),
        }
    }

    /// All slots at or after `from`, in increasing run time.
    pub fn slots_from(&self, from: DateTime<Utc>) -> impl Iterator<Item = Slot> + 'a {
        let plan = *self;
        let mut next = Some(from);
        std::iter::from_fn(move || {
            let t = next?;
            let run = runs::next_run(plan.schedule, plan.tz, t, plan.asap)?;
            next = Some(run + Duration::seconds(1));
            Some(plan.slot_at(run))
        })
    }

    /// The slots with `from <= run_at <= to`, in increasing run time.
    pub fn slots_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = Slot> + 'a {
        self.slots_from(from).take_while(move |s| s.run_at <= to)
    }

    /// The latest slot at or before `t` (looking back at most about two years, which
    /// covers the longest period: six quarters).
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<Slot> {
        [2, 100, 800]
            .into_iter()
            .find_map(|days| self.slots_between(t - Duration::days(days), t).last())
    }
}
