//! The directory destination: each file is placed under a hidden temporary name in the
//! target directory and renamed over any older file of the same name, so a reader never
//! sees a partial file. When the spool is on the same file system the temporary name is
//! a hard link to the spooled file (already fsynced: nothing is copied); otherwise the
//! file is copied and fsynced. Files this destination delivered are pruned after
//! `keep_days`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use super::{Delivered, Delivery};
use crate::config::DirectoryDest;
use crate::fsutil;
use crate::ledger::Ledger;

pub fn deliver(dest: &DirectoryDest, d: &Delivery<'_>) -> Result<Delivered> {
    std::fs::create_dir_all(&dest.path)
        .with_context(|| format!("creating directory {}", dest.path.display()))?;
    for f in d.files {
        let target = dest.path.join(&f.name);
        let tmp = fsutil::temp_name(&dest.path, &f.name, d.token);
        copy_into(&d.spool.join(&f.name), &tmp)
            .and_then(|()| fsutil::commit(&tmp, &target).map_err(Into::into))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
            .with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(Delivered {
        detail: format!(
            "{} in {}",
            crate::ui::count(d.files.len() as u64, "file", "files"),
            dest.path.display()
        ),
        links: Vec::new(),
    })
}

fn copy_into(src: &Path, tmp: &Path) -> Result<()> {
    let _ = std::fs::remove_file(tmp);
    if std::fs::hard_link(src, tmp).is_ok() {
        return Ok(());
    }
    let mut input = File::open(src).with_context(|| format!("reading {}", src.display()))?;
    let mut out = BufWriter::with_capacity(256 * 1024, fsutil::create_private(tmp)?);
    std::io::copy(&mut input, &mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// Removes files this destination delivered more than `keep_days` ago and that were not
/// replaced since (their modification time is as old), and temporary files a killed
/// process left behind. Files reportctl did not deliver are never touched.
pub fn prune(
    name: &str,
    dest: &DirectoryDest,
    ledger: &mut Ledger,
    wall: DateTime<Utc>,
) -> Result<Vec<String>> {
    let cutoff = wall - chrono::Duration::days(i64::from(dest.keep_days));
    let mut removed = Vec::new();
    for (file, _) in ledger.delivered_files(name, cutoff)? {
        let path = dest.path.join(&file);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let modified: DateTime<Utc> = meta.modified()?.into();
        if modified < cutoff {
            std::fs::remove_file(&path).with_context(|| format!("pruning {}", path.display()))?;
            removed.push(file);
        }
    }
    let stale = wall - chrono::Duration::hours(1);
    if let Ok(entries) = std::fs::read_dir(&dest.path) {
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().to_string();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| DateTime::<Utc>::from(t) < stale);
            if fsutil::is_temp_name(&n) && old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(removed)
}
