//! Where the spool may be. reportctl keeps one directory per run in the spool and
//! removes the ones it made; the spool must still not be (or contain) a directory that
//! holds other things reportctl writes or reads: the configuration's own directory, a
//! destination directory, the pickup store or the ledger.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use super::Checker;
use crate::config::diag::Subject;
use crate::config::model::{Destination, DestinationKind, Settings, StateLocation};

impl Checker<'_> {
    pub(super) fn spool_placement(
        &mut self,
        span: Option<Range<usize>>,
        settings: &Settings,
        destinations: &BTreeMap<String, Destination>,
    ) {
        let spool = real_path(&settings.spool);
        let mut taken: Vec<(String, PathBuf)> = vec![(
            "the configuration's directory".to_string(),
            self.base_dir.clone(),
        )];
        if let StateLocation::Sqlite(ledger) = &settings.state {
            taken.push(("the ledger".to_string(), ledger.clone()));
        }
        for d in destinations.values() {
            match &d.kind {
                DestinationKind::Directory(x) => taken.push((
                    format!("directory destination \"{}\"", d.name),
                    x.path.clone(),
                )),
                DestinationKind::Pickup(x) => taken.push((
                    format!("the pickup store of \"{}\"", d.name),
                    x.path.clone(),
                )),
                _ => {}
            }
        }
        for (what, path) in taken {
            if real_path(&path).starts_with(&spool) {
                let msg = format!(
                    "the spool {} is or contains {what} ({}); reportctl keeps a directory per run in the spool, so it must be a directory of its own, such as \".reportctl/spool\" (the default)",
                    settings.spool.display(),
                    path.display()
                );
                let d = self.src.diagnostic(
                    span.clone(),
                    Subject::Settings,
                    Some("spool".to_string()),
                    msg,
                );
                self.errors.push(d);
            }
        }
    }
}

/// `path` made absolute with its links resolved as far as it exists, and `.`/`..`
/// taken out of the rest.
fn real_path(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for c in rest.iter().rev() {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::Normal(n) => out.push(n),
                    _ => {}
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::real_path;

    #[test]
    fn real_paths_resolve_what_exists_and_keep_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("a")).unwrap();
        std::os::unix::fs::symlink(base.join("a"), base.join("link")).unwrap();
        assert_eq!(real_path(&base.join("link/x/y")), base.join("a/x/y"));
        assert_eq!(real_path(&base.join("a/./x/../y")), base.join("a/y"));
        assert_eq!(real_path(&base.join(".")), base);
    }
}
