//! The pickup destination: the run's files go into a pickup store (see `crate::pickup`)
//! from which `reportctl serve` hands them out. A later run's file of the same report
//! and type replaces the earlier one; files are served for `keep_days` and then pruned.
//!
//! With `naming = "dated-zip"` a run becomes one `{name_}_{YYYYMMDD}.zip` (the run's date
//! in the report's zone) holding every output's file, the name under which the app
//! download endpoint serves it.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use super::{Delivered, Delivery};
use crate::config::{Config, PickupDest, PickupNaming};
use crate::fsutil::{self, Hashing};
use crate::pickup::{self, pickup_id, Entry, Stored};

pub fn deliver(dest: &PickupDest, d: &Delivery<'_>) -> Result<Delivered> {
    let id = pickup_id(&d.report.name);
    let root = &dest.path;
    let entry = |key: &str, file: &str, rows: u64| Entry {
        report: d.report.name.clone(),
        key: key.to_string(),
        token: d.token.to_string(),
        file: file.to_string(),
        bytes: 0,
        rows,
        sha256: String::new(),
        run_at: d.run_at,
        from: d.window.from.with_timezone(&Utc),
        to: d.window.to.with_timezone(&Utc),
        stored_at: crate::clock::wall(),
    };
    let mut notes = Vec::new();
    match dest.naming {
        PickupNaming::Report => {
            for f in d.files {
                let src = d.spool.join(&f.name);
                let stored = pickup::put(root, &id, entry(&f.kind, &f.name, f.rows), |tmp| {
                    copy_into(&src, tmp)
                })?;
                notes.push(note(&f.name, &stored));
            }
        }
        PickupNaming::DatedZip => {
            let local = d.run_at.with_timezone(&d.report.timezone).naive_local();
            let name = pickup::dated_zip_name(&id, local.date());
            let key = pickup::keys(d.report, dest.naming).remove(0);
            let rows = d.files.iter().map(|f| f.rows).sum();
            let stored = pickup::put(root, &id, entry(&key, &name, rows), |tmp| {
                zip_into(d.spool, d.files.iter().map(|f| f.name.as_str()), local, tmp)
            })?;
            notes.push(note(&name, &stored));
        }
    }
    Ok(Delivered {
        detail: format!(
            "{} in pickup store {}",
            notes.join(", "),
            root.join(&id).display()
        ),
        links: Vec::new(),
    })
}

fn note(name: &str, stored: &Stored) -> String {
    match stored {
        Stored::Current { .. } => name.to_string(),
        Stored::KeptNewer(e) => format!(
            "{name} not kept: {} of a later run ({}) is current",
            e.file,
            e.run_at.format("%Y-%m-%dT%H:%M:%SZ")
        ),
    }
}

fn copy_into(src: &Path, tmp: &Path) -> Result<(u64, String)> {
    let mut input = File::open(src).with_context(|| format!("reading {}", src.display()))?;
    let mut out = Hashing::new(BufWriter::with_capacity(
        256 * 1024,
        fsutil::create_private(tmp)?,
    ));
    std::io::copy(&mut input, &mut out)?;
    let (buf, bytes, sha) = out.finish();
    buf.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((bytes, sha))
}

/// A zip archive holding the run's files, dated `when`; files compressed already are
/// stored as they are, CSV is deflated.
fn zip_into<'a>(
    spool: &Path,
    names: impl Iterator<Item = &'a str>,
    when: chrono::NaiveDateTime,
    tmp: &Path,
) -> Result<(u64, String)> {
    use chrono::{Datelike, Timelike};
    let time = zip::DateTime::from_date_and_time(
        u16::try_from(when.year()).unwrap_or(1980),
        when.month() as u8,
        when.day() as u8,
        when.hour() as u8,
        when.minute() as u8,
        when.second() as u8,
    )
    .unwrap_or_default();
    let out = Hashing::new(BufWriter::with_capacity(
        256 * 1024,
        fsutil::create_private(tmp)?,
    ));
    let mut zip = zip::ZipWriter::new_stream(out);
    for name in names {
        let src = spool.join(name);
        let mut input = File::open(&src).with_context(|| format!("reading {}", src.display()))?;
        let size = input.metadata()?.len();
        let method = if name.ends_with(".zip") || name.ends_with(".gz") {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(time)
            .large_file(size >= u32::MAX as u64);
        zip.start_file(name, options)?;
        std::io::copy(&mut input, &mut zip)?;
    }
    let (buf, bytes, sha) = zip.finish()?.into_inner().finish();
    buf.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((bytes, sha))
}

/// Prunes what destination `name` keeps for each report delivered to it: files past
/// `keep_days`, and leftovers of killed writers.
pub fn prune(
    config: &Config,
    name: &str,
    dest: &PickupDest,
    wall: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for report in &config.reports {
        if report.destinations.iter().any(|d| d == name) {
            let id = pickup_id(&report.name);
            removed.extend(
                pickup::prune(&dest.path, &id, dest.keep_days, wall)
                    .with_context(|| format!("report \"{}\"", report.name))?,
            );
        }
    }
    Ok(removed)
}
