//! CSV rendering: RFC 4180 (quoting decided by csv-core, see `fields`), UTF-8, a header
//! row, values written as their source typed them.
//!
//! - integers in full; reals in the shortest form that reads back to the same double
//!   (`0.1`, `1.5e-7`; whole reals keep a `.0` so that they stay visibly real);
//! - exact decimals from the source (PostgreSQL numeric) as given;
//! - NULL as the configured `null` text (default: nothing), and empty text as `""`, so
//!   that the two stay apart as in PostgreSQL's `COPY … CSV` and the sqlite3 shell;
//! - BLOBs refused (the run fails naming the column) unless `blob = "hex"` or `"base64"`;
//! - `formula_guard`: text cells starting with `=`, `+`, `-`, `@`, tab or CR get a
//!   leading `'` so that spreadsheets do not run them as formulas. Numbers stay numbers:
//!   typed numbers are never touched, nor is text that is itself a plain number (`-5`);
//! - text holding a NUL character (byte 0) refused: many CSV readers cut the text there
//!   or reject the file, so the run fails naming the column (the source adds the row).
//!
//! Memory is flat: one row is never held; the writer buffers a few kilobytes.

use std::io::Write;

use anyhow::{bail, Result};

use super::fields::FieldWriter;
use super::values::blob_text;
use super::RowCount;
use crate::config::CsvOptions;
use crate::source::{format_real, Cell, Column, RowSink};

/// Writes rows as CSV into `W`, counting rows.
pub struct CsvRenderer<W: Write> {
    writer: FieldWriter<W>,
    options: CsvOptions,
    columns: Vec<String>,
    column: usize,
    buf: String,
    count: RowCount,
}

impl<W: Write> CsvRenderer<W> {
    pub fn new(mut out: W, options: &CsvOptions) -> Result<Self> {
        if options.bom {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        let writer = FieldWriter::new(out, options.delimiter, options.crlf, 64 * 1024);
        Ok(CsvRenderer {
            writer,
            options: options.clone(),
            columns: Vec::new(),
            column: 0,
            buf: String::new(),
            count: RowCount::default(),
        })
    }

    /// Calls `f` with the row count every 10,000 rows (for progress bars).
    pub fn on_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.count.on_progress(f);
    }

    pub fn rows(&self) -> u64 {
        self.count.get()
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> Result<W> {
        Ok(self.writer.into_inner()?)
    }

    /// A text value: `""` when empty, so that it is not read as an empty value.
    fn text(&mut self, s: &[u8]) -> std::io::Result<()> {
        if s.is_empty() {
            self.writer.empty_text()
        } else {
            self.writer.field(s)
        }
    }
}

/// Whether a text cell would be read as a formula by a spreadsheet.
fn looks_like_formula(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !is_plain_number(s)
}

/// `-5`, `+3.25`, `-1e5`: text a spreadsheet reads as a number, not a formula.
fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    !body.is_empty()
        && body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && s.parse::<f64>().is_ok_and(f64::is_finite)
}

