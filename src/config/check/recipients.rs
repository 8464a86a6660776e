//! Checking `[reports.recipients]`: a `list` (each entry the same columns, text or
//! integers, unique non-empty keys) or a `query` on a source; and that every
//! `{recipient.COLUMN}` the report's file name and destinations name is a column of
//! its recipients (a list's statically; a query's when `validate` can prepare it).

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::Checker;
use crate::config::diag::Subject;
use crate::config::model::*;
use crate::config::raw::{RawRecipients, RawReport};
use crate::config::recipients::{
    field_columns, from_rows, has_placeholder, RecipientValue, Recipients, RecipientsFrom,
};

const KEY: &str = "recipients";

impl Checker<'_> {
    /// The report's recipients, if it declares any.
    pub(super) fn report_recipients(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        report_source: Option<&str>,
        sources: &BTreeSet<String>,
    ) -> Option<Box<Recipients>> {
        let r = raw.recipients.as_ref()?;
        let span = r.span();
        let rr: &RawRecipients = r.get_ref();
        let key = self.required(
            &rr.key,
            s,
            "recipients.key",
            &span,
            "the column that identifies a recipient (key = \"partner_id\")",
        );
        let from = match (&rr.list, &rr.query) {
            (Some(list), None) => {
                if let Some(src) = &rr.source {
                    let msg = "`source` goes with `query`; a `list` needs none";
                    self.err(src.span(), s, "recipients.source", msg);
                }
                self.recipient_list(list, key.as_deref()?, s)
            }
            (None, Some(q)) => {
                let source = match &rr.source {
                    Some(v) if !sources.contains(v.get_ref()) => {
                        let msg = format!(
                            "unknown source \"{}\"; defined: {}",
                            v.get_ref(),
                            sources.iter().cloned().collect::<Vec<_>>().join(", ")
                        );
                        self.err(v.span(), s, "recipients.source", msg);
                        None
                    }
                    Some(v) => Some(v.get_ref().clone()),
                    None => report_source.map(str::to_string),
                };
                Some(RecipientsFrom::Query {
                    source: source?,
                    query: q.get_ref().clone(),
                })
            }
            _ => {
                let msg = "give either `list = [{ … }, …]` or `query = \"SELECT …\"` (with `source`, by default the report's)";
                self.err(span, s, KEY, msg);
                None
            }
        };
        Some(Box::new(Recipients {
            key: key?,
            from: from?,
        }))
    }

    /// The report's recipients, and their columns when known (see `recipient_columns`).
    pub(super) fn recipients_and_columns(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        report_source: Option<&str>,
        (sources, checked): (&BTreeSet<String>, &BTreeMap<String, Source>),
    ) -> (Option<Box<Recipients>>, Option<Vec<String>>) {
        let recipients = self.report_recipients(raw, s, report_source, sources);
        if let (Some(r), Some(RecipientsFrom::Query { source, .. })) =
            (&raw.recipients, recipients.as_deref().map(|x| &x.from))
        {
            if let Some(SourceKind::Command(_)) = checked.get(source).map(|x| &x.kind) {
                let msg = format!("a recipients query runs on a SQLite or PostgreSQL source; \"{source}\" is a command source");
                self.err(r.span(), s, KEY, msg);
                return (None, None);
            }
        }
        // Notify mails are about the report, not sent to a recipient.
        for n in raw.notify.iter().flat_map(|n| n.get_ref()) {
            if has_placeholder(n.get_ref()) {
                let msg = "notify mails go to the report's watchers; {recipient.COLUMN} is for destinations and file names";
                self.err(n.span(), s, "notify", msg);
            }
        }
        let columns = self.recipient_columns(recipients.as_deref(), checked, raw, s);
        (recipients, columns)
    }

    /// A `list`: tables of text or integer values, all with the same columns.
    fn recipient_list(
        &mut self,
        list: &Spanned<Vec<Spanned<toml::Table>>>,
        key: &str,
        s: &Subject,
    ) -> Option<RecipientsFrom> {
        let k = "recipients.list";
        let Some(first) = list.get_ref().first() else {
            self.err(
                list.span(),
                s,
                k,
                "the list is empty; give one table per recipient",
            );
            return None;
        };
        let columns: Vec<String> = first.get_ref().keys().cloned().collect();
        let before = self.errors.len();
        let mut rows = Vec::new();
        for entry in list.get_ref() {
            let mut row = Vec::new();
            let names: Vec<&String> = entry.get_ref().keys().collect();
            if names.len() != columns.len() || names.iter().zip(&columns).any(|(a, b)| *a != b) {
                let msg = format!(
                    "every recipient has the same columns, in the same order: {}",
                    columns.join(", ")
                );
                self.err(entry.span(), s, k, msg);
                continue;
            }
            for (c, v) in entry.get_ref() {
                row.push(match v {
                    toml::Value::String(t) => RecipientValue::Text(t.clone()),
                    toml::Value::Integer(i) => RecipientValue::Int(*i),
                    other => {
                        let msg = format!(
                            "column \"{c}\" is a {}; a recipient's values are text or integers",
                            other.type_str()
                        );
                        self.err(entry.span(), s, k, msg);
                        RecipientValue::Text(String::new())
                    }
                });
            }
            rows.push(row);
        }
        if self.errors.len() > before {
            return None;
        }
        match from_rows(key, &columns, rows) {
            Ok(list) => Some(RecipientsFrom::List { columns, list }),
            Err(e) => {
                self.err(list.span(), s, k, e);
                None
            }
        }
    }

    /// Every `{recipient.COLUMN}` of the report's file name and destinations is a column
    /// of its recipients; a report without recipients names none.
    pub(super) fn recipient_columns_used(
        &mut self,
        raw: &RawReport,
        report: &Report,
        s: &Subject,
        span: std::ops::Range<usize>,
        (destinations, known): (&BTreeMap<String, Destination>, Option<&[String]>),
    ) {
        let mut used: Vec<(String, String)> = report
            .file_name
            .template
            .recipient_columns()
            .map(|c| ("file_name".to_string(), c.to_string()))
            .collect();
        for d in &report.destinations {
            if let Some(dest) = destinations.get(d) {
                for (key, c) in destination_columns(&dest.kind) {
                    used.push((format!("destination \"{d}\" {key}"), c));
                }
            }
        }
        if used.is_empty() {
            return;
        }
        let at = raw.recipients.as_ref().map_or(span, |r| r.span());
        if report.recipients.is_none() {
            let (place, c) = &used[0];
            let msg = format!(
                "{place} names {{recipient.{c}}}, but the report has no [reports.recipients]"
            );
            self.err(at, s, KEY, msg);
            return;
        }
        let Some(known) = known else { return };
        for (place, c) in used {
            if !known.contains(&c) {
                let msg = format!(
                    "{place} names {{recipient.{c}}}, but the recipients have no column \"{c}\"; columns: {}",
                    known.join(", ")
                );
                self.err(at.clone(), s, KEY, msg);
            }
        }
    }

    /// The columns of the report's recipients: a list's, or a query's when `validate`
    /// prepares it (else `None`). They are the named parameters its queries may use.
    pub(super) fn recipient_columns(
        &mut self,
        recipients: Option<&Recipients>,
        sources: &BTreeMap<String, Source>,
        raw: &RawReport,
        s: &Subject,
    ) -> Option<Vec<String>> {
        let (source, query) = match &recipients?.from {
            RecipientsFrom::List { columns, .. } => return Some(columns.clone()),
            RecipientsFrom::Query { source, query } => (sources.get(source)?, query),
        };
        if let Some(q) = raw
            .recipients
            .as_ref()
            .and_then(|r| r.get_ref().query.as_ref())
        {
            let before = self.errors.len();
            let at = (q.span(), true);
            self.query_reads_only((Some(source), &[]), query, at, s, "recipients.query");
            if self.errors.len() > before {
                return None;
            }
        }
        let db = self.databases.as_mut().filter(|db| !db.offline())?;
        match db.query_columns(source, query)? {
            Ok(columns) => Some(columns),
            Err(e) => {
                let at = raw.recipients.as_ref().map(|r| r.span())?;
                let msg = format!("source \"{}\": {e}", source.name);
                self.err(at, s, "recipients.query", msg);
                None
            }
        }
    }
}

/// The recipient columns `dest`'s fields name, with the key each is in.
fn destination_columns(dest: &DestinationKind) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut add = |key: &'static str, s: &str| {
        for c in field_columns(s).unwrap_or_default() {
            out.push((key, c));
        }
    };
    match dest {
        DestinationKind::Directory(d) => add("path", &d.path.to_string_lossy()),
        DestinationKind::Email(m) => {
            for (key, list) in [("to", &m.to), ("cc", &m.cc), ("bcc", &m.bcc)] {
                list.iter().for_each(|a| add(key, a));
            }
            for (key, t) in [("subject", &m.subject), ("body", &m.body)] {
                for c in t.recipient_columns() {
                    out.push((key, c.to_string()));
                }
            }
        }
        DestinationKind::Sftp(s) => add("path", &s.path),
        DestinationKind::S3(b) => add("prefix", &b.prefix),
        DestinationKind::Pickup(p) => {
            if let Some(a) = &p.app_id {
                add("app_id", a);
            }
        }
        DestinationKind::Webhook(w) => add("url", &w.url),
        DestinationKind::Slack(_) | DestinationKind::Teams(_) => {}
    }
    out
}
