//! xlsx: a workbook of one sheet per output, written by rust_xlsxwriter in its
//! constant-memory mode (one row in memory; the rows of each sheet spill to a
//! temporary file in the run's directory until the workbook is saved). See
//! docs/formats.md for the type mapping. In short:
//!
//! - numbers as numbers: integers up to 2^53, reals, and decimals of at most 15
//!   significant digits (what Excel keeps); others as text, so that no digit is lost;
//! - dates and timestamps as Excel dates formatted `yyyy-mm-dd` and
//!   `yyyy-mm-dd hh:mm:ss`, timestamps with a zone in UTC; dates before 1900 (which
//!   Excel cannot show) as text;
//! - text always as a string cell, never a formula, whatever it starts with;
//! - booleans as booleans, NULL as an empty cell, BLOBs per the `blob` option;
//! - a bold header row, frozen, with an autofilter over the data; column widths from
//!   the header and the first 100 rows (at most 60 characters);
//! - past Excel's 1,048,576 rows, the rows go on in a new sheet `KIND (2)` (then 3, …)
//!   with the header repeated.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::Datelike;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::values::{blob_text, retype, spreadsheet_number, text_as, Typed};
use super::RowCount;
use crate::config::{BlobEncoding, CsvOptions};
use crate::fsutil::{self, Hashing};
use crate::source::{format_real, Cell, Column, ColumnType, RowSink};

/// Rows of a sheet sampled for column widths.
const WIDTH_ROWS: u32 = 100;
/// The widest column, in characters.
const MAX_WIDTH: usize = 60;
/// Excel's longest sheet name.
const MAX_SHEET_NAME: usize = 31;
/// The longest text of a cell.
const MAX_CELL_CHARS: usize = 32_767;
/// The largest integer a double holds exactly.
const MAX_EXACT_INT: u64 = 1 << 53;

/// Data rows per sheet: Excel's 1,048,576 rows less the header (fewer in debug builds
/// when a test sets REPORTCTL_TEST_XLSX_ROWS).
fn rows_per_sheet() -> u32 {
    const EXCEL: u32 = 1_048_575;
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var("REPORTCTL_TEST_XLSX_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    EXCEL
}

/// A workbook being written: sheets are added one output at a time, then saved.
pub struct XlsxFile {
    book: Workbook,
    header: Format,
    date: Format,
    timestamp: Format,
}

impl XlsxFile {
    /// A new workbook whose sheets spill their rows into `tmpdir`.
    pub fn new(tmpdir: &Path) -> Result<Self> {
        let mut book = Workbook::new();
        book.set_tempdir(tmpdir)?;
        Ok(XlsxFile {
            book,
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            timestamp: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        })
    }

    /// A renderer of one output into sheets named after `kind`.
    pub fn sheet(&mut self, kind: &str, options: &CsvOptions) -> SheetRenderer<'_> {
        SheetRenderer {
            file: self,
            kind: kind.to_string(),
            blob: options.blob,
            sheet: 0,
            part: 0,
            names: Vec::new(),
            types: Vec::new(),
            widths: Vec::new(),
            row: 0,
            column: 0,
            limit: rows_per_sheet(),
            buf: String::new(),
            count: RowCount::default(),
        }
    }

    /// Saves the workbook into `path`; returns its size and SHA-256.
    pub fn save(mut self, path: &Path) -> Result<(std::fs::File, u64, String)> {
        let file = fsutil::create_private(path)?;
        let mut out = Hashing::new(BufWriter::with_capacity(256 * 1024, file));
        self.book.save_to_writer(&mut out)?;
        out.flush()?;
        let (buf, bytes, sha) = out.finish();
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        Ok((file, bytes, sha))
    }
}

/// Writes one output's rows into sheets of an `XlsxFile`.
pub struct SheetRenderer<'a> {
    file: &'a mut XlsxFile,
    kind: String,
    blob: BlobEncoding,
    /// The index of the current sheet in the workbook.
    sheet: usize,
    /// How many sheets this output has so far.
    part: u32,
    names: Vec<String>,
    types: Vec<ColumnType>,
    widths: Vec<usize>,
    /// The current sheet's row being written (0: the header).
    row: u32,
    column: u16,
    /// Data rows per sheet.
    limit: u32,
    buf: String,
    pub count: RowCount,
}

