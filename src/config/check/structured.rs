//! Checking structured outputs (`kind = "summary"` / `"detail"`): described against
//! an events mapping (see `events`), not written as SQL.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::Checker;
use crate::config::diag::{did_you_mean, Subject};
use crate::config::limits;
use crate::config::model::{Source, SourceKind};
use crate::config::raw::{Int, RawOutput};
use crate::structured::spec::*;

const PRIVACY: [&str; 4] = ["os", "device_type", "browser", "location"];

/// What a report's outputs are checked against: the events mapping in force (the
/// report's own, else its source's) and the source.
pub(crate) struct OutputContext<'a> {
    pub mapping: Option<&'a EventsMapping>,
    pub source: Option<&'a Source>,
    /// The report's `format`: the default of its outputs.
    pub format: Option<&'a toml::Spanned<String>>,
    /// Named parameters the report's queries may use besides the window's: its
    /// recipients' columns.
    pub params: &'a [String],
}

/// A structured output being checked: its table, the mapping it is described against,
/// where it sits and the prefix of its keys.
struct Described<'a> {
    o: &'a RawOutput,
    m: &'a EventsMapping,
    span: &'a Range<usize>,
    s: &'a Subject,
    prefix: &'a str,
}

impl Described<'_> {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

impl Checker<'_> {
    /// A structured output (`kind` is `summary` or `detail`), or `None` after recording
    /// its problems.
    pub(crate) fn structured(
        &mut self,
        o: &RawOutput,
        summary: bool,
        span: &Range<usize>,
        s: &Subject,
        prefix: &str,
        ctx: &OutputContext<'_>,
    ) -> Option<Structured> {
        let m = self.structured_mapping(o, span, s, prefix, ctx)?;
        let x = &Described {
            o,
            m,
            span,
            s,
            prefix,
        };
        let before = self.errors.len();
        for (v, what) in [(&o.query, "query"), (&o.query_file, "query_file")] {
            if let Some(v) = v {
                self.err(v.span(), s, &x.key(what), "a summary or detail output is described, not written: remove `query`/`query_file`, or set kind = \"sql\"");
            }
        }
        let excluded = self.excluded_data(x);
        let traffic = self.values(&o.traffic, s, &x.key("traffic"));
        if !traffic.is_empty() && m.traffic.is_none() {
            let at = o.traffic.as_ref().map_or(span.clone(), |v| v.span());
            self.err(
                at,
                s,
                &x.key("traffic"),
                "the events mapping has no `traffic` column to select event types by",
            );
        }
        let filters = match &o.filter {
            Some(f) => self.filters(f, m, s, &x.key("filter")),
            None => Filters::default(),
        };
        let traffic_filters = self.traffic_filters(x);
        let shape = if summary {
            self.summary_shape(x, &excluded)
        } else {
            self.detail_shape(x, &excluded, before)
        };
        let row_limit = self.output_limit(x, &o.row_limit, "row_limit");
        let cardinality_limit = self.output_limit(x, &o.cardinality_limit, "cardinality_limit");
        (self.errors.len() == before).then(|| Structured {
            mapping: m.clone(),
            shape,
            traffic,
            filters,
            traffic_filters,
            row_limit,
            cardinality_limit,
        })
    }

    /// The events mapping a structured output is described against: its source must
    /// be a database and a mapping must be in force.
    fn structured_mapping<'m>(
        &mut self,
        o: &RawOutput,
        span: &Range<usize>,
        s: &Subject,
        prefix: &str,
        ctx: &OutputContext<'m>,
    ) -> Option<&'m EventsMapping> {
        let at = o.kind.as_ref().map_or(span.clone(), |v| v.span());
        let key = format!("{prefix}kind");
        if let Some(src) = ctx.source {
            if let SourceKind::Command(_) = src.kind {
                self.err(at, s, &key, format!("source \"{}\" runs a command, which cannot compute summary or detail reports; use a sqlite or postgres source, or write the query", src.name));
                return None;
            }
        }
        if ctx.mapping.is_none() {
            self.err(at, s, &key, "summary and detail outputs need an events mapping: add [sources.NAME.events] or [reports.events]");
        }
        ctx.mapping
    }

    /// A key that belongs to the other kind of structured output.
    fn wrong_kind(&mut self, x: &Described<'_>, at: Option<Range<usize>>, key: &str, kind: &str) {
        if let Some(at) = at {
            self.err(
                at,
                x.s,
                &x.key(key),
                format!("`{key}` belongs to {kind} outputs"),
            );
        }
    }

    /// `row_limit` / `cardinality_limit`.
    fn output_limit(
        &mut self,
        x: &Described<'_>,
        v: &Option<Spanned<Int>>,
        key: &str,
    ) -> Option<u64> {
        v.as_ref()
            .map(|_| self.limit(v, x.s, &x.key(key), limits::OUTPUT_ROWS) as u64)
    }

    /// Privacy columns, dropped everywhere.
    fn excluded_data(&mut self, x: &Described<'_>) -> Vec<String> {
        let mut excluded = Vec::new();
        let Some(list) = &x.o.exclude_data else {
            return excluded;
        };
        for d in list.get_ref() {
            let name = d.get_ref();
            if x.m.dimensions.contains_key(name) {
                excluded.push(name.clone());
            } else {
                self.err(
                    d.span(),
                    x.s,
                    &x.key("exclude_data"),
                    format!(
                        "\"{}\" is not a dimension of the events mapping; the usual privacy dimensions to exclude are {}",
                        name.escape_default(),
                        PRIVACY.join(", ")
                    ),
                );
            }
        }
        excluded
    }

    /// `traffic_filter`: filters per traffic type.
    fn traffic_filters(&mut self, x: &Described<'_>) -> BTreeMap<String, Filters> {
        let mut traffic_filters = BTreeMap::new();
        if let Some(tf) = &x.o.traffic_filter {
            if x.m.traffic.is_none() {
                self.err(
                    tf.span(),
                    x.s,
                    &x.key("traffic_filter"),
                    "the events mapping has no `traffic` column for per-traffic filters",
                );
            }
            for (t, f) in tf.get_ref() {
                let fl = self.filters(f, x.m, x.s, &x.key(&format!("traffic_filter.{t}")));
                traffic_filters.insert(t.clone(), fl);
            }
        }
        traffic_filters
    }

    fn summary_shape(&mut self, x: &Described<'_>, excluded: &[String]) -> Shape {
        let o = x.o;
        self.wrong_kind(
            x,
            o.columns_order.as_ref().map(|v| v.span()),
            "columns_order",
            "detail",
        );
        self.wrong_kind(
            x,
            o.row_limit.as_ref().map(|v| v.span()),
            "row_limit",
            "detail",
        );
        let group_by = self.group_by(x, excluded);
        let time_series = self.time_series(x);
        let counters = self.counters(x);
        Shape::Summary {
            group_by,
            time_series,
            counters,
        }
    }

    fn group_by(&mut self, x: &Described<'_>, excluded: &[String]) -> Vec<Column> {
        let m = x.m;
        let mut group_by = Vec::new();
        let Some(list) = &x.o.group_by else {
            return group_by;
        };
        for g in list.get_ref() {
            let name = g.get_ref();
            let column = (m.dimensions.contains_key(name) || name == TRAFFIC)
                .then(|| Column::resolve(m, name))
                .flatten();
            let Some(column) = column else {
                let mut allowed: Vec<&str> = m.dimensions.keys().map(String::as_str).collect();
                if m.traffic.is_some() {
                    allowed.push(TRAFFIC);
                }
                self.err(
                    g.span(),
                    x.s,
                    &x.key("group_by"),
                    format!(
                        "\"{}\" is not a dimension of the events mapping; {}allowed: {}",
                        name.escape_default(),
                        did_you_mean(name, allowed.iter().copied(), "\""),
                        allowed.join(", ")
                    ),
                );
                continue;
            };
            if !excluded.contains(name) {
                group_by.push(column);
            }
        }
        group_by
    }

    fn time_series(&mut self, x: &Described<'_>) -> TimeSeries {
        match x.o.time_series.as_ref().map(|v| (v, v.get_ref())) {
            None => TimeSeries::None,
            Some((_, toml::Value::Integer(1))) => TimeSeries::Hour,
            Some((_, toml::Value::Integer(24))) => TimeSeries::Day,
            Some((_, toml::Value::String(x))) if x == "1" => TimeSeries::Hour,
            Some((_, toml::Value::String(x))) if x == "24" => TimeSeries::Day,
            Some((_, toml::Value::String(x))) if x == "none" => TimeSeries::None,
            Some((v, other)) => {
                self.err(v.span(), x.s, &x.key("time_series"), format!("{other} is not a bucket reportctl can compute; allowed: 1 (hours), 24 (days) or \"none\""));
                TimeSeries::None
            }
        }
    }

    fn counters(&mut self, x: &Described<'_>) -> Vec<Counter> {
        let Some(list) = &x.o.counters else {
            return vec![Counter::Count];
        };
        let mut counters = Vec::new();
        for c in list.get_ref() {
            if let Some(counter) = self.counter(c, x.m, x.s, &x.key("counters")) {
                counters.push(counter);
            }
        }
        if list.get_ref().is_empty() {
            self.err(
                list.span(),
                x.s,
                &x.key("counters"),
                format!("the list is empty; allowed: {}", Counter::FORMS),
            );
        }
        counters
    }

    fn detail_shape(&mut self, x: &Described<'_>, excluded: &[String], before: usize) -> Shape {
        let o = x.o;
        self.wrong_kind(
            x,
            o.group_by.as_ref().map(|v| v.span()),
            "group_by",
            "summary",
        );
        self.wrong_kind(
            x,
            o.counters.as_ref().map(|v| v.span()),
            "counters",
            "summary",
        );
        self.wrong_kind(
            x,
            o.time_series.as_ref().map(|v| v.span()),
            "time_series",
            "summary",
        );
        self.wrong_kind(
            x,
            o.cardinality_limit.as_ref().map(|v| v.span()),
            "cardinality_limit",
            "summary",
        );
        let mut columns = self.detail_columns(x);
        columns.retain(|c| !excluded.iter().any(|e| e == c.name()));
        let mut seen = Vec::new();
        columns.retain(|c| {
            let first = !seen.contains(&c.name().to_string());
            seen.push(c.name().to_string());
            first
        });
        if columns.is_empty() && self.errors.len() == before {
            let at = o
                .columns_order
                .as_ref()
                .map_or(x.span.clone(), |v| v.span());
            self.err(
                at,
                x.s,
                &x.key("columns_order"),
                "no columns are left to show",
            );
        }
        Shape::Detail { columns }
    }

    /// `columns_order`, with `default` standing for the mapping's default columns.
    fn detail_columns(&mut self, x: &Described<'_>) -> Vec<DetailColumn> {
        let m = x.m;
        let known = m.columns();
        let mut columns = Vec::new();
        let requested: Vec<Spanned<String>> = match &x.o.columns_order {
            Some(list) => list.get_ref().clone(),
            None => vec![Spanned::new(x.span.clone(), "default".to_string())],
        };
        for c in &requested {
            let names = match c.get_ref().as_str() {
                "default" => m.default_columns.as_slice(),
                _ => std::slice::from_ref(c.get_ref()),
            };
            for name in names {
                match DetailColumn::resolve(m, name) {
                    Some(column) => columns.push(column),
                    None => self.err(
                        c.span(),
                        x.s,
                        &x.key("columns_order"),
                        format!(
                            "\"{}\" is not a column of the events mapping; {}allowed: default, {}",
                            name.escape_default(),
                            did_you_mean(name, known.iter().map(|k| k.as_ref()), "\""),
                            known.join(", ")
                        ),
                    ),
                }
            }
        }
        columns
    }

    fn counter(
        &mut self,
        c: &Spanned<String>,
        m: &EventsMapping,
        s: &Subject,
        key: &str,
    ) -> Option<Counter> {
        let text = c.get_ref();
        let (form, arg) = match text.split_once(':') {
            Some((f, a)) => (f, Some(a)),
            None => (text.as_str(), None),
        };
        let bad = |this: &mut Self, why: String| {
            this.err(c.span(), s, key, why);
            None
        };
        match (form, arg) {
            ("count", None) => Some(Counter::Count),
            ("count", Some(t)) => match (&m.traffic, t.is_empty()) {
                (Some(column), false) => Some(Counter::Traffic {
                    value: t.to_string(),
                    column: column.clone(),
                }),
                _ => bad(
                    self,
                    "count:TRAFFIC needs a `traffic` column in the events mapping and a traffic type"
                        .into(),
                ),
            },
            ("distinct", Some(d)) => {
                let dimension = m.dimensions.contains_key(d);
                match Column::resolve(m, d).filter(|_| dimension) {
                    Some(c) => Some(Counter::Distinct(c)),
                    None => bad(
                        self,
                        format!(
                            "\"{}\" is not a dimension of the events mapping; {}allowed: {}",
                            d.escape_default(),
                            did_you_mean(d, m.dimensions.keys().map(String::as_str), "\""),
                            m.dimensions.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
            ("sum" | "nonzero", Some(x)) => match Column::measure(m, x) {
                Some(c) if form == "sum" => Some(Counter::Sum(c)),
                Some(c) => Some(Counter::NonZero(c)),
                None => bad(
                    self,
                    format!(
                        "\"{}\" is not a measure of the events mapping; {}allowed: {}",
                        x.escape_default(),
                        did_you_mean(x, m.measures.keys().map(String::as_str), "\""),
                        m.measures.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ),
            },
            _ => bad(
                self,
                format!(
                    "\"{}\" is not a counter; allowed: {}",
                    text.escape_default(),
                    Counter::FORMS
                ),
            ),
        }
    }
}
