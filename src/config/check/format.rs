//! Checking an output's file format: `format` (the output's, else the report's),
//! `types` (column types for the typed formats) and `workbook` (xlsx outputs sharing
//! one file); then, per report, what the formats rule out: compressing xlsx or
//! parquet files, a workbook named like another output.

use std::ops::Range;

use toml::Spanned;

use super::Checker;
use crate::config::diag::{did_you_mean, Subject};
use crate::config::model::*;
use crate::config::names::check_identifier;
use crate::config::raw::{RawCsv, RawOutput};

/// An output's format, declared column types and workbook.
pub(super) struct Formatted {
    pub format: Format,
    pub types: Vec<(String, String)>,
    pub workbook: Option<String>,
}

impl Checker<'_> {
    /// The format keys of output `o`; `default` is the report's `format`.
    pub(super) fn output_format(
        &mut self,
        o: &RawOutput,
        default: Option<&Spanned<String>>,
        s: &Subject,
        prefix: &str,
    ) -> Option<Formatted> {
        let before = self.errors.len();
        let raw = o.format.as_ref().or(default);
        let key = if o.format.is_some() {
            format!("{prefix}format")
        } else {
            "format".to_string()
        };
        let format = self.word(&raw.cloned(), s, &key, &Format::CHOICES, Format::Csv);
        let mut types = Vec::new();
        if let Some(t) = &o.types {
            let key = format!("{prefix}types");
            if !format.typed() {
                self.err(t.span(), s, &key, "`types` sets column types for the typed formats; set format = \"xlsx\", \"jsonl\" or \"parquet\" (CSV writes values as the source gives them)");
            }
            for (column, name) in t.get_ref() {
                let ty = name.get_ref();
                if COLUMN_TYPES.contains(&ty.as_str()) {
                    types.push((column.clone(), ty.clone()));
                } else {
                    self.err(
                        name.span(),
                        s,
                        &format!("{key}.{column}"),
                        format!(
                            "\"{}\" is not a column type; {}allowed: {}",
                            ty.escape_default(),
                            did_you_mean(ty, COLUMN_TYPES, "\""),
                            COLUMN_TYPES.join(", ")
                        ),
                    );
                }
            }
        }
        let workbook = o.workbook.as_ref().map(|w| {
            let key = format!("{prefix}workbook");
            if format != Format::Xlsx {
                self.err(w.span(), s, &key, "`workbook` puts xlsx outputs into one file, one sheet each; set format = \"xlsx\"");
            }
            if let Err(e) = check_identifier("workbook", w.get_ref()) {
                self.err(w.span(), s, &key, e);
            }
            w.get_ref().clone()
        });
        (self.errors.len() == before).then_some(Formatted {
            format,
            types,
            workbook,
        })
    }

    /// `validate` (not `--offline`): the columns `types` names are among those `query`
    /// returns on `source` (when the database says; otherwise the run checks them).
    pub(super) fn types_fit_query(
        &mut self,
        o: &RawOutput,
        types: &[(String, String)],
        (source, query): (&Source, &str),
        s: &Subject,
        prefix: &str,
    ) {
        let Some(at) = o
            .types
            .as_ref()
            .map(|t| t.span())
            .filter(|_| !types.is_empty())
        else {
            return;
        };
        let Some(db) = self.databases.as_mut().filter(|db| !db.offline()) else {
            return;
        };
        let Some(Ok(columns)) = db.query_columns(source, query) else {
            return;
        };
        for (name, _) in types.iter().filter(|(n, _)| !columns.contains(n)) {
            self.err(
                at.clone(),
                s,
                &format!("{prefix}types"),
                format!(
                    "column \"{name}\" is not one the query returns on source \"{}\"; its columns: {}",
                    source.name,
                    columns.join(", ")
                ),
            );
        }
    }

    /// What the report's outputs' formats rule out: compressing xlsx files (already a
    /// zip archive) or parquet files (compressed inside), and a workbook named like an
    /// output that is not in it (both would be one file name).
    pub(super) fn formats_fit(
        &mut self,
        outputs: &[Output],
        csv: &CsvOptions,
        csv_raw: Option<&Spanned<RawCsv>>,
        span: &Range<usize>,
        s: &Subject,
    ) {
        if csv.compression != Compression::None {
            if let Some(o) = outputs
                .iter()
                .find(|o| matches!(o.format, Format::Xlsx | Format::Parquet))
            {
                let at = csv_raw
                    .and_then(|c| c.get_ref().compression.as_ref().map(|v| v.span()))
                    .unwrap_or_else(|| span.clone());
                let why = match o.format {
                    Format::Xlsx => "an xlsx file is a zip archive already",
                    _ => "a parquet file compresses its columns itself",
                };
                self.err(
                    at,
                    s,
                    "csv.compression",
                    format!(
                        "compression = \"{}\" applies to csv and jsonl files, not to output {} (format = \"{}\": {why}); set it to \"none\", or put the xlsx or parquet output in a report of its own",
                        csv.compression.name(),
                        o.kind,
                        o.format.ext()
                    ),
                );
            }
        }
        for o in outputs {
            if let Some(w) = &o.workbook {
                if let Some(other) = outputs
                    .iter()
                    .find(|x| &x.kind == w && x.workbook.as_ref() != Some(w))
                {
                    self.err(
                        span.clone(),
                        s,
                        "outputs",
                        format!(
                            "workbook \"{w}\" (of output {}) has the name of output {}; both would get the same file name: name the workbook otherwise",
                            o.kind, other.kind
                        ),
                    );
                    return;
                }
            }
        }
    }
}
