//! `reportctl serve`: the pickup API (see `crate::serve`).

use anyhow::Result;

use crate::cli::{Cli, ServeArgs};

pub fn run(cli: &Cli, args: &ServeArgs) -> Result<u8> {
    let config = super::load(cli)?;
    crate::serve::run(&config, args.listen)
}
