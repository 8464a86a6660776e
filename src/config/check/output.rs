//! Checking a report's outputs: one `type` + `query`, or `[[reports.outputs]]`, each a
//! SQL query (which `validate` also checks only reads) or a structured output.

use std::ops::Range;

use toml::Spanned;

use super::structured::OutputContext;
use super::Checker;
use crate::config::diag::{did_you_mean, Subject};
use crate::config::model::*;
use crate::config::names::check_identifier;
use crate::config::raw::{RawOutput, RawReport};

impl Checker<'_> {
    /// The report's outputs: `type` + `query` for one, or `[[reports.outputs]]`.
    pub(super) fn outputs(
        &mut self,
        raw: &RawReport,
        list: Option<&[Spanned<RawOutput>]>,
        span: &Range<usize>,
        s: &Subject,
        ctx: &OutputContext<'_>,
    ) -> Vec<Output> {
        let single = raw.kind.is_some() || raw.query.is_some() || raw.query_file.is_some();
        let mut outputs = Vec::new();
        match (single, list) {
            (true, Some(_)) => {
                let at = raw.kind.as_ref().or(raw.query.as_ref()).or(raw.query_file.as_ref()).map_or(span.clone(), |v| v.span());
                self.err(at, s, "outputs", "give either `type` and `query` for one output, or [[reports.outputs]] tables for several, not both");
            }
            (true, None) => {
                let out = RawOutput {
                    file_type: raw.kind.clone(),
                    query: raw.query.clone(),
                    query_file: raw.query_file.clone(),
                    ..RawOutput::default()
                };
                if let Some(o) = self.output(&out, span, s, "", ctx) {
                    outputs.push(o);
                }
            }
            (false, Some([])) => self.err(span.clone(), s, "outputs", "[[reports.outputs]] is empty; give at least one output with `type` and `query`"),
            (false, Some(list)) => {
                for (i, o) in list.iter().enumerate() {
                    let prefix = format!("outputs[{i}].");
                    if let Some(out) = self.output(o.get_ref(), &o.span(), s, &prefix, ctx) {
                        if outputs.iter().any(|x: &Output| x.kind == out.kind) {
                            let at = o.get_ref().file_type.as_ref().map_or(o.span(), |v| v.span());
                            self.err(at, s, &format!("{prefix}type"), format!("type \"{}\" is used by another output of this report", out.kind));
                        } else {
                            outputs.push(out);
                        }
                    }
                }
            }
            (false, None) => self.err(span.clone(), s, "query", "missing key `query`; a report needs `type` and `query` (or `query_file`), or [[reports.outputs]] tables"),
        }
        outputs
    }

    fn output(
        &mut self,
        o: &RawOutput,
        span: &Range<usize>,
        s: &Subject,
        prefix: &str,
        ctx: &OutputContext<'_>,
    ) -> Option<Output> {
        let type_key = format!("{prefix}type");
        let kind = self.required(
            &o.file_type,
            s,
            &type_key,
            span,
            "the output's type goes into the file name, e.g. \"VIEWS\"",
        );
        if let (Some(k), Some(v)) = (&kind, &o.file_type) {
            if let Err(e) = check_identifier("type", k) {
                self.err(v.span(), s, &type_key, e);
                return None;
            }
        }
        let formatted = self.output_format(o, ctx.format, s, prefix);
        let structured = match o.kind.as_ref().map(|k| (k, k.get_ref().as_str())) {
            None | Some((_, "sql")) => None,
            Some((_, "summary")) => Some(self.structured(o, true, span, s, prefix, ctx)),
            Some((_, "detail")) => Some(self.structured(o, false, span, s, prefix, ctx)),
            Some((v, other)) => {
                self.err(
                    v.span(),
                    s,
                    &format!("{prefix}kind"),
                    format!(
                        "\"{}\" is not an output kind; {}allowed: sql, summary, detail",
                        other.escape_default(),
                        did_you_mean(other, ["sql", "summary", "detail"], "\"")
                    ),
                );
                return None;
            }
        };
        if let Some(st) = structured {
            let f = formatted?;
            return Some(Output {
                kind: kind?,
                query: String::new(),
                structured: Some(Box::new(st?)),
                format: f.format,
                types: f.types,
                workbook: f.workbook,
            });
        }
        self.no_structured_keys(o, s, prefix);
        let query = self.output_query(o, span, s, prefix);
        let written = o.query.as_ref().map(|v| (v, "query"));
        if let (Some(q), Some((v, key))) = (
            &query,
            written.or(o.query_file.as_ref().map(|v| (v, "query_file"))),
        ) {
            let at = (v.span(), key == "query");
            let source = (ctx.source, ctx.params);
            let before = self.errors.len();
            self.query_reads_only(source, q, at, s, &format!("{prefix}{key}"));
            if let (Some(f), Some(src), true) =
                (&formatted, ctx.source, self.errors.len() == before)
            {
                self.types_fit_query(o, &f.types, (src, q), s, prefix);
            }
        }
        let f = formatted?;
        Some(Output {
            kind: kind?,
            query: query?,
            structured: None,
            format: f.format,
            types: f.types,
            workbook: f.workbook,
        })
    }

    /// `condition`: a query on the report's source (checked like an output's, with the
    /// recipient columns as parameters too), held as an output of type `condition` so
    /// that it runs as outputs do.
    pub(super) fn condition(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        source: (Option<&Source>, &[String]),
    ) -> Option<Output> {
        let q = raw.condition.as_ref()?;
        if q.get_ref().trim().is_empty() {
            let msg = "the condition is empty; give a query whose first cell decides whether the run delivers, e.g. \"SELECT count(*) > 0 FROM …\"";
            self.err(q.span(), s, "condition", msg);
            return None;
        }
        self.query_reads_only(source, q.get_ref(), (q.span(), true), s, "condition");
        Some(Output {
            kind: "condition".into(),
            query: q.get_ref().clone(),
            structured: None,
            format: Format::Csv,
            types: Vec::new(),
            workbook: None,
        })
    }

    /// Keys of summary and detail outputs, refused on a SQL output.
    fn no_structured_keys(&mut self, o: &RawOutput, s: &Subject, prefix: &str) {
        let structured_keys = [
            ("traffic", o.traffic.as_ref().map(|v| v.span())),
            ("group_by", o.group_by.as_ref().map(|v| v.span())),
            ("time_series", o.time_series.as_ref().map(|v| v.span())),
            ("counters", o.counters.as_ref().map(|v| v.span())),
            ("columns_order", o.columns_order.as_ref().map(|v| v.span())),
            ("filter", o.filter.as_ref().map(|v| v.span())),
            (
                "traffic_filter",
                o.traffic_filter.as_ref().map(|v| v.span()),
            ),
            ("exclude_data", o.exclude_data.as_ref().map(|v| v.span())),
            ("row_limit", o.row_limit.as_ref().map(|v| v.span())),
            (
                "cardinality_limit",
                o.cardinality_limit.as_ref().map(|v| v.span()),
            ),
        ];
        for (key, at) in structured_keys {
            if let Some(at) = at {
                self.err(at, s, &format!("{prefix}{key}"), format!("`{key}` belongs to summary and detail outputs; set kind = \"summary\" or \"detail\""));
            }
        }
    }

    /// The SQL text of an output: `query`, or the contents of `query_file`.
    fn output_query(
        &mut self,
        o: &RawOutput,
        span: &Range<usize>,
        s: &Subject,
        prefix: &str,
    ) -> Option<String> {
        match (&o.query, &o.query_file) {
            (Some(q), None) => {
                if q.get_ref().trim().is_empty() {
                    self.err(q.span(), s, &format!("{prefix}query"), "the query is empty");
                    None
                } else {
                    Some(q.get_ref().clone())
                }
            }
            (None, Some(f)) => {
                let path = self.path(f.get_ref());
                match std::fs::read_to_string(&path) {
                    Ok(q) if !q.trim().is_empty() => Some(q),
                    Ok(_) => {
                        self.err(
                            f.span(),
                            s,
                            &format!("{prefix}query_file"),
                            format!("{} is empty", path.display()),
                        );
                        None
                    }
                    Err(e) => {
                        self.err(
                            f.span(),
                            s,
                            &format!("{prefix}query_file"),
                            format!("cannot read {}: {e}", path.display()),
                        );
                        None
                    }
                }
            }
            (Some(q), Some(_)) => {
                self.err(
                    q.span(),
                    s,
                    &format!("{prefix}query"),
                    "give either `query` or `query_file`, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    span.clone(),
                    s,
                    &format!("{prefix}query"),
                    "missing key `query` (SQL text) or `query_file` (a file holding it)",
                );
                None
            }
        }
    }
}
