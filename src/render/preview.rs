//! The mail preview: the first rows of an output, captured while the output renders
//! (the query is not run again, the file not read again) and kept next to the file in
//! the run's spool directory, so that a later attempt — maybe in another process —
//! mails the same table.
//!
//! `PreviewSink` passes everything through to the renderer and keeps at most `keep`
//! rows as display strings, each cell cut to `MAX_CELL_CHARS`: memory is bounded
//! whatever the row count. The preview is saved as `.preview.FILE.json` (owner-only,
//! written under a temporary name and renamed): hidden, it is never delivered.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::{Config, DestinationKind, Report};
use crate::fsutil;
use crate::source::{format_real, Cell, Column, RowSink};

/// Cells longer than this many characters are cut, ending with `…`.
pub const MAX_CELL_CHARS: usize = 120;

/// Columns shown at most: a wider output shows its first ones and says how many more it
/// has (a mail's table of 300 columns helps no one and weighs megabytes).
pub const MAX_COLUMNS: usize = 20;

/// The first rows of one file: its column names and, per row, each cell as shown
/// (`None`: NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Columns of the file past `MAX_COLUMNS`, not shown (absent in older spools: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more_columns: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A `RowSink` that passes everything to `inner` and keeps the first `keep` rows.
pub struct PreviewSink<'a> {
    inner: &'a mut dyn RowSink,
    keep: usize,
    preview: Preview,
    row: Vec<Option<String>>,
    /// The index of the next cell in its row.
    at: usize,
}

impl<'a> PreviewSink<'a> {
    pub fn new(inner: &'a mut dyn RowSink, keep: usize) -> Self {
        PreviewSink {
            inner,
            keep,
            preview: Preview::default(),
            row: Vec::new(),
            at: 0,
        }
    }

    pub fn into_preview(self) -> Preview {
        self.preview
    }
}

impl RowSink for PreviewSink<'_> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        let shown = columns.len().min(MAX_COLUMNS);
        self.preview.columns = columns[..shown].iter().map(|c| cut(c.name)).collect();
        self.preview.more_columns = columns.len() - shown;
        self.inner.columns(columns)
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        if self.preview.rows.len() < self.keep && self.at < MAX_COLUMNS {
            self.row.push(shown(value));
        }
        self.at += 1;
        self.inner.cell(value)
    }

    fn end_row(&mut self) -> Result<()> {
        self.at = 0;
        if self.preview.rows.len() < self.keep {
            self.preview.rows.push(std::mem::take(&mut self.row));
        }
        self.inner.end_row()
    }
}

/// A cell as people read it, cut to `MAX_CELL_CHARS`; `None` for NULL.
pub fn shown(value: Cell<'_>) -> Option<String> {
    Some(match value {
        Cell::Null => return None,
        Cell::Int(i) => i.to_string(),
        Cell::Real(r) => {
            let mut s = String::new();
            format_real(r, &mut s);
            s
        }
        Cell::Number(n) => cut(n),
        Cell::Bool(b) => b.to_string(),
        Cell::Text(t) => cut(t),
        Cell::Blob(b) => format!(
            "(binary, {})",
            crate::ui::count(b.len() as u64, "byte", "bytes")
        ),
    })
}

/// `s` cut to `MAX_CELL_CHARS` characters, the last one `…` when cut.
pub fn cut(s: &str) -> String {
    cut_to(s, MAX_CELL_CHARS)
}

/// `s` cut to `max` characters (at least 1), the last one `…` when cut.
pub fn cut_to(s: &str, max: usize) -> String {
    match s.char_indices().nth(max.max(1) - 1) {
        Some((end, _)) if s[end..].chars().nth(1).is_some() => format!("{}…", &s[..end]),
        _ => s.to_string(),
    }
}

