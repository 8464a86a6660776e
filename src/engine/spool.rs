//! The spool: where a run's files wait until every destination has them.
//!
//! Each run has a directory of its own, `SPOOL/TOKEN`, which reportctl creates with a
//! marker file (`.reportctl-run`, holding the token) before anything else goes in. The
//! marker is the proof that reportctl made the directory: nothing in the spool without
//! it is ever removed, so a `spool` setting that points at a folder holding other
//! things (a project, a destination, `/tmp`) loses nothing. Directories and files are
//! owner-only (0700/0600) whatever the umask: they hold customer data.
//!
//! A run's files are rendered under temporary names and renamed when complete, so a
//! killed or failed render leaves only temporary files; those go as soon as the run
//! ends or is given up. Complete files stay while a later attempt may need them:
//! removed at once when the run completes, kept `spool_keep_days` after a run was
//! given up (for a retry by hand) or was local (`run --no-deliver`).

use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::fsutil;
/// The marker that proves reportctl made a run directory: shared with the pickup store.
pub use crate::fsutil::{is_ours, mark, MARKER};
use crate::ledger::{FileRecord, Ledger, RunRecord, RunStatus};

/// The spool directory of the run with `token` (which may not exist).
pub fn dir(config: &Config, token: &str) -> PathBuf {
    config.settings.spool.join(token)
}

/// Creates the directory of run `token`, owner-only and marked as ours, and returns
/// it; a directory of ours left by an earlier attempt is reused, without its temporary
/// files. A directory of that name that reportctl did not make is refused, unless it
/// holds nothing but files of `known` (the run's recorded files: a spool directory of a
/// version of reportctl before the marker).
pub fn create(config: &Config, token: &str, known: &[FileRecord]) -> Result<PathBuf> {
    let path = dir(config, token);
    let made = || format!("creating the spool directory {}", path.display());
    fsutil::create_private_dir_all(&config.settings.spool).with_context(made)?;
    match std::fs::DirBuilder::new().create(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if !is_ours(&path, token) && !only_known_files(&path, known) {
                bail!(
                    "the spool directory {} exists but reportctl did not create it (it has no {MARKER} file); move it away, or set [settings] spool to a directory of reportctl's own",
                    path.display()
                );
            }
            remove_partial(&path)
                .with_context(|| format!("removing temporary files from {}", path.display()))?;
        }
        Err(e) => return Err(e).with_context(made),
    }
    restrict_dir(&path).with_context(made)?;
    if !is_ours(&path, token) {
        mark(&path, token).with_context(made)?;
    }
    Ok(path)
}

fn restrict_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// Whether `path` holds only regular files named in `known` (and temporary files).
fn only_known_files(path: &Path, known: &[FileRecord]) -> bool {
    let Ok(entries) = std::fs::read_dir(path) else {
        return false;
    };
    entries.into_iter().all(|e| {
        e.is_ok_and(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            e.file_type().is_ok_and(|t| t.is_file())
                && (fsutil::is_temp_name(&name) || known.iter().any(|f| f.name == name))
        })
    })
}

/// Removes the temporary files in a run directory: what a killed or failed render
/// left behind. A directory that is gone is fine.
pub fn remove_partial(path: &Path) -> io::Result<()> {
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && fsutil::is_temp_name(&entry.file_name().to_string_lossy()) {
            match std::fs::remove_file(entry.path()) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// The run's recorded files, when its spool directory holds them intact.
pub fn intact(config: &Config, run: &RunRecord) -> Option<Vec<FileRecord>> {
    if run.files.is_empty() {
        return None;
    }
    let path = dir(config, &run.token);
    let intact = is_ours(&path, &run.token)
        && run.files.iter().all(|f| {
            fsutil::hash_file(&path.join(&f.name))
                .is_ok_and(|(bytes, sha)| bytes == f.bytes && sha == f.sha256)
        });
    if !intact {
        crate::ui::info(format!(
            "run {}: the spooled files are missing or changed; generating them again",
            run.token
        ));
    }
    intact.then(|| run.files.clone())
}

/// Removes the directory of run `token` when it is ours; one that another process
/// removed first is fine.
pub fn remove(config: &Config, token: &str) -> io::Result<()> {
    let path = dir(config, token);
    if !is_ours(&path, token) {
        return Ok(());
    }
    match std::fs::remove_dir_all(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Tidies a run's directory once the run has ended: a completed run's goes; a run
/// that was given up keeps its complete files (for a later retry) but not its partial
/// ones, and a directory left with no complete file goes too.
pub fn after_run(config: &Config, run: &RunRecord) -> io::Result<()> {
    let owed = run.next_attempt_at.is_some();
    if run.status == RunStatus::Completed || (!owed && run.files.is_empty()) {
        return remove(config, &run.token);
    }
    remove_partial(&dir(config, &run.token))
}

/// Removes the run directories of ours that no run needs: those of completed runs, and
/// those of runs that are not owed any more (given up, skipped, cancelled, local or
/// unknown) once untouched for `spool_keep_days`. Returns the directories removed.
/// Anything without our marker is left alone.
pub fn prune(config: &Config, ledger: &mut Ledger, wall: DateTime<Utc>) -> Result<Vec<PathBuf>> {
    let root = &config.settings.spool;
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", root.display())),
    };
    let keep = chrono::Duration::days(i64::from(config.settings.spool_keep_days));
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let token = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if !is_ours(&path, &token) {
            continue;
        }
        let run = ledger.get(&token)?;
        let owed = run.as_ref().is_some_and(|r| {
            matches!(r.status, RunStatus::Queued | RunStatus::Running)
                || (r.status == RunStatus::Failed && r.next_attempt_at.is_some())
        });
        let completed = run
            .as_ref()
            .is_some_and(|r| r.status == RunStatus::Completed);
        let old = last_touched(&path).is_some_and(|t| t < wall - keep);
        if completed || (!owed && old) {
            remove(config, &token).with_context(|| format!("removing {}", path.display()))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// When a run directory last changed: its own time or its newest entry's.
fn last_touched(path: &Path) -> Option<DateTime<Utc>> {
    let own = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let newest = std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| e.metadata().and_then(|m| m.modified()).ok())
        .max();
    Some(DateTime::<Utc>::from(newest.map_or(own, |n| n.max(own))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_directories_are_ours() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("0123456789abcdef");
        std::fs::create_dir(&d).unwrap();
        assert!(!is_ours(&d, "0123456789abcdef"), "no marker");
        std::fs::write(d.join(MARKER), "fedcba9876543210\n").unwrap();
        assert!(!is_ours(&d, "0123456789abcdef"), "marker of another run");
        std::fs::write(d.join(MARKER), "0123456789abcdef\n").unwrap();
        assert!(is_ours(&d, "0123456789abcdef"));
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(!is_ours(&link, "0123456789abcdef"), "a link is not ours");
    }

    #[test]
    fn a_directory_removed_by_another_process_is_fine() {
        let root = tempfile::tempdir().unwrap();
        assert!(remove_partial(&root.path().join("gone")).is_ok());
    }
}
