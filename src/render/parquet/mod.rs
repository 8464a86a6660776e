//! Parquet rendering with the `parquet` crate's low-level writer (`SerializedFileWriter`
//! and typed column writers: no Arrow arrays, see Cargo.toml). Every column is
//! OPTIONAL (NULLs are kept); a column's physical and logical type comes from the
//! source's column type:
//!
//! | source type | Parquet column |
//! |---|---|
//! | integer | INT64 |
//! | real | DOUBLE |
//! | numeric, exact decimals (PostgreSQL) | BYTE_ARRAY String, the exact digits (never rounded) |
//! | numeric, integers and reals (SQLite) | DOUBLE |
//! | boolean | BOOLEAN |
//! | text | BYTE_ARRAY String (UTF-8) |
//! | date | INT32 DATE |
//! | timestamp | INT64 TIMESTAMP(MICROS, isAdjustedToUTC = false) |
//! | timestamp with zone | INT64 TIMESTAMP(MICROS, isAdjustedToUTC = true) |
//! | blob | BYTE_ARRAY (no logical type) |
//! | unknown (SQLite expressions) | inferred from the first row group's values |
//!
//! Inference of an unknown column (and of a numeric one, whose values are exact text in
//! PostgreSQL and integers or reals in SQLite): only integers → INT64 (DOUBLE when
//! declared numeric); integers and reals → DOUBLE; only booleans → BOOLEAN; any text or exact decimal → String (numbers written
//! as text); any blob → BYTE_ARRAY; only NULLs → String. A later value that does not fit
//! the inferred type (a real in an INT64 column, text in a DOUBLE one) fails the run
//! naming the column and the row, and telling to declare the column's type on the output
//! or to CAST it in the query.
//!
//! Rows are buffered one row group at a time, column by column (Parquet writes a row
//! group column after column), and the group is written when it holds `row_group_rows`
//! rows or about `MAX_GROUP_BYTES` of values, whichever comes first: memory stays flat
//! whatever the row count.

use std::io::Write;
use std::sync::Arc;

mod columns;

use anyhow::{bail, Context, Result};
use parquet::basic::{Compression as Codec, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use self::columns::{settle, Col};
use super::RowCount;
use crate::config::{ParquetCompression, ParquetOptions};
use crate::source::{Cell, Column, RowSink};

/// A row group is written once its buffered values reach about this many bytes, even
/// before `row_group_rows` rows: wide rows of long text keep memory bounded too.
pub const MAX_GROUP_BYTES: usize = 64 * 1024 * 1024;

/// Writes rows as a Parquet file into `W`, counting rows.
pub struct ParquetRenderer<W: Write + Send> {
    out: Option<W>,
    writer: Option<SerializedFileWriter<W>>,
    options: ParquetOptions,
    cols: Vec<Col>,
    column: usize,
    /// Rows written (and the progress callback).
    pub count: RowCount,
    /// Rows and bytes buffered in the current row group.
    group_rows: usize,
    group_bytes: usize,
    buf: String,
}

impl<W: Write + Send> ParquetRenderer<W> {
    pub fn new(out: W, options: &ParquetOptions) -> Result<Self> {
        Ok(ParquetRenderer {
            out: Some(out),
            writer: None,
            options: options.clone(),
            cols: Vec::new(),
            column: 0,
            count: RowCount::default(),
            group_rows: 0,
            group_bytes: 0,
            buf: String::new(),
        })
    }

    pub fn rows(&self) -> u64 {
        self.count.get()
    }

    /// Writes the last row group and the footer; returns the inner writer.
    pub fn finish(mut self) -> Result<W> {
        if self.writer.is_none() || self.group_rows > 0 {
            self.flush_group()?;
        }
        let writer = self.writer.take().expect("opened by flush_group");
        Ok(writer.into_inner()?)
    }

    /// Opens the file writer: fixes the types of the columns still unknown from the
    /// values buffered so far, then writes the header.
    fn open(&mut self) -> Result<()> {
        let mut fields = Vec::with_capacity(self.cols.len());
        for col in &mut self.cols {
            if col.kind.is_none() {
                settle(col, &mut self.buf);
            }
            let kind = col.kind.expect("settled");
            fields.push(Arc::new(kind.schema(&col.name)?));
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?;
        let codec = match self.options.compression {
            ParquetCompression::None => Codec::UNCOMPRESSED,
            ParquetCompression::Snappy => Codec::SNAPPY,
            ParquetCompression::Zstd => Codec::ZSTD(ZstdLevel::default()),
        };
        let props = WriterProperties::builder()
            .set_compression(codec)
            .set_created_by(format!("reportctl {}", env!("CARGO_PKG_VERSION")))
            .build();
        let out = self.out.take().expect("opened once");
        self.writer = Some(SerializedFileWriter::new(
            out,
            Arc::new(schema),
            Arc::new(props),
        )?);
        Ok(())
    }

    /// Writes the buffered rows as one row group (opening the file first).
    fn flush_group(&mut self) -> Result<()> {
        if self.writer.is_none() {
            self.open()?;
        }
        let writer = self.writer.as_mut().expect("opened");
        let mut group = writer.next_row_group()?;
        for col in &mut self.cols {
            let mut w = group.next_column()?.expect("one writer per column");
            col.write(&mut w)?;
            w.close()?;
        }
        group.close()?;
        self.group_rows = 0;
        self.group_bytes = 0;
        Ok(())
    }
}

impl<W: Write + Send> RowSink for ParquetRenderer<W> {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        self.cols = columns.iter().map(|c| Col::new(c.name, c.ty)).collect();
        Ok(())
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        let c = self.column;
        self.column += 1;
        if c >= self.cols.len() {
            bail!("row {} has more values than columns", self.rows() + 1);
        }
        self.group_bytes += self.cols[c].cell(value, &mut self.buf)?;
        Ok(())
    }

    fn end_row(&mut self) -> Result<()> {
        self.column = 0;
        self.count.add();
        self.group_rows += 1;
        if self.group_rows >= self.options.row_group_rows as usize
            || self.group_bytes >= MAX_GROUP_BYTES
        {
            self.flush_group()
                .with_context(|| format!("writing the row group ending at row {}", self.rows()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