/// How many rows of each output the report's mails show: the most any of its email
/// destinations asks for (0: none).
pub fn rows_wanted(config: &Config, report: &Report) -> usize {
    report
        .destinations
        .iter()
        .filter_map(|d| match &config.destinations.get(d)?.kind {
            DestinationKind::Email(e) => Some(e.preview_rows as usize),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Where the preview of `file` is kept in the run directory `dir`.
fn path(dir: &Path, file: &str) -> PathBuf {
    dir.join(format!(".preview.{file}.json"))
}

/// Saves the preview of `file` in the run directory `dir`, atomically, owner-only.
pub fn save(dir: &Path, file: &str, preview: &Preview) -> Result<()> {
    let target = path(dir, file);
    let tmp = fsutil::temp_name(dir, &format!("preview.{file}.json"), "write");
    let write = || -> Result<()> {
        let mut f = fsutil::create_private(&tmp)?;
        f.write_all(&serde_json::to_vec(preview)?)?;
        f.sync_all()?;
        fsutil::commit(&tmp, &target)?;
        Ok(())
    };
    write().with_context(|| format!("writing the mail preview {}", target.display()))
}

/// The preview of `file` saved in `dir`, if there is one that reads (a spool directory
/// of an older reportctl has none).
pub fn load(dir: &Path, file: &str) -> Option<Preview> {
    let bytes = std::fs::read(path(dir, file)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what reaches the renderer.
    #[derive(Default)]
    struct Count {
        cells: usize,
        rows: usize,
    }

    impl RowSink for Count {
        fn columns(&mut self, _: &[Column<'_>]) -> Result<()> {
            Ok(())
        }
        fn cell(&mut self, _: Cell<'_>) -> Result<()> {
            self.cells += 1;
            Ok(())
        }
        fn end_row(&mut self) -> Result<()> {
            self.rows += 1;
            Ok(())
        }
    }

    #[test]
    fn keeps_the_first_rows_and_passes_everything_through() {
        let mut inner = Count::default();
        let mut sink = PreviewSink::new(&mut inner, 2);
        let col = |name| Column {
            name,
            ty: crate::source::ColumnType::Unknown,
        };
        sink.columns(&[col("n"), col("t")]).unwrap();
        for i in 0..5 {
            sink.cell(Cell::Int(i)).unwrap();
            sink.cell(if i == 1 {
                Cell::Null
            } else {
                Cell::Text("<a>")
            })
            .unwrap();
            sink.end_row().unwrap();
        }
        let p = sink.into_preview();
        assert_eq!(p.columns, ["n", "t"]);
        assert_eq!(
            p.rows,
            vec![
                vec![Some("0".into()), Some("<a>".into())],
                vec![Some("1".into()), None]
            ]
        );
        assert_eq!((inner.cells, inner.rows), (10, 5));
        assert_eq!(p.more_columns, 0);
    }

    #[test]
    fn keeps_the_first_columns_of_a_wide_output_and_counts_the_rest() {
        let mut inner = Count::default();
        let mut sink = PreviewSink::new(&mut inner, 2);
        let names: Vec<String> = (0..MAX_COLUMNS + 7).map(|i| format!("c{i}")).collect();
        let columns: Vec<Column<'_>> = names
            .iter()
            .map(|name| Column {
                name,
                ty: crate::source::ColumnType::Unknown,
            })
            .collect();
        sink.columns(&columns).unwrap();
        for r in 0..3 {
            for c in 0..names.len() {
                sink.cell(Cell::Int((r * 100 + c) as i64)).unwrap();
            }
            sink.end_row().unwrap();
        }
        let p = sink.into_preview();
        assert_eq!(p.columns, names[..MAX_COLUMNS]);
        assert_eq!(p.more_columns, 7);
        assert_eq!(p.rows.len(), 2);
        assert!(p.rows.iter().all(|r| r.len() == MAX_COLUMNS));
        assert_eq!(p.rows[1][0].as_deref(), Some("100"), "rows start afresh");
        assert_eq!((inner.cells, inner.rows), (3 * names.len(), 3));
    }

    #[test]
    fn cells_as_shown() {
        let table = [
            (Cell::Null, None),
            (Cell::Int(-3), Some("-3")),
            (Cell::Real(2.0), Some("2.0")),
            (Cell::Number("1.50"), Some("1.50")),
            (Cell::Bool(false), Some("false")),
            (Cell::Text(""), Some("")),
            (Cell::Blob(&[1, 2, 3]), Some("(binary, 3 bytes)")),
        ];
        for (cell, want) in table {
            assert_eq!(shown(cell).as_deref(), want, "{cell:?}");
        }
    }

    #[test]
    fn long_cells_are_cut_with_an_ellipsis() {
        assert_eq!(cut_to("abcdef", 4), "abc…");
        assert_eq!(cut_to("abcd", 4), "abcd");
        assert_eq!(cut_to("ééééé", 3), "éé…");
        assert_eq!(cut_to("", 3), "");
        assert_eq!(cut(&"x".repeat(500)).chars().count(), MAX_CELL_CHARS);
    }

    #[test]
    fn saved_and_loaded_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut p = Preview {
            columns: vec!["a".into()],
            rows: vec![vec![None], vec![Some("x".into())]],
            more_columns: 0,
        };
        save(dir.path(), "R.csv", &p).unwrap();
        assert_eq!(load(dir.path(), "R.csv"), Some(p.clone()));
        // A preview saved by an older reportctl has no `more_columns`.
        std::fs::write(
            path(dir.path(), "old.csv"),
            br#"{"columns":["a"],"rows":[["x"]]}"#,
        )
        .unwrap();
        assert_eq!(load(dir.path(), "old.csv").map(|o| o.more_columns), Some(0));
        std::fs::remove_file(path(dir.path(), "old.csv")).unwrap();
        p.more_columns = 3;
        save(dir.path(), "R.csv", &p).unwrap();
        assert_eq!(load(dir.path(), "R.csv"), Some(p));
        let mode = std::fs::metadata(path(dir.path(), "R.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(dir.path(), "other.csv"), None);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }
}
