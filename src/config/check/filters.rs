//! Checking the filter tables of structured outputs (`filter`, `traffic_filter`):
//! dimension values to include or exclude, and tag conditions, checked against the
//! events mapping.

use toml::Spanned;

use super::Checker;
use crate::config::diag::Subject;
use crate::config::raw::RawFilter;
use crate::structured::spec::*;

impl Checker<'_> {
    pub(super) fn values(
        &mut self,
        v: &Option<Spanned<Vec<Spanned<String>>>>,
        s: &Subject,
        key: &str,
    ) -> Vec<String> {
        let Some(list) = v else { return Vec::new() };
        if list.get_ref().is_empty() {
            self.err(
                list.span(),
                s,
                key,
                "the list is empty; leave the key out to keep everything",
            );
        }
        list.get_ref().iter().map(|x| x.get_ref().clone()).collect()
    }

    pub(super) fn filters(
        &mut self,
        f: &Spanned<RawFilter>,
        m: &EventsMapping,
        s: &Subject,
        key: &str,
    ) -> Filters {
        let mut out = Filters::default();
        for (name, values) in f.get_ref() {
            let k = format!("{key}.{name}");
            let list = self.values(&Some(values.clone()), s, &k);
            match name.as_str() {
                "tags_any" | "tags_only" | "tags_none" => {
                    if m.tags.is_none() {
                        self.err(
                            values.span(),
                            s,
                            &k,
                            "the events mapping has no `tags` column",
                        );
                    }
                    if let Some(bad) = values
                        .get_ref()
                        .iter()
                        .find(|t| t.get_ref().contains(',') || t.get_ref().is_empty())
                    {
                        self.err(bad.span(), s, &k, "a tag is a non-empty value without commas (the tags column is a comma-separated list)");
                    }
                    match name.as_str() {
                        "tags_any" => out.tags_any = list,
                        "tags_only" => out.tags_only = list,
                        _ => out.tags_none = list,
                    }
                }
                other => {
                    let (dim, exclude) = match other.strip_prefix("exclude_") {
                        Some(d) => (d, true),
                        None => (other, false),
                    };
                    let Some(columns) = m.dimensions.get(dim) else {
                        let dims: Vec<&str> = m.dimensions.keys().map(String::as_str).collect();
                        self.err(values.span(), s, &k, format!("\"{}\" is not a filter; allowed: a dimension ({}), exclude_ followed by a dimension, tags_any, tags_only, tags_none", other.escape_default(), dims.join(", ")));
                        continue;
                    };
                    let filter = DimensionFilter {
                        columns: columns.clone(),
                        values: list,
                    };
                    if exclude {
                        out.exclude.push(filter);
                    } else {
                        out.include.push(filter);
                    }
                }
            }
        }
        out
    }
}
