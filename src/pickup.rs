//! The pickup store: where pickup destinations keep a report's latest files for
//! `reportctl serve` to hand out (report listings with download links, and the app
//! download endpoint).
//!
//! The writer (`run`/`run-due`, delivering) and the reader (`serve`) are different
//! processes, so the store is built for readers that never see a half-written state:
//!
//! ```text
//! STORE/REPORT_ID/TYPE.json           index: the current file of (report, type)
//! STORE/REPORT_ID/TOKEN/FILE_NAME     the files, one directory per run
//! ```
//!
//! A file is written under a temporary name, fsynced and renamed into its run's
//! directory; only then does the index switch to it, by the same temporary-name-and-
//! rename dance, and only then is the file it replaced removed. A reader reads the index
//! (always complete), then opens the file; when a writer removed it in between, the
//! reader reads the index again. Index switches of one report are serialised by a lock
//! file, so that an older run delivered late never replaces a newer one.
//!
//! A file's age is counted from its run's time (the slot, or `--now` of a manual run),
//! which is also the generation date in dated zips' names: it is served for `keep_days`
//! after that, checked when a request comes, and pruned by `run-due` afterwards.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{PickupNaming, Report};
use crate::fsutil;
use crate::render::naming::{check_file_name, check_identifier};

pub use crate::config::names::pickup_id;

/// The types (link types, index keys) a report has in a pickup store: one per file
/// (an output's type, or an xlsx workbook's name), or for `dated-zip` naming one zip
/// holding every file, typed by their types joined with `+`.
pub fn keys(report: &Report, naming: PickupNaming) -> Vec<String> {
    let kinds = crate::render::naming::report_files(report)
        .into_iter()
        .map(|(kind, _, _)| kind.to_string());
    match naming {
        PickupNaming::Report => kinds.collect(),
        PickupNaming::DatedZip => vec![kinds.collect::<Vec<_>>().join("+")],
    }
}

/// A dated zip's file name: `{name_}_{YYYYMMDD}.zip`, the date being the generation date.
pub fn dated_zip_name(id: &str, date: chrono::NaiveDate) -> String {
    format!("{id}_{}.zip", date.format("%Y%m%d"))
}

/// What the index says about the current file of one (report, type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub report: String,
    #[serde(rename = "type")]
    pub key: String,
    /// The run that made it; also the directory holding it.
    pub token: String,
    pub file: String,
    pub bytes: u64,
    pub rows: u64,
    pub sha256: String,
    /// The run's time: the file's age is counted from it.
    pub run_at: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub stored_at: DateTime<Utc>,
}

impl Entry {
    /// When the file stops being served.
    pub fn expires_at(&self, keep_days: u32) -> DateTime<Utc> {
        self.run_at + chrono::Duration::days(i64::from(keep_days))
    }

    pub fn is_current(&self, keep_days: u32, now: DateTime<Utc>) -> bool {
        now < self.expires_at(keep_days)
    }

    pub fn path(&self, root: &Path, id: &str) -> PathBuf {
        root.join(id).join(&self.token).join(&self.file)
    }

    /// An index is our own file, but it is read from disk: nothing in it may name
    /// another directory.
    fn check(&self, key: &str) -> Result<(), String> {
        if self.key != key {
            return Err(format!("it is for type {:?}", self.key));
        }
        if self.token.is_empty() || !self.token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("bad token {:?}", self.token));
        }
        check_file_name(&self.file)
    }
}

fn index_path(root: &Path, id: &str, key: &str) -> PathBuf {
    root.join(id).join(format!("{key}.json"))
}

/// The index of (report `id`, `key`), whether or not its file is still current.
pub fn read(root: &Path, id: &str, key: &str) -> Result<Option<Entry>> {
    let path = index_path(root, id, key);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let entry: Entry =
        serde_json::from_slice(&text).with_context(|| format!("reading {}", path.display()))?;
    entry
        .check(key)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Some(entry))
}

/// The current file of (report `id`, `key`): present and younger than `keep_days`.
pub fn current(
    root: &Path,
    id: &str,
    key: &str,
    keep_days: u32,
    now: DateTime<Utc>,
) -> Result<Option<Entry>> {
    Ok(read(root, id, key)?.filter(|e| e.is_current(keep_days, now)))
}

/// How `put` went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The file is now the current one; it replaced this one, if any.
    Current { replaced: Option<Entry> },
    /// A file of a later run is current and stays so; this one was not kept.
    KeptNewer(Entry),
}

