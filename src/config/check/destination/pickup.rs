//! Checking a `kind = "pickup"` destination: files kept for clients of `serve` to fetch.

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawPickupDest;

/// The old spelling of `naming = "dated-zip"`, still read, with a warning.
const OLD_DATED_ZIP: &str = "seed002";

impl Checker<'_> {
    pub(super) fn pickup_dest(&mut self, r: &RawPickupDest, s: &Subject) -> DestinationKind {
        let before = self.errors.len();
        let naming = match &r.naming {
            Some(v) if v.get_ref() == OLD_DATED_ZIP => {
                self.warn(
                    v.span(),
                    s,
                    "naming",
                    format!(
                        "\"{OLD_DATED_ZIP}\" is the deprecated name of \"dated-zip\"; write naming = \"dated-zip\" instead"
                    ),
                );
                PickupNaming::DatedZip
            }
            _ => self.word(
                &r.naming,
                s,
                "naming",
                &[
                    ("report", PickupNaming::Report),
                    ("dated-zip", PickupNaming::DatedZip),
                ],
                PickupNaming::Report,
            ),
        };
        let app_id = r.app_id.as_ref().map(|a| a.get_ref().clone());
        let naming_ok = self.errors.len() == before;
        if let (Some(a), false) = (&r.app_id, naming == PickupNaming::DatedZip || !naming_ok) {
            self.err(
                a.span(),
                s,
                "app_id",
                "an app downloads one {name_}_{YYYYMMDD}.zip per run; add naming = \"dated-zip\"",
            );
        }
        DestinationKind::Pickup(PickupDest {
            path: r.path.as_ref().map_or_else(
                || self.path(limits::DEFAULT_PICKUP),
                |p| self.path(p.get_ref()),
            ),
            keep_days: self.limit(&r.keep_days, s, "keep_days", limits::KEEP_DAYS) as u32,
            naming,
            app_id,
        })
    }
}
