//! Changing one report's `status` in the configuration file that defines it (`pause`,
//! `resume`), with `toml_edit` so that every other byte of the file stays as it was:
//! comments, blank lines, key order, quoting. The file is written atomically (a
//! temporary file beside it, renamed over it) and only when its content is still what
//! was read: an edit made meanwhile (by hand, by configuration management) is never
//! overwritten.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::fsutil;

/// A report's status changed in the text of the file that defines it.
#[derive(Debug)]
pub struct StatusEdit {
    pub file: PathBuf,
    /// The file's content as read.
    read: String,
    /// The content to write; `None` when the report has that status already.
    edited: Option<String>,
}

impl StatusEdit {
    /// Whether the report had the status already (nothing to write).
    pub fn unchanged(&self) -> bool {
        self.edited.is_none()
    }

    /// Writes the edited file, unless its content changed since it was read: then
    /// nothing is written and the error says so.
    pub fn write(&self) -> Result<()> {
        let Some(edited) = &self.edited else {
            return Ok(());
        };
        // Absolute: a bare file name's parent is "", which cannot be synced.
        let target = std::path::absolute(&self.file)?;
        let dir = target.parent().unwrap_or(Path::new("/"));
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config");
        let tmp = fsutil::temp_name(dir, name, &format!("status-{}", std::process::id()));
        let written = write_like(&tmp, &self.file, edited)
            .with_context(|| format!("writing {}", tmp.display()));
        if let Err(e) = written.and_then(|()| self.still_as_read()) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        fsutil::commit(&tmp, &target).with_context(|| format!("replacing {}", self.file.display()))
    }

    fn still_as_read(&self) -> Result<()> {
        let now = std::fs::read_to_string(&self.file)
            .with_context(|| format!("reading {} again", self.file.display()))?;
        if now != self.read {
            bail!(
                "{} changed while reportctl was editing it; nothing was written: run the command again",
                self.file.display()
            );
        }
        Ok(())
    }
}

/// Writes `text` to the new file `tmp` with the permissions of `like`, synced.
fn write_like(tmp: &Path, like: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create_new(tmp)?;
    f.set_permissions(std::fs::metadata(like)?.permissions())?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Sets `status = "{status}"` in the table of report `report` of the configuration at
/// `config` (a file, or a directory of `*.toml` files: the one that defines it).
pub fn set_status(config: &Path, report: &str, status: &str) -> Result<StatusEdit> {
    for file in files(config)? {
        let read = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let mut doc: DocumentMut = read
            .parse()
            .with_context(|| format!("parsing {}", file.display()))?;
        let Some(table) = report_table(&mut doc, report) else {
            continue;
        };
        let edited = set_in(table, status).then(|| doc.to_string());
        return Ok(StatusEdit { file, read, edited });
    }
    Err(anyhow!(
        "no [[reports]] table with name = \"{report}\" in {}",
        config.display()
    ))
}

/// `config` itself, or the `*.toml` files of the directory, in name order.
fn files(config: &Path) -> Result<Vec<PathBuf>> {
    if !config.is_dir() {
        return Ok(vec![config.to_path_buf()]);
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(config)
        .with_context(|| format!("reading the directory {}", config.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    Ok(paths)
}

fn report_table<'d>(doc: &'d mut DocumentMut, report: &str) -> Option<&'d mut Table> {
    doc.get_mut("reports")?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| t.get("name").and_then(Item::as_str) == Some(report))
}

/// Sets the table's `status`, keeping the comments and spaces around its value; an
/// absent status (active) is added as the table's last key. Whether anything changed.
fn set_in(table: &mut Table, status: &str) -> bool {
    let current = table
        .get("status")
        .and_then(Item::as_str)
        .unwrap_or("active");
    if current == status {
        return false;
    }
    match table.get_mut("status").and_then(Item::as_value_mut) {
        Some(value) => {
            let decor = value.decor().clone();
            *value = Value::from(status);
            *value.decor_mut() = decor;
        }
        None => {
            table.insert("status", toml_edit::value(status));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# reports\n[settings]\ntimezone = \"UTC\" # zone\n\n[[reports]]\nname = \"A\"\n# why it is active\nstatus = 'active'   # see ticket 12\nquery = \"\"\"\nSELECT 1\n\"\"\"\n\n[[reports]]\nname = \"B\"   # no status\n[reports.schedule]\nfrequency = \"daily\" # six\n";

    fn edit(report: &str, status: &str) -> Option<String> {
        let mut doc: DocumentMut = TEXT.parse().unwrap();
        let table = report_table(&mut doc, report).unwrap();
        set_in(table, status).then(|| doc.to_string())
    }

    #[test]
    fn only_the_status_value_changes() {
        let text = edit("A", "draft").unwrap();
        assert_eq!(
            text,
            TEXT.replace("status = 'active'   #", "status = \"draft\"   #")
        );
        assert_eq!(edit("A", "active"), None);
    }

    #[test]
    fn an_absent_status_is_added_after_the_report_s_keys() {
        let text = edit("B", "draft").unwrap();
        assert_eq!(
            text,
            TEXT.replace(
                "name = \"B\"   # no status\n",
                "name = \"B\"   # no status\nstatus = \"draft\"\n"
            )
        );
        assert_eq!(edit("B", "active"), None);
    }
}
