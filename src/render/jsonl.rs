//! JSON Lines: one JSON object per row, its keys the column names in order, its values
//! typed (see docs/formats.md):
//!
//! - integers and reals as JSON numbers (non-finite reals as the strings `"NaN"`,
//!   `"Infinity"`, `"-Infinity"`: JSON has no such numbers);
//! - exact decimals (PostgreSQL numeric) as JSON numbers with their digits as given,
//!   or as strings when they are not finite decimals (`"NaN"`);
//! - booleans, NULL as `null`, text as strings (escaped by serde_json);
//! - dates as `"YYYY-MM-DD"`, timestamps as `"YYYY-MM-DDTHH:MM:SS[.fraction]"`,
//!   timestamps with a zone in UTC as `"…Z"`; text of a date, time, number or bool
//!   column that does not parse as one stays a string;
//! - BLOBs as text per the `blob` option (refused by default, hex or base64).
//!
//! Rows stream: nothing is held but the current one's buffers.

use std::io::{BufWriter, Write};

use anyhow::Result;
use chrono::SecondsFormat;

use super::values::{blob_text, is_json_number, retype, text_as, Typed};
use super::RowCount;
use crate::config::CsvOptions;
use crate::source::{format_real, Cell, Column, ColumnType, RowSink};

/// Writes rows as JSON Lines into `W`, counting rows.
pub struct JsonlRenderer<W: Write> {
    out: BufWriter<W>,
    blob: crate::config::BlobEncoding,
    /// Each column's key, already a JSON string with its colon (`"name":`).
    keys: Vec<String>,
    names: Vec<String>,
    types: Vec<ColumnType>,
    column: usize,
    buf: String,
    pub count: RowCount,
}

impl<W: Write> JsonlRenderer<W> {
    pub fn new(out: W, options: &CsvOptions) -> Self {
        JsonlRenderer {
            out: BufWriter::with_capacity(64 * 1024, out),
            blob: options.blob,
            keys: Vec::new(),
            names: Vec::new(),
            types: Vec::new(),
            column: 0,
            buf: String::new(),
            count: RowCount::default(),
        }
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> Result<W> {
        self.out.into_inner().map_err(|e| e.into_error().into())
    }

    fn string(&mut self, s: &str) -> Result<()> {
        serde_json::to_writer(&mut self.out, s)?;
        Ok(())
    }
}

impl<W: Write> RowSink for JsonlRenderer<W> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        self.keys = columns
            .iter()
            .map(|c| serde_json::to_string(c.name).map(|k| format!("{k}:")))
            .collect::<serde_json::Result<_>>()?;
        self.names = columns.iter().map(|c| c.name.to_string()).collect();
        self.types = columns.iter().map(|c| c.ty).collect();
        Ok(())
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        let col = self.column;
        self.column += 1;
        self.out.write_all(if col == 0 { b"{" } else { b"," })?;
        self.out.write_all(self.keys[col].as_bytes())?;
        match retype(self.types[col], value) {
            Cell::Null => self.out.write_all(b"null")?,
            Cell::Int(v) => self
                .out
                .write_all(itoa::Buffer::new().format(v).as_bytes())?,
            Cell::Real(v) => {
                format_real(v, &mut self.buf);
                if v.is_finite() {
                    self.out.write_all(self.buf.as_bytes())?;
                } else {
                    serde_json::to_writer(&mut self.out, &self.buf)?;
                }
            }
            Cell::Number(s) if is_json_number(s) => self.out.write_all(s.as_bytes())?,
            Cell::Number(s) => self.string(s)?,
            Cell::Bool(b) => self.out.write_all(if b { b"true" } else { b"false" })?,
            Cell::Text(s) => match text_as(self.types[col], s) {
                Typed::Text(s) => self.string(s)?,
                Typed::Number(s) => self.out.write_all(s.as_bytes())?,
                Typed::Bool(b) => self.out.write_all(if b { b"true" } else { b"false" })?,
                Typed::Date(d) => self.string(&d.format("%Y-%m-%d").to_string())?,
                Typed::Timestamp(t) => {
                    self.string(&t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())?
                }
                Typed::Instant(t) => {
                    self.string(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))?
                }
            },
            Cell::Blob(b) => {
                blob_text(b, self.blob, &self.names[col], &mut self.buf)?;
                serde_json::to_writer(&mut self.out, &self.buf)?;
            }
        }
        Ok(())
    }

    fn end_row(&mut self) -> Result<()> {
        if self.column == 0 {
            self.out.write_all(b"{")?;
        }
        self.out.write_all(b"}\n")?;
        self.column = 0;
        self.count.add();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values() {
        let mut r = JsonlRenderer::new(Vec::new(), &CsvOptions::default());
        let col = |name, ty| Column { name, ty };
        r.columns(&[
            col("i", ColumnType::Int),
            col("n", ColumnType::Numeric),
            col("t", ColumnType::Text),
            col("d", ColumnType::Date),
            col("ts", ColumnType::Timestamp),
            col("tz", ColumnType::TimestampTz),
            col("r", ColumnType::Unknown),
        ])
        .unwrap();
        for c in [
            Cell::Int(-3),
            Cell::Number("12345678901234567890.10"),
            Cell::Text("=cmd|' /C calc'!A0 \"q\"\n"),
            Cell::Text("2026-11-23"),
            Cell::Text("2026-11-23 05:06:07.5"),
            Cell::Text("2026-11-23T05:06:07Z"),
            Cell::Real(f64::NAN),
        ] {
            r.cell(c).unwrap();
        }
        r.end_row().unwrap();
        for c in [
            Cell::Null,
            Cell::Number("NaN"),
            Cell::Text(""),
            Cell::Text("someday"),
            Cell::Null,
            Cell::Null,
            Cell::Real(0.5),
        ] {
            r.cell(c).unwrap();
        }
        r.end_row().unwrap();
        assert_eq!(r.count.get(), 2);
        let out = String::from_utf8(r.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "{\"i\":-3,\"n\":12345678901234567890.10,\"t\":\"=cmd|' /C calc'!A0 \\\"q\\\"\\n\",\"d\":\"2026-11-23\",\"ts\":\"2026-11-23T05:06:07.500\",\"tz\":\"2026-11-23T05:06:07Z\",\"r\":\"NaN\"}\n\
             {\"i\":null,\"n\":\"NaN\",\"t\":\"\",\"d\":\"someday\",\"ts\":null,\"tz\":null,\"r\":0.5}\n"
        );
    }
}
