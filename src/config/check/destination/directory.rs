//! Checking a `kind = "directory"` destination.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawDirectoryDest;

impl Checker<'_> {
    pub(super) fn directory_dest(
        &mut self,
        r: &RawDirectoryDest,
        s: &Subject,
        span: &Range<usize>,
    ) -> DestinationKind {
        let path = self.required(&r.path, s, "path", span, "the directory the files go to");
        DestinationKind::Directory(DirectoryDest {
            path: self.path(&path.unwrap_or_default()),
            keep_days: self.limit(&r.keep_days, s, "keep_days", limits::KEEP_DAYS) as u32,
        })
    }
}
