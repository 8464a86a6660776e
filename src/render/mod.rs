//! Rendering: turning a query's rows into the report's files.

pub mod naming;
