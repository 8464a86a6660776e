//! The raw structs of what a report writes: its outputs, their CSV and Parquet
//! options (`[settings.csv]`, `[reports.parquet]`, …) and its recipients.

use serde::Deserialize;

use super::{Int, Number, S};

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Csv")]
#[serde(deny_unknown_fields)]
pub struct RawCsv {
    #[schemars(with = "Option<String>")]
    pub delimiter: Option<S<String>>,
    #[schemars(with = "Option<bool>")]
    pub header: Option<S<bool>>,
    #[schemars(with = "Option<bool>")]
    pub bom: Option<S<bool>>,
    #[schemars(with = "Option<String>")]
    pub line_ending: Option<S<String>>,
    #[schemars(with = "Option<bool>")]
    pub formula_guard: Option<S<bool>>,
    #[schemars(with = "Option<String>")]
    pub null: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub blob: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub compression: Option<S<String>>,
    #[schemars(with = "Option<Number>")]
    pub compress_above_mb: Option<S<Number>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Parquet")]
#[serde(deny_unknown_fields)]
pub struct RawParquet {
    #[schemars(with = "Option<String>")]
    pub compression: Option<S<String>>,
    #[schemars(with = "Option<Int>")]
    pub row_group_rows: Option<S<Int>>,
}

/// `[reports.recipients]`: a `list`, or a `query` on a `source`; `key` names the
/// column that identifies a recipient.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Recipients")]
#[serde(deny_unknown_fields)]
pub struct RawRecipients {
    #[schemars(with = "Option<String>")]
    pub key: Option<S<String>>,
    /// One table per recipient: column = text or integer.
    #[schemars(with = "Option<Vec<std::collections::BTreeMap<String, serde_json::Value>>>")]
    pub list: Option<S<Vec<S<toml::Table>>>>,
    #[schemars(with = "Option<String>")]
    pub source: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub query: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Output")]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    #[serde(rename = "type")]
    #[schemars(with = "Option<String>")]
    pub file_type: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub query: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub query_file: Option<S<String>>,
    /// `sql` (with `query`), `summary` or `detail`.
    #[schemars(with = "Option<String>")]
    pub kind: Option<S<String>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub traffic: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub group_by: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub time_series: Option<S<toml::Value>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub counters: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub columns_order: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<std::collections::BTreeMap<String, Vec<String>>>")]
    pub filter: Option<S<RawFilter>>,
    #[schemars(
        with = "Option<std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>>"
    )]
    pub traffic_filter: Option<S<std::collections::BTreeMap<String, S<RawFilter>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub exclude_data: Option<S<Vec<S<String>>>>,
    #[schemars(with = "Option<Int>")]
    pub row_limit: Option<S<Int>>,
    #[schemars(with = "Option<Int>")]
    pub cardinality_limit: Option<S<Int>>,
    /// `csv` (default), `xlsx`, `jsonl` or `parquet`.
    #[schemars(with = "Option<String>")]
    pub format: Option<S<String>>,
    /// Column types for the typed formats: `{ column = "date", … }`.
    #[schemars(with = "Option<std::collections::BTreeMap<String, String>>")]
    pub types: Option<S<std::collections::BTreeMap<String, S<String>>>>,
    /// xlsx outputs naming the same workbook go to one file, one sheet each.
    #[schemars(with = "Option<String>")]
    pub workbook: Option<S<String>>,
}

/// A filter table: dimension names (include), `exclude_<dimension>`, and
/// `tags_any` / `tags_only` / `tags_none`; checked against the events mapping.
pub type RawFilter = std::collections::BTreeMap<String, S<Vec<S<String>>>>;