impl<W: Write> RowSink for CsvRenderer<W> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        if let Some(i) = names.iter().position(|n| n.contains('\0')) {
            bail!(
                "the name of column {} holds a NUL character (byte 0), which CSV readers mishandle; rename the column in the query",
                i + 1
            );
        }
        self.columns = names.iter().map(|s| s.to_string()).collect();
        if self.options.header {
            for n in names {
                self.text(n.as_bytes())?;
            }
            self.writer.end_record()?;
        }
        Ok(())
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        let col = self.column;
        self.column += 1;
        match value {
            Cell::Null => self.writer.field(self.options.null.as_bytes())?,
            Cell::Int(v) => {
                let mut b = itoa::Buffer::new();
                self.writer.field(b.format(v).as_bytes())?;
            }
            Cell::Real(v) => {
                format_real(v, &mut self.buf);
                self.writer.field(self.buf.as_bytes())?;
            }
            Cell::Number(s) => self.writer.field(s.as_bytes())?,
            Cell::Bool(b) => self.writer.field(if b { b"true" } else { b"false" })?,
            Cell::Text(s) => {
                if s.contains('\0') {
                    let name = self.columns.get(col).map_or("?", String::as_str);
                    bail!(
                        "the text holds a NUL character (byte 0), which CSV readers mishandle (many cut the text there); remove it in the query (in SQLite: replace({name}, char(0), ''))"
                    );
                }
                if self.options.formula_guard && looks_like_formula(s) {
                    self.buf.clear();
                    self.buf.push('\'');
                    self.buf.push_str(s);
                    self.writer.field(self.buf.as_bytes())?;
                } else {
                    self.text(s.as_bytes())?;
                }
            }
            Cell::Blob(b) => {
                let name = self.columns.get(col).map_or("?", String::as_str);
                blob_text(b, self.options.blob, name, &mut self.buf)?;
                self.writer.field(self.buf.as_bytes())?;
            }
        }
        Ok(())
    }

    fn end_row(&mut self) -> Result<()> {
        self.writer.end_record()?;
        self.column = 0;
        self.count.add();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BlobEncoding;

    fn render(options: &CsvOptions, columns: &[&str], rows: &[Vec<Cell<'_>>]) -> Result<String> {
        let mut r = CsvRenderer::new(Vec::new(), options)?;
        let columns: Vec<Column<'_>> = columns
            .iter()
            .map(|&name| Column {
                name,
                ty: crate::source::ColumnType::Unknown,
            })
            .collect();
        r.columns(&columns)?;
        for row in rows {
            for c in row {
                r.cell(*c)?;
            }
            r.end_row()?;
        }
        Ok(String::from_utf8(r.finish()?).unwrap())
    }

    #[test]
    fn rfc_4180_quoting_and_types() {
        let out = render(
            &CsvOptions::default(),
            &["a", "b,c", "d"],
            &[
                vec![Cell::Int(-42), Cell::Text("x,\"y\"\nz"), Cell::Null],
                vec![
                    Cell::Real(0.1),
                    Cell::Real(3.0),
                    Cell::Number("12345678901234567890.123"),
                ],
                vec![Cell::Bool(true), Cell::Text("é"), Cell::Real(1e16)],
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "a,\"b,c\",d\n-42,\"x,\"\"y\"\"\nz\",\n0.1,3.0,12345678901234567890.123\ntrue,é,1e16\n"
        );
    }

    #[test]
    fn reals_read_back_exactly() {
        let mut buf = String::new();
        for v in [
            0.1,
            1.0 / 3.0,
            1e-7,
            123456789.125,
            f64::MAX,
            -0.0,
            2.5e-308,
        ] {
            format_real(v, &mut buf);
            assert_eq!(buf.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{buf}");
        }
        format_real(f64::NAN, &mut buf);
        assert_eq!(buf, "NaN");
    }

    #[test]
    fn excel_options() {
        let o = CsvOptions {
            delimiter: b';',
            bom: true,
            crlf: true,
            formula_guard: true,
            null: "NULL".into(),
            ..CsvOptions::default()
        };
        let out = render(
            &o,
            &["f"],
            &[
                vec![Cell::Text("=SUM(A1)")],
                vec![Cell::Text("-5")],
                vec![Cell::Text("-2+3")],
                vec![Cell::Text("@x")],
                vec![Cell::Text("\tx")],
                vec![Cell::Int(-5)],
                vec![Cell::Null],
                vec![Cell::Text("plain;text")],
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "\u{feff}f\r\n'=SUM(A1)\r\n-5\r\n'-2+3\r\n'@x\r\n'\tx\r\n-5\r\nNULL\r\n\"plain;text\"\r\n"
        );
    }

    #[test]
    fn nul_characters_are_refused() {
        let cell = render(&CsvOptions::default(), &["n"], &[vec![Cell::Text("a\0b")]]);
        assert_eq!(
            cell.unwrap_err().to_string(),
            "the text holds a NUL character (byte 0), which CSV readers mishandle (many cut the text there); remove it in the query (in SQLite: replace(n, char(0), ''))"
        );
        let header = render(&CsvOptions::default(), &["a", "b\0"], &[]);
        assert!(header
            .unwrap_err()
            .to_string()
            .starts_with("the name of column 2 holds a NUL character"));
        // Other control characters are the consumer's business and pass through.
        let ok = render(
            &CsvOptions::default(),
            &["n"],
            &[vec![Cell::Text("a\x01b")]],
        );
        assert_eq!(ok.unwrap(), "n\na\x01b\n");
    }

    #[test]
    fn blobs() {
        let blob = [vec![Cell::Blob(&[0, 255, 16])]];
        let err = render(&CsvOptions::default(), &["data"], &blob).unwrap_err();
        assert!(
            err.to_string().contains("column \"data\" holds a BLOB"),
            "{err}"
        );
        let hex = CsvOptions {
            blob: BlobEncoding::Hex,
            ..CsvOptions::default()
        };
        assert_eq!(render(&hex, &["data"], &blob).unwrap(), "data\n00ff10\n");
        let b64 = CsvOptions {
            blob: BlobEncoding::Base64,
            ..CsvOptions::default()
        };
        assert_eq!(render(&b64, &["data"], &blob).unwrap(), "data\nAP8Q\n");
    }

    #[test]
    fn no_header() {
        let o = CsvOptions {
            header: false,
            ..CsvOptions::default()
        };
        assert_eq!(render(&o, &["a"], &[vec![Cell::Int(1)]]).unwrap(), "1\n");
    }
}
