//! Structured outputs: summary and detail reports of events (views, engagement,
//! clicks, installs…) described in the configuration and compiled to the source's SQL,
//! instead of a hand-written `query`.

pub mod compile;
pub mod spec;
pub mod sqlite_fns;

pub use compile::{compile, Compiled, Dialect, Guard, Param};
pub use spec::*;
