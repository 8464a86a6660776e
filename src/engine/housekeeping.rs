//! After the runs: old files out of directory and pickup destinations, spooled files
//! no run needs out of the spool, and finished runs older than `keep_runs_days` out of
//! the ledger. Problems here are warnings: they never fail a run.

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
    prune_runs(config, ledger, wall);
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

/// Runs pruned per transaction, and transactions per `run-due` call: a ledger that
/// has years to shed sheds them over a few calls, each holding the lock briefly.
const BATCH: usize = 500;
const BATCHES: usize = 20;

/// Deletes finished runs older than `keep_runs_days` (see `ledger::retention` for the
/// ones always kept), never one whose files a directory destination may still prune.
fn prune_runs(config: &Config, ledger: &mut Ledger, wall: DateTime<Utc>) {
    let Some(before) = runs_cutoff(config, wall) else {
        return;
    };
    let mut total = 0;
    for _ in 0..BATCHES {
        match ledger.prune_runs(before, BATCH) {
            Ok(n) => {
                total += n;
                if n < BATCH as u64 {
                    break;
                }
            }
            Err(e) => {
                ui::warn(format!("pruning old runs from the ledger: {e:#}"));
                break;
            }
        }
    }
    if total > 0 {
        ui::debug(format!(
            "pruned {total} runs recorded before {} from the ledger",
            crate::ledger::ts(before)
        ));
    }
}

/// Runs recorded before this may go: `keep_runs_days` ago, or earlier while a
/// directory destination keeps its files longer (it finds them through the receipts).
/// `None` with `keep_runs_days = 0`.
fn runs_cutoff(config: &Config, wall: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let keep = config.settings.keep_runs_days;
    if keep == 0 {
        return None;
    }
    let longest = config
        .destinations
        .values()
        .filter_map(|d| match &d.kind {
            DestinationKind::Directory(d) => Some(d.keep_days + 1),
            _ => None,
        })
        .fold(keep, u32::max);
    Some(wall - chrono::Duration::days(i64::from(longest)))
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
