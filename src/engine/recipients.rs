//! The recipients of a slot (bursting): a report's list, or the rows of its recipients
//! query run for the slot's window (the window parameters bound, like an output's).
//! `due` asks once per new slot, when it records the slot's runs: the list of a slot
//! is fixed then, one run per recipient.

use anyhow::{anyhow, bail, Context, Result};

use super::gate::Gates;
use crate::config::recipients::{
    fill, fill_template, from_rows, Field, Recipient, RecipientValue, RecipientsFrom,
};
use crate::config::{Config, Destination, DestinationKind, Report};
use crate::exit::UsageError;
use crate::schedule::Window;
use crate::source::{self, Cell, Column, RowSink, WindowParams};

/// The recipients of `report` for `window`; `None` for a report without recipients. A
/// recipients query waits at its source's gate in `gates`.
pub fn of_slot(
    config: &Config,
    report: &Report,
    window: &Window,
    gates: &Gates,
) -> Result<Option<Vec<Recipient>>> {
    let Some(r) = report.recipients.as_deref() else {
        return Ok(None);
    };
    let list = match &r.from {
        RecipientsFrom::List { list, .. } => list.clone(),
        RecipientsFrom::Query { source, query } => {
            let permit = gates.source(source);
            let queried = query_rows(config, report, source, query, window);
            drop(permit);
            let (columns, rows) = queried
                .with_context(|| format!("report \"{}\": the recipients query", report.name))?;
            from_rows(&r.key, &columns, rows)
                .map_err(|e| anyhow!("report \"{}\": recipients: {e}", report.name))?
        }
    };
    Ok(Some(list))
}

/// The recipient of `report` with key `key` for `window` (`run --recipient`); a key
/// it does not have is a usage error listing some it has.
pub fn one(config: &Config, report: &Report, key: &str, window: &Window) -> Result<Recipient> {
    let Some(list) = of_slot(config, report, window, &Gates::none())? else {
        bail!(UsageError(format!(
            "report \"{}\" has no [reports.recipients]; --recipient is for reports that do",
            report.name
        )));
    };
    if let Some(r) = list.iter().find(|r| r.key == key) {
        return Ok(r.clone());
    }
    let keys: Vec<&str> = list.iter().take(10).map(|r| r.key.as_str()).collect();
    let more = if list.len() > 10 { ", …" } else { "" };
    bail!(UsageError(format!(
        "report \"{}\" has no recipient \"{key}\" for this window; recipients: {}{more}",
        report.name,
        keys.join(", ")
    )))
}

fn query_rows(
    config: &Config,
    report: &Report,
    source: &str,
    query: &str,
    window: &Window,
) -> Result<(Vec<String>, Vec<Vec<RecipientValue>>)> {
    let params = WindowParams::new(window, report.timezone);
    let mut sink = Collect::default();
    let src = &config.sources[source];
    source::sql_query(&src.kind, report.timezone, query, &params, &mut sink)
        .with_context(|| format!("source \"{source}\""))?;
    Ok((sink.columns, sink.rows))
}

/// Collects a recipients query's rows: integers stay integers, NULL is empty text, a
/// real its shortest text.
#[derive(Default)]
struct Collect {
    columns: Vec<String>,
    rows: Vec<Vec<RecipientValue>>,
    current: Vec<RecipientValue>,
}

impl RowSink for Collect {
    fn columns(&mut self, columns: &[Column<'_>]) -> Result<()> {
        self.columns = columns.iter().map(|c| c.name.to_string()).collect();
        Ok(())
    }

    fn cell(&mut self, value: Cell<'_>) -> Result<()> {
        let mut buf = String::new();
        self.current.push(match value {
            Cell::Null => RecipientValue::Text(String::new()),
            Cell::Int(i) => RecipientValue::Int(i),
            Cell::Real(v) => {
                source::format_real(v, &mut buf);
                RecipientValue::Text(buf)
            }
            // A number column (PostgreSQL sends text): integers stay integers.
            Cell::Number(t) => match t.parse() {
                Ok(i) => RecipientValue::Int(i),
                Err(_) => RecipientValue::Text(t.to_string()),
            },
            Cell::Text(t) => RecipientValue::Text(t.to_string()),
            Cell::Bool(b) => RecipientValue::Text(b.to_string()),
            Cell::Blob(_) => bail!("a recipient's column is a blob; select text or integers"),
        });
        Ok(())
    }

    fn end_row(&mut self) -> Result<()> {
        self.rows.push(std::mem::take(&mut self.current));
        Ok(())
    }
}

/// `dest` for recipient `r`: its fields filled (email `to`/`cc`/`bcc`, subject and
/// body, SFTP `path`, S3 `prefix`, directory `path`, pickup `app_id`, webhook `url`),
/// each value checked. The error names the field.
pub fn resolve(dest: &Destination, r: &Recipient) -> Result<Destination, String> {
    let mut d = dest.clone();
    let at = |key: &'static str| move |e: String| format!("{key}: {e}");
    match &mut d.kind {
        DestinationKind::Directory(x) => {
            let p = fill(&x.path.to_string_lossy(), r, Field::Path).map_err(at("path"))?;
            x.path = p.into();
        }
        DestinationKind::Email(m) => {
            for (key, list) in [("to", &mut m.to), ("cc", &mut m.cc), ("bcc", &mut m.bcc)] {
                for a in list.iter_mut() {
                    *a = fill(a, r, Field::Address).map_err(at(key))?;
                }
            }
            m.subject = fill_template(&m.subject, r, Field::Line).map_err(at("subject"))?;
            m.body = fill_template(&m.body, r, Field::Text).map_err(at("body"))?;
        }
        DestinationKind::Sftp(s) => s.path = fill(&s.path, r, Field::Path).map_err(at("path"))?,
        DestinationKind::S3(b) => {
            b.prefix = fill(&b.prefix, r, Field::Path).map_err(at("prefix"))?
        }
        DestinationKind::Pickup(p) => {
            if let Some(a) = &mut p.app_id {
                *a = fill(a, r, Field::Path).map_err(at("app_id"))?;
            }
        }
        DestinationKind::Webhook(w) => {
            w.url = fill(&w.url, r, Field::UrlPath).map_err(at("url"))?
        }
        DestinationKind::Slack(_) | DestinationKind::Teams(_) => {}
    }
    Ok(d)
}
