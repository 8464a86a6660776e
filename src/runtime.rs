//! The tokio runtimes reportctl starts. The program is synchronous; the async clients
//! it uses (PostgreSQL, S3) each run on a single-threaded runtime of their own for the
//! length of one call, and `serve` runs on a multi-threaded one until it stops.

use anyhow::{Context, Result};
use tokio::runtime::{Builder, Runtime};

/// A single-threaded runtime for one blocking call into an async client; `what` names
/// it in the error ("the PostgreSQL client").
pub fn for_client(what: &str) -> Result<Runtime> {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .with_context(|| format!("starting {what}"))
}

/// The multi-threaded runtime of `serve`.
pub fn for_server() -> Result<Runtime> {
    Builder::new_multi_thread()
        .enable_all()
        .thread_name("reportctl-serve")
        .build()
        .context("starting the async runtime")
}