/// Puts a file into the store and makes it the current one of its (report, type),
/// unless a later run's file is current. `write` writes the file's content at the
/// temporary path it is given and returns its size and SHA-256, which go into the
/// index.
pub fn put(
    root: &Path,
    id: &str,
    mut entry: Entry,
    write: impl FnOnce(&Path) -> Result<(u64, String)>,
) -> Result<Stored> {
    let dir = root.join(id).join(&entry.token);
    fsutil::create_private_dir_all(&dir)
        .and_then(|()| match crate::fsutil::is_ours(&dir, &entry.token) {
            true => Ok(()),
            false => crate::fsutil::mark(&dir, &entry.token),
        })
        .with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join(&entry.file);
    let tmp = fsutil::temp_name(&dir, &entry.file, "pickup");
    let written = write(&tmp)
        .and_then(|r| {
            fsutil::commit(&tmp, &target)
                .map(|()| r)
                .map_err(Into::into)
        })
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
        .with_context(|| format!("writing {}", target.display()))?;
    (entry.bytes, entry.sha256) = written;

    let _lock = Lock::acquire(&root.join(id).join(".lock"))?;
    let old = read(root, id, &entry.key).unwrap_or_else(|e| {
        crate::ui::warn(format!("{e:#}; replacing it"));
        None
    });
    if let Some(old) = &old {
        if old.run_at > entry.run_at && old.token != entry.token {
            remove_file_and_dir(root, id, &entry);
            return Ok(Stored::KeptNewer(old.clone()));
        }
    }
    write_index(root, id, &entry)?;
    if let Some(old) = &old {
        if (&old.token, &old.file) != (&entry.token, &entry.file) {
            remove_file_and_dir(root, id, old);
        }
    }
    Ok(Stored::Current { replaced: old })
}