impl SheetRenderer<'_> {
    /// Starts a sheet: its name, the header row, frozen.
    fn start_sheet(&mut self) -> Result<()> {
        self.part += 1;
        let name = sheet_name(&self.kind, self.part);
        self.sheet = self.file.book.worksheets_mut().len();
        let header = self.file.header.clone();
        let ws = self
            .file
            .book
            .add_worksheet_with_constant_memory()
            .context("adding a sheet")?;
        ws.set_name(&name)
            .with_context(|| format!("naming the sheet \"{name}\""))?;
        for (i, n) in self.names.iter().enumerate() {
            ws.write_string_with_format(0, col_no(i)?, n, &header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        self.widths = self.names.iter().map(|n| n.chars().count() + 3).collect();
        self.row = 0;
        Ok(())
    }

    /// Ends the current sheet: its column widths and the autofilter over its rows.
    fn end_sheet(&mut self) -> Result<()> {
        let last_col = col_no(self.names.len().saturating_sub(1))?;
        let (row, widths) = (self.row, std::mem::take(&mut self.widths));
        let has_columns = !self.names.is_empty();
        let ws = self.worksheet()?;
        for (i, w) in widths.into_iter().enumerate() {
            ws.set_column_width(col_no(i)?, w.clamp(6, MAX_WIDTH) as f64)?;
        }
        if has_columns {
            ws.autofilter(0, 0, row, last_col)?;
        }
        Ok(())
    }

    /// Ends the output: the last sheet's widths and autofilter.
    pub fn finish(mut self) -> Result<u64> {
        if self.part == 0 {
            self.start_sheet()?;
        }
        self.end_sheet()?;
        Ok(self.count.get())
    }

    fn worksheet(&mut self) -> Result<&mut Worksheet> {
        Ok(self.file.book.worksheet_from_index(self.sheet)?)
    }

    /// Notes the width of a value written in the sampled rows.
    fn sample(&mut self, col: usize, chars: usize) {
        if self.row <= WIDTH_ROWS {
            if let Some(w) = self.widths.get_mut(col) {
                *w = (*w).max(chars + 1);
            }
        }
    }

    /// Writes a number; returns its width in characters.
    fn number(&mut self, col: u16, v: f64, chars: usize) -> Result<usize> {
        let row = self.row;
        self.worksheet()?.write_number(row, col, v)?;
        Ok(chars)
    }

    /// Writes one cell; returns its width in characters.
    fn write_cell(&mut self, col: u16, value: Cell<'_>, buf: &mut String) -> Result<usize> {
        let i = usize::from(col);
        let typed = match retype(self.types[i], value) {
            Cell::Null => return Ok(0),
            Cell::Int(v) => {
                buf.clear();
                buf.push_str(itoa::Buffer::new().format(v));
                if v.unsigned_abs() <= MAX_EXACT_INT {
                    return self.number(col, v as f64, buf.len());
                }
                Typed::Text(buf)
            }
            Cell::Real(v) => {
                format_real(v, buf);
                if v.is_finite() {
                    return self.number(col, v, buf.len());
                }
                Typed::Text(buf)
            }
            Cell::Number(s) => Typed::Number(s),
            Cell::Bool(b) => Typed::Bool(b),
            Cell::Text(s) => in_excel_range(text_as(self.types[i], s), s),
            Cell::Blob(b) => {
                blob_text(b, self.blob, &self.names[i], buf)?;
                Typed::Text(buf)
            }
        };
        self.write_typed(col, typed)
    }

    /// Writes a typed value; returns its width in characters.
    fn write_typed(&mut self, col: u16, typed: Typed<'_>) -> Result<usize> {
        let row = self.row;
        let XlsxFile {
            book,
            date,
            timestamp,
            ..
        } = &mut *self.file;
        let ws = book.worksheet_from_index(self.sheet)?;
        Ok(match typed {
            Typed::Text(s) => {
                // Counted where it matters: long text, and the rows sampled for widths.
                let chars = if s.len() > MAX_CELL_CHARS || row <= WIDTH_ROWS {
                    s.chars().count()
                } else {
                    s.len()
                };
                if chars > MAX_CELL_CHARS {
                    anyhow::bail!(
                        "the text is {chars} characters long; an Excel cell holds at most 32,767: shorten it in the query (e.g. substr(x, 1, 32767)) or write this output as csv or jsonl"
                    );
                }
                ws.write_string(row, col, s)?;
                chars
            }
            Typed::Number(s) => {
                match spreadsheet_number(s) {
                    Some(v) => ws.write_number(row, col, v)?,
                    None => ws.write_string(row, col, s)?,
                };
                s.len()
            }
            Typed::Bool(b) => {
                ws.write_boolean(row, col, b)?;
                5
            }
            Typed::Date(d) => {
                ws.write_datetime_with_format(row, col, d, date)?;
                10
            }
            Typed::Timestamp(t) => {
                ws.write_datetime_with_format(row, col, t, timestamp)?;
                19
            }
            Typed::Instant(t) => {
                ws.write_datetime_with_format(row, col, t.naive_utc(), timestamp)?;
                19
            }
        })
    }
}

/// Dates Excel can show (years 1900 to 9999) stay dates; others are written as the
/// text `s` they came from.
fn in_excel_range<'a>(typed: Typed<'a>, s: &'a str) -> Typed<'a> {
    let year = match typed {
        Typed::Date(d) => d.year(),
        Typed::Timestamp(t) => t.year(),
        Typed::Instant(t) => t.year(),
        other => return other,
    };
    if (1900..=9999).contains(&year) {
        typed
    } else {
        Typed::Text(s)
    }
}

/// `KIND`, then `KIND (2)`, … within Excel's 31 characters.
fn sheet_name(kind: &str, part: u32) -> String {
    let suffix = if part > 1 {
        format!(" ({part})")
    } else {
        String::new()
    };
    let base: String = kind.chars().take(MAX_SHEET_NAME - suffix.len()).collect();
    format!("{base}{suffix}")
}

fn col_no(i: usize) -> Result<u16> {
    u16::try_from(i)
        .ok()
        .filter(|c| *c < 16_384)
        .ok_or_else(|| anyhow::anyhow!("the query returns more than 16,384 columns, Excel's limit"))
}

impl RowSink for SheetRenderer<'_> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        col_no(columns.len().saturating_sub(1))?;
        self.names = columns.iter().map(|c| c.name.to_string()).collect();
        self.types = columns.iter().map(|c| c.ty).collect();
        self.start_sheet()
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        if self.column == 0 {
            if self.row >= self.limit {
                self.end_sheet()?;
                self.start_sheet()?;
            }
            self.row += 1;
        }
        let col = self.column;
        self.column += 1;
        let mut buf = std::mem::take(&mut self.buf);
        let written = self.write_cell(col, value, &mut buf);
        self.buf = buf;
        let chars = written?;
        self.sample(usize::from(col), chars);
        Ok(())
    }

    fn end_row(&mut self) -> Result<()> {
        if self.column == 0 {
            // A row of no columns: still a row.
            self.row += 1;
        }
        self.column = 0;
        self.count.add();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_fit_excel() {
        assert_eq!(sheet_name("VIEWS", 1), "VIEWS");
        assert_eq!(sheet_name("VIEWS", 2), "VIEWS (2)");
        let long = "A".repeat(40);
        assert_eq!(sheet_name(&long, 1).len(), 31);
        assert_eq!(sheet_name(&long, 12), format!("{} (12)", "A".repeat(26)));
    }

    #[test]
    fn text_longer_than_a_cell_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = XlsxFile::new(dir.path()).unwrap();
        let mut sheet = book.sheet("T", &CsvOptions::default());
        let col = Column {
            name: "t",
            ty: ColumnType::Text,
        };
        sheet.columns(&[col]).unwrap();
        let long = "é".repeat(32_767);
        sheet.cell(Cell::Text(&long)).unwrap();
        sheet.end_row().unwrap();
        let longer = "é".repeat(32_768);
        let e = sheet.cell(Cell::Text(&longer)).unwrap_err().to_string();
        assert!(e.starts_with("the text is 32768 characters long"), "{e}");
    }
}
