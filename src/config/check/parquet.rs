//! Checking Parquet options: the report's `parquet` keys over `[settings.parquet]` over
//! the defaults.

use toml::Spanned;

use super::{option_layers, Checker};
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawParquet;

impl Checker<'_> {
    pub(super) fn parquet(
        &mut self,
        settings: Option<&Spanned<RawParquet>>,
        report: Option<&Spanned<RawParquet>>,
        subject: &Subject,
    ) -> ParquetOptions {
        let mut o = ParquetOptions::default();
        for (p, s) in option_layers(settings, report, subject) {
            o.compression = self.word(
                &p.compression,
                &s,
                "parquet.compression",
                &[
                    ("none", ParquetCompression::None),
                    ("snappy", ParquetCompression::Snappy),
                    ("zstd", ParquetCompression::Zstd),
                ],
                o.compression,
            );
            let rows = limits::PARQUET_ROW_GROUP_ROWS.with_default(i64::from(o.row_group_rows));
            o.row_group_rows =
                self.limit(&p.row_group_rows, &s, "parquet.row_group_rows", rows) as u32;
        }
        o
    }
}
