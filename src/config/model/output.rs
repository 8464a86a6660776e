//! The checked options of an output file: its format, CSV and Parquet options,
//! compression.

use crate::structured::Structured;

#[derive(Debug, Clone)]
pub struct Output {
    /// Goes into the file name: `VIEWS`, `ENGAGEMENT`.
    pub kind: String,
    /// The SQL of a `kind = "sql"` output (empty for structured ones).
    pub query: String,
    /// A summary or detail report, compiled to SQL when it runs.
    pub structured: Option<Box<Structured>>,
    /// The file format (`format`, default csv).
    pub format: Format,
    /// Declared column types (`types`): column name and type name (one of
    /// `COLUMN_TYPES`); they override the source's.
    pub types: Vec<(String, String)>,
    /// The xlsx workbook this output is a sheet of (`workbook`): outputs naming the
    /// same workbook go to one file.
    pub workbook: Option<String>,
}

/// The type names the `types` output key accepts (see `source::typed::by_name`).
pub const COLUMN_TYPES: [&str; 8] = [
    "int",
    "real",
    "numeric",
    "text",
    "bool",
    "date",
    "timestamp",
    "timestamptz",
];

/// The file format of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Csv,
    Xlsx,
    Jsonl,
    Parquet,
}

impl Format {
    pub const CHOICES: [(&'static str, Format); 4] = [
        ("csv", Format::Csv),
        ("xlsx", Format::Xlsx),
        ("jsonl", Format::Jsonl),
        ("parquet", Format::Parquet),
    ];

    /// The file name extension, without the dot (also the format's name).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }

    /// Whether values are written with their types (and `types` means something).
    pub fn typed(self) -> bool {
        self != Format::Csv
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zip,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zip => "zip",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobEncoding {
    /// A BLOB value fails the run with a message naming the column.
    Refuse,
    Hex,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    pub header: bool,
    pub bom: bool,
    pub crlf: bool,
    pub formula_guard: bool,
    pub null: String,
    pub blob: BlobEncoding,
    pub compression: Compression,
    /// Compress only files larger than this many bytes (`None`: always, when
    /// `compression` is not `none`).
    pub compress_above: Option<u64>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            header: true,
            bom: false,
            crlf: false,
            formula_guard: false,
            null: String::new(),
            blob: BlobEncoding::Refuse,
            compression: Compression::None,
            compress_above: None,
        }
    }
}

/// The codec of a Parquet file's pages (`parquet.compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    None,
    Snappy,
    Zstd,
}

/// How outputs with `format = "parquet"` are written: `[settings.parquet]` under the
/// report's `[reports.parquet]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetOptions {
    pub compression: ParquetCompression,
    /// Rows per row group at most (a group is also cut at about 64 MiB of values).
    pub row_group_rows: u32,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            compression: ParquetCompression::Snappy,
            row_group_rows: crate::config::limits::PARQUET_ROW_GROUP_ROWS.default as u32,
        }
    }
}
