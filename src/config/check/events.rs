//! Checking events mappings (`[sources.NAME.events]`, `[reports.events]`): the table
//! of events and the logical names summary and detail outputs are described in.
//!
//! Names from the configuration end up in SQL only quoted, but they are also held to
//! plain identifiers (letters, digits, `_`; a table may be `schema.table`), so that a
//! quote or semicolon is refused at `validate` time rather than carried along. With
//! `validate`, the mapped table and columns are also looked up in the database.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::Checker;
use crate::config::diag::{did_you_mean, Subject};
use crate::config::model::SourceKind;
use crate::config::raw::RawEvents;
use crate::structured::spec::*;

const RESERVED: [&str; 5] = [TIME, TRAFFIC, ID, TAGS, "default"];

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && s.len() <= 63
}

fn identifier_error(what: &str, name: &str) -> String {
    format!(
        "{what} \"{}\" is not a plain identifier; use letters, digits and underscores, starting with a letter (names are quoted in SQL, and quotes, semicolons or spaces are refused)",
        name.escape_default()
    )
}

fn is_logical(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == '_')
}

impl Checker<'_> {
    fn column(&mut self, v: &Spanned<String>, s: &Subject, key: &str) -> Option<String> {
        if is_identifier(v.get_ref()) {
            Some(v.get_ref().clone())
        } else {
            self.err(v.span(), s, key, identifier_error("column", v.get_ref()));
            None
        }
    }

    /// An events mapping; `sqlite` tells which time formats are possible.
    pub(crate) fn events(
        &mut self,
        raw: &Spanned<RawEvents>,
        s: &Subject,
        prefix: &str,
        sqlite: bool,
    ) -> Option<EventsMapping> {
        let span = raw.span();
        let r = raw.get_ref();
        let k = |key: &str| format!("{prefix}.{key}");
        let before = self.errors.len();
        let table = self.events_table(r, s, prefix, &span);
        let time = r.time.as_ref().and_then(|v| self.column(v, s, &k("time")));
        if r.time.is_none() {
            self.err(
                span.clone(),
                s,
                &k("time"),
                "missing key `time`: the column holding each event's time",
            );
        }
        let formats: &[(&str, TimeFormat)] = if sqlite {
            &[("text", TimeFormat::Text), ("epoch", TimeFormat::Epoch)]
        } else {
            &[
                ("native", TimeFormat::Native),
                ("text", TimeFormat::Text),
                ("epoch", TimeFormat::Epoch),
            ]
        };
        let time_format = self.word(&r.time_format, s, &k("time_format"), formats, formats[0].1);
        let traffic = r
            .traffic
            .as_ref()
            .and_then(|v| self.column(v, s, &k("traffic")));
        let id = r.id.as_ref().and_then(|v| self.column(v, s, &k("id")));
        let tags = r.tags.as_ref().and_then(|v| self.column(v, s, &k("tags")));
        let dimensions = self.dimensions(r, s, prefix);
        let measures = self.measures(r, s, prefix, &dimensions);
        let mut mapping = EventsMapping {
            table,
            time: time.unwrap_or_default(),
            time_format,
            traffic,
            id,
            dimensions,
            tags,
            measures,
            default_columns: Vec::new(),
        };
        let known = mapping.columns();
        mapping.default_columns = self.default_columns(r, s, prefix, known);
        (self.errors.len() == before).then_some(mapping)
    }

    /// The events table, `name` or `schema.name`.
    fn events_table(
        &mut self,
        r: &RawEvents,
        s: &Subject,
        prefix: &str,
        span: &Range<usize>,
    ) -> Vec<String> {
        let k = |key: &str| format!("{prefix}.{key}");
        match self.required(
            &r.table,
            s,
            &k("table"),
            span,
            "the table holding the events",
        ) {
            Some(t) => {
                let parts: Vec<String> = t.split('.').map(str::to_string).collect();
                if parts.len() > 2 || !parts.iter().all(|p| is_identifier(p)) {
                    let v = r.table.as_ref().expect("present");
                    self.err(v.span(), s, &k("table"), identifier_error("table", &t));
                }
                parts
            }
            None => Vec::new(),
        }
    }

    /// `dimensions`: logical names, each mapped to one column or several (matched
    /// touchpoints).
    fn dimensions(
        &mut self,
        r: &RawEvents,
        s: &Subject,
        prefix: &str,
    ) -> BTreeMap<String, Vec<String>> {
        let k = |key: &str| format!("{prefix}.{key}");
        let mut dimensions = BTreeMap::new();
        if let Some(d) = &r.dimensions {
            for (name, v) in d.get_ref() {
                let key = k(&format!("dimensions.{name}"));
                if !is_logical(name) || RESERVED.contains(&name.as_str()) {
                    self.err(v.span(), s, &key, format!("\"{}\" cannot name a dimension; use lowercase letters, digits and `_`, other than {}", name.escape_default(), RESERVED.join(", ")));
                    continue;
                }
                let cols: Vec<Spanned<String>> = match v.get_ref() {
                    toml::Value::String(c) => vec![Spanned::new(v.span(), c.clone())],
                    toml::Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_str()) => a
                        .iter()
                        .map(|x| Spanned::new(v.span(), x.as_str().unwrap_or_default().to_string()))
                        .collect(),
                    _ => {
                        self.err(
                            v.span(),
                            s,
                            &key,
                            "expected a column name, or a list of columns (matched touchpoints)",
                        );
                        continue;
                    }
                };
                let cols: Vec<String> = cols
                    .iter()
                    .filter_map(|c| self.column(c, s, &key))
                    .collect();
                dimensions.insert(name.clone(), cols);
            }
        }
        dimensions
    }

    /// `measures`: logical names other than the dimensions', each mapped to a column.
    fn measures(
        &mut self,
        r: &RawEvents,
        s: &Subject,
        prefix: &str,
        dimensions: &BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, String> {
        let k = |key: &str| format!("{prefix}.{key}");
        let mut measures = BTreeMap::new();
        if let Some(m) = &r.measures {
            for (name, v) in m.get_ref() {
                let key = k(&format!("measures.{name}"));
                if !is_logical(name)
                    || RESERVED.contains(&name.as_str())
                    || dimensions.contains_key(name)
                {
                    self.err(v.span(), s, &key, format!("\"{}\" cannot name a measure; use lowercase letters, digits and `_`, other than {} and the dimensions", name.escape_default(), RESERVED.join(", ")));
                    continue;
                }
                if let Some(c) = self.column(v, s, &key) {
                    measures.insert(name.clone(), c);
                }
            }
        }
        measures
    }

    /// `default_columns`, among the mapping's columns (`known`); all of them by default.
    fn default_columns(
        &mut self,
        r: &RawEvents,
        s: &Subject,
        prefix: &str,
        known: Vec<String>,
    ) -> Vec<String> {
        let k = |key: &str| format!("{prefix}.{key}");
        match &r.default_columns {
            Some(list) => list
                .get_ref()
                .iter()
                .filter_map(|c| {
                    if known.contains(c.get_ref()) {
                        Some(c.get_ref().clone())
                    } else {
                        self.err(
                            c.span(),
                            s,
                            &k("default_columns"),
                            format!(
                                "\"{}\" is not a column of this mapping; {}allowed: {}",
                                c.get_ref().escape_default(),
                                did_you_mean(c.get_ref(), known.iter().map(|k| k.as_ref()), "\""),
                                known.join(", ")
                            ),
                        );
                        None
                    }
                })
                .collect(),
            None => known,
        }
    }

    /// With `validate`: the mapping's table and columns exist in the source's database.
    pub(crate) fn events_in_database(
        &mut self,
        (name, source): (&str, &SourceKind),
        mapping: &EventsMapping,
        span: Range<usize>,
        s: &Subject,
        key: &str,
    ) {
        let Some(columns) = self.table_columns((name, source), &mapping.table) else {
            return;
        };
        match columns {
            Ok(None) => self.err(
                span,
                s,
                &format!("{key}.table"),
                format!(
                    "the table {} does not exist in the database",
                    mapping.table.join(".")
                ),
            ),
            Ok(Some(columns)) => {
                if columns.contains(&mapping.time) {
                    self.time_column_form((name, source), mapping, span.clone(), s, key);
                }
                for c in mapping.physical_columns() {
                    if !columns.iter().any(|x| x == c) {
                        self.err(
                            span.clone(),
                            s,
                            key,
                            format!(
                                "the table {} has no column \"{c}\"; its columns: {}",
                                mapping.table.join("."),
                                columns.join(", ")
                            ),
                        );
                    }
                }
            }
            Err(e) => self.err(
                span,
                s,
                key,
                format!("cannot look the table up in the database: {e}"),
            ),
        }
    }
}
