//! The configuration file: `[settings]`, named `[sources.NAME]` and
//! `[destinations.NAME]`, and `[[reports]]`.
//!
//! Loading has two stages. First, serde reads each part of the TOML into the plain
//! `raw` structs, rejecting unknown keys. Second, `check` turns the raw structs into
//! the checked types of `model` (a `Schedule`, a `Destination`, a `Report`), so that
//! code past loading never checks a value again. Each source, destination, report and report sub-table is read on its
//! own, so one pass reports every problem it can find, not only the first.

pub mod channels;
pub mod check;
pub mod databases;
pub mod diag;
pub mod edit;
pub mod limits;
pub mod model;
pub mod names;
pub mod pgurl;
pub mod raw;
pub mod recipients;
pub mod secret;

use std::path::{Path, PathBuf};

pub use databases::{Databases, QueryCheck};
pub use diag::{ConfigErrors, Diagnostic, SourceText, Subject};
pub use model::*;
pub use raw::{RawConfig, RawDestination, RawNamed, RawReportParts, RawSource};

/// Reads and checks the configuration at `path`: a file, or a directory whose `*.toml`
/// files together make the configuration (see `raw::files`).
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    load_with(path, None)
}

/// Like `load`; with `preflight` (`validate`), also checks what runs will need from the
/// outside: secrets that can be read, files that exist, and what the databases answer.
pub fn load_with(
    path: &Path,
    preflight: Option<Box<dyn Databases>>,
) -> Result<Config, ConfigErrors> {
    if path.is_dir() {
        let (text, files) = raw::files::gather(path)?;
        let src = SourceText::with_files(path, &text, files);
        let (raw, errors) = raw::files::read(&src)?;
        return check_raw(&src, path.to_path_buf(), (raw, errors), preflight);
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![Diagnostic {
            file: path.to_path_buf(),
            position: None,
            subject: Subject::File,
            key: None,
            message: format!(
                "cannot read the configuration: {e}; give its path with --config or REPORTCTL_CONFIG"
            ),
        }])
    })?;
    load_str_with(path, &text, preflight)
}

/// Checks configuration text as if read from `path` (relative paths inside it are
/// relative to `path`'s directory).
pub fn load_str(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
    load_str_with(path, text, None)
}

fn load_str_with(
    path: &Path,
    text: &str,
    preflight: Option<Box<dyn Databases>>,
) -> Result<Config, ConfigErrors> {
    let src = SourceText::new(path, text);
    let read = raw::read_raw(&src)?;
    let base_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    check_raw(&src, base_dir, read, preflight)
}

/// The second stage: the raw parts checked into a `Config`, every problem sorted by
/// file and place.
fn check_raw(
    src: &SourceText<'_>,
    base_dir: PathBuf,
    (raw, errors): (RawConfig, Vec<Diagnostic>),
    preflight: Option<Box<dyn Databases>>,
) -> Result<Config, ConfigErrors> {
    let mut checker = check::Checker::new(src, base_dir);
    checker.errors = errors;
    checker.preflight = preflight.is_some();
    checker.databases = preflight;
    let config = checker.config(raw);
    let mut errors = checker.errors;
    let place = |d: &Diagnostic| (d.file.clone(), d.position.unwrap_or((usize::MAX, 0)));
    errors.sort_by_key(place);
    let mut warnings = checker.warnings;
    warnings.sort_by_key(place);
    match config {
        Some(c) if errors.is_empty() => Ok(Config { warnings, ..c }),
        _ => Err(ConfigErrors(errors)),
    }
}

#[cfg(test)]
mod tests;
