//! Structured outputs: summary and detail reports described in the configuration
//! (seed 000's Views and Engagement reports, seed 001's summary and detail reports) and
//! compiled to the source's SQL, instead of a hand-written `query`.

pub mod compile;
pub mod spec;
pub mod sqlite_fns;

pub use compile::{compile, Compiled, Dialect, Guard, Param};
pub use spec::*;
