//! After the runs: old files out of directory and pickup destinations, and spooled
//! files no run needs out of the spool. Problems here are warnings: they never fail a
//! run.

use chrono::{DateTime, Utc};

use super::spool;
use crate::config::{Config, DestinationKind};
use crate::deliver;
use crate::ledger::Ledger;
use crate::ui;

/// Prunes old files from directory destinations and spooled files no run needs.
pub fn housekeeping(config: &Config, ledger: &mut Ledger) {
    let wall = crate::clock::wall();
    prune_destinations(config, ledger, wall);
    match spool::prune(config, ledger, wall) {
        Ok(removed) => {
            for dir in removed {
                ui::debug(format!("pruned {} from the spool", dir.display()));
            }
        }
        Err(e) => ui::warn(format!(
            "pruning the spool {}: {e:#}",
            config.settings.spool.display()
        )),
    }
}

fn prune_destinations(config: &Config, ledger: &mut Ledger, wall: DateTime<Utc>) {
    for dest in config.destinations.values() {
        let (pruned, path) = match &dest.kind {
            DestinationKind::Directory(d) => (
                deliver::directory::prune(&dest.name, d, ledger, wall),
                &d.path,
            ),
            DestinationKind::Pickup(p) => {
                (deliver::pickup::prune(config, &dest.name, p, wall), &p.path)
            }
            _ => continue,
        };
        match pruned {
            Ok(removed) => {
                for f in removed {
                    ui::info(format!("pruned {} from {}", f, path.display()));
                }
            }
            Err(e) => ui::warn(format!("pruning destination \"{}\": {e:#}", dest.name)),
        }
    }
}
