//! Checking CSV options: the report's `csv` keys over `[settings.csv]` over the defaults.

use toml::Spanned;

use super::{option_layers, Checker};
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::{Number, RawCsv};

impl Checker<'_> {
    pub(super) fn csv(
        &mut self,
        settings: Option<&Spanned<RawCsv>>,
        report: Option<&Spanned<RawCsv>>,
        subject: &Subject,
    ) -> CsvOptions {
        let mut o = CsvOptions::default();
        for (c, subject) in option_layers(settings, report, subject) {
            self.csv_layer(&mut o, c, &subject);
        }
        if o.compress_above.is_some() && o.compression == Compression::None {
            let span = report.or(settings).map_or(0..0, |c| c.span());
            self.err(
                span,
                subject,
                "csv.compress_above_mb",
                "compresses files above a size, so it needs compression = \"gzip\" or \"zip\"",
            );
        }
        o
    }

    /// One layer of CSV options over `o`.
    fn csv_layer(&mut self, o: &mut CsvOptions, c: &RawCsv, s: &Subject) {
        if let Some(d) = &c.delimiter {
            match d.get_ref().as_bytes() {
                [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => o.delimiter = *b,
                _ => self.err(d.span(), s, "csv.delimiter", "must be one ASCII character other than a quote or a line break, e.g. \",\", \";\" or \"\\t\""),
            }
        }
        if let Some(b) = &c.header {
            o.header = *b.get_ref();
        }
        if let Some(b) = &c.bom {
            o.bom = *b.get_ref();
        }
        if let Some(b) = &c.formula_guard {
            o.formula_guard = *b.get_ref();
        }
        if let Some(n) = &c.null {
            o.null = n.get_ref().clone();
        }
        o.crlf = self.word(
            &c.line_ending,
            s,
            "csv.line_ending",
            &[("lf", false), ("crlf", true)],
            o.crlf,
        );
        o.blob = self.word(
            &c.blob,
            s,
            "csv.blob",
            &[
                ("refuse", BlobEncoding::Refuse),
                ("hex", BlobEncoding::Hex),
                ("base64", BlobEncoding::Base64),
            ],
            o.blob,
        );
        o.compression = self.word(
            &c.compression,
            s,
            "csv.compression",
            &[
                ("none", Compression::None),
                ("gzip", Compression::Gzip),
                ("zip", Compression::Zip),
            ],
            o.compression,
        );
        if let Some(mb) = &c.compress_above_mb {
            let v = mb.get_ref().get();
            if v > 0.0 && v <= limits::MAX_COMPRESS_ABOVE_MB {
                o.compress_above = Some((v * 1024.0 * 1024.0) as u64);
            } else {
                self.err(
                    mb.span(),
                    s,
                    "csv.compress_above_mb",
                    format!(
                        "{} is out of range; allowed: more than 0 up to {} (MB)",
                        match mb.get_ref() {
                            Number::Int(i) => i.to_string(),
                            Number::Float(f) => f.to_string(),
                        },
                        limits::MAX_COMPRESS_ABOVE_MB
                    ),
                );
            }
        }
    }
}