fn write_index(root: &Path, id: &str, entry: &Entry) -> Result<()> {
    let dir = root.join(id);
    let target = index_path(root, id, &entry.key);
    let tmp = fsutil::temp_name(&dir, &format!("{}.json", entry.key), &entry.token);
    let r = (|| -> io::Result<()> {
        let mut f = fsutil::create_private(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(entry).map_err(io::Error::other)?)?;
        f.sync_all()?;
        fsutil::commit(&tmp, &target)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r.with_context(|| format!("writing {}", target.display()))
}

fn remove_file_and_dir(root: &Path, id: &str, entry: &Entry) {
    let _ = std::fs::remove_file(entry.path(root, id));
    // Only succeeds when the run's directory holds nothing but its marker.
    let dir = root.join(id).join(&entry.token);
    if crate::fsutil::is_ours(&dir, &entry.token) {
        let _ = std::fs::remove_file(dir.join(crate::fsutil::MARKER));
    }
    let _ = std::fs::remove_dir(dir);
}

/// Removes the files of report `id` that are past `keep_days` (index first, so that no
/// reader finds an index without its file), and what a killed writer left behind:
/// run directories no index points to and temporary files, more than an hour old.
/// Returns the names of the files removed.
pub fn prune(root: &Path, id: &str, keep_days: u32, now: DateTime<Utc>) -> Result<Vec<String>> {
    let dir = root.join(id);
    let Ok(list) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let entries: Vec<_> = list.flatten().collect();
    let mut removed = Vec::new();
    let mut live = Vec::new();
    {
        let _lock = Lock::acquire(&dir.join(".lock"))?;
        for e in &entries {
            let name = e.file_name().to_string_lossy().to_string();
            let Some(key) = name.strip_suffix(".json") else {
                continue;
            };
            if name.starts_with('.') || check_identifier("type", &key.replace('+', "_")).is_err() {
                continue;
            }
            match read(root, id, key) {
                Ok(Some(entry)) if !entry.is_current(keep_days, now) => {
                    std::fs::remove_file(e.path())
                        .with_context(|| format!("removing {}", e.path().display()))?;
                    remove_file_and_dir(root, id, &entry);
                    removed.push(entry.file);
                }
                Ok(Some(entry)) => live.push(entry.token),
                Ok(None) => {}
                Err(err) => crate::ui::warn(format!("{err:#}")),
            }
        }
    }
    let stale = std::time::SystemTime::now() - Duration::from_secs(3600);
    for e in &entries {
        let name = e.file_name().to_string_lossy().to_string();
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < stale);
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        // Only run directories this store made (they carry the marker).
        if old && is_dir && !live.contains(&name) && crate::fsutil::is_ours(&e.path(), &name) {
            let _ = std::fs::remove_dir_all(e.path());
        } else if old && !is_dir && fsutil::is_temp_name(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(removed)
}

/// The lock held while an index is switched (see `fsutil::lock_file`).
struct Lock(#[allow(dead_code)] File);

impl Lock {
    fn acquire(path: &Path) -> Result<Lock> {
        crate::fsutil::lock_file(path).map(Lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn entry(token: &str, file: &str, run_at: &str) -> Entry {
        Entry {
            report: "Daily Views".into(),
            key: "VIEWS".into(),
            token: token.into(),
            file: file.into(),
            bytes: 0,
            rows: 1,
            sha256: String::new(),
            run_at: t(run_at),
            from: t(run_at),
            to: t(run_at),
            stored_at: t(run_at),
        }
    }

    fn put_text(root: &Path, e: Entry, text: &str) -> Stored {
        put(root, "Daily_Views", e, |p| {
            std::fs::write(p, text)?;
            Ok(fsutil::hash_file(p)?)
        })
        .unwrap()
    }

    #[test]
    fn a_later_run_replaces_an_earlier_one_and_never_the_reverse() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let first = entry("aa01", "VIEWS_1.csv", "2026-11-20T06:00:00Z");
        assert_eq!(
            put_text(root, first.clone(), "one"),
            Stored::Current { replaced: None }
        );
        let second = entry("aa02", "VIEWS_2.csv", "2026-11-21T06:00:00Z");
        let Stored::Current { replaced: Some(r) } = put_text(root, second, "two") else {
            panic!("not replaced");
        };
        assert_eq!(r.file, "VIEWS_1.csv");
        assert!(!root.join("Daily_Views/aa01").exists(), "old run removed");
        // A retry of the first run, delivered late, does not win.
        let late = put_text(root, first, "one");
        assert!(matches!(late, Stored::KeptNewer(e) if e.file == "VIEWS_2.csv"));
        assert!(!root.join("Daily_Views/aa01").exists());
        let now = t("2026-11-22T00:00:00Z");
        let cur = current(root, "Daily_Views", "VIEWS", 7, now)
            .unwrap()
            .unwrap();
        assert_eq!(cur.file, "VIEWS_2.csv");
        assert_eq!(cur.bytes, 3);
        let text = std::fs::read_to_string(cur.path(root, "Daily_Views")).unwrap();
        assert_eq!(text, "two");
        // The lock was released: it can be taken again at once.
        drop(Lock::acquire(&root.join("Daily_Views/.lock")).unwrap());
    }

    #[test]
    fn files_past_keep_days_are_not_current_before_pruning_and_gone_after() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        put_text(root, entry("bb01", "V.csv", "2026-11-10T06:00:00Z"), "x");
        let just_before = t("2026-11-17T05:59:59Z");
        let at_expiry = t("2026-11-17T06:00:00Z");
        assert!(current(root, "Daily_Views", "VIEWS", 7, just_before)
            .unwrap()
            .is_some());
        assert!(current(root, "Daily_Views", "VIEWS", 7, at_expiry)
            .unwrap()
            .is_none());
        // Still on disk until pruned.
        assert!(root.join("Daily_Views/bb01/V.csv").exists());
        assert_eq!(
            prune(root, "Daily_Views", 7, just_before).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            prune(root, "Daily_Views", 7, at_expiry).unwrap(),
            vec!["V.csv".to_string()]
        );
        assert!(!root.join("Daily_Views/bb01").exists());
        assert!(read(root, "Daily_Views", "VIEWS").unwrap().is_none());
    }

    #[test]
    fn an_index_naming_another_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut e = entry("cc01", "V.csv", "2026-11-10T06:00:00Z");
        e.file = "../../etc/passwd".into();
        std::fs::create_dir_all(root.join("Daily_Views")).unwrap();
        std::fs::write(
            root.join("Daily_Views/VIEWS.json"),
            serde_json::to_vec(&e).unwrap(),
        )
        .unwrap();
        assert!(read(root, "Daily_Views", "VIEWS").is_err());
        e.file = "V.csv".into();
        e.token = "..".into();
        std::fs::write(
            root.join("Daily_Views/VIEWS.json"),
            serde_json::to_vec(&e).unwrap(),
        )
        .unwrap();
        assert!(read(root, "Daily_Views", "VIEWS").is_err());
    }

    #[test]
    fn dated_zip_names() {
        let d = chrono::NaiveDate::from_ymd_opt(2021, 2, 17).unwrap();
        assert_eq!(
            dated_zip_name(&pickup_id("Report test"), d),
            "Report_test_20210217.zip"
        );
    }
}
