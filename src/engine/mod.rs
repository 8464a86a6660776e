//! The run engine: everything between a checked configuration and a recorded run.
//!
//! - `due`: which scheduled slots `run-due` owes at `now` (plan, against the ledger);
//! - `scheduled`: `run-due`'s loop: collect what is due, claim each run, execute it;
//! - `manual`: `run` and `send-test`, one report now (recorded, or local);
//! - `runner`: one claimed run end to end: plan → source → render → deliver → ledger;
//! - `pool`: `run-due`'s runs executed side by side (`max_parallel`), each worker with its
//!   own ledger connection;
//! - `gate`: limits on concurrent queries of a source and deliveries to a destination;
//! - `send_if`: a report's `condition` and `send_empty`: runs completed, not sent;
//! - `lease`: keeping a claim alive while a run works;
//! - `notify`: the mail after a scheduled run;
//! - `ping`: heartbeat pings of scheduled runs (`ping_url`);
//! - `summary`: a run in one line;
//! - `spool`: the run directories (creation, intact check, tidying, pruning);
//! - `housekeeping`: pruning after the runs (destinations, spool);
//! - `watch`: what `check` says about each report's latest slots;
//! - `redo`: `retry` and `resend`, a recorded run delivered again;
//! - `recipients`: the recipients of a slot (bursting);
//! - `token`: run tokens.
//!
//! Commands call into it and print what it returns; it never prints a run's summary.

pub mod due;
pub mod gate;
mod housekeeping;
pub mod lease;
pub mod manual;
pub mod notify;
pub mod ping;
pub mod pool;
pub mod recipients;
pub mod redo;
pub mod runner;
pub mod scheduled;
pub mod send_if;
pub mod spool;
pub mod summary;
pub mod token;
pub mod watch;

#[cfg(test)]
mod tests;

pub use housekeeping::housekeeping;
pub use runner::Runner;
