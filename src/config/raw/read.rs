//! The first stage of loading: the TOML document parsed and each part read into the
//! raw structs on its own, so that one pass reports every problem it can find. A large
//! file may instead be read on two threads (`halves`, which reads with this `Reader`).

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::messages::{clean_message, find_by_span, key_path_at, syntax_message, type_name};
use super::*;
use crate::config::diag::{did_you_mean, ConfigErrors, Diagnostic, SourceText, Subject};

/// The whole document parsed and read into raw structs on this thread, with the
/// problems found on the way; `Err` for a syntax error, which stops everything.
pub(super) fn read_whole(
    src: &SourceText<'_>,
) -> Result<(RawConfig, Vec<Diagnostic>), ConfigErrors> {
    let text = src.text;
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        let diags = syntax_errors
            .iter()
            .map(|e| {
                let message = syntax_message(text, e.span(), e.message());
                src.diagnostic(e.span(), Subject::File, None, message)
            })
            .collect();
        return Err(ConfigErrors(diags));
    }
    let mut reader = Reader::new(src);
    let raw = reader.read(root.into_inner());
    Ok((raw, reader.errors))
}

pub(in crate::config) const TOP_LEVEL: &str = "settings, sources, destinations, reports, serve";
const SOURCE_KINDS: &str = "sqlite, postgres, command";
const DESTINATION_KINDS: &str = "directory, email, sftp, s3, pickup, webhook, slack, teams";

pub(super) struct Reader<'a> {
    src: &'a SourceText<'a>,
    pub(super) errors: Vec<Diagnostic>,
    /// The whole document parsed again, to name the key of a value serde refused.
    reparsed: Option<DeValue<'a>>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(src: &'a SourceText<'a>) -> Self {
        Reader {
            src,
            errors: Vec::new(),
            reparsed: None,
        }
    }

    pub(super) fn read(&mut self, root: DeTable<'_>) -> RawConfig {
        let mut out = RawConfig::default();
        for (key, value) in root {
            let span = value.span();
            match key.get_ref().as_ref() {
                "settings" => {
                    out.settings = self.de(value, Subject::Settings, "");
                    out.settings_unreadable = out.settings.is_none();
                    out.incomplete |= out.settings_unreadable;
                }
                "sources" => {
                    let (named, unreadable, incomplete) = self.named(
                        value,
                        "sources",
                        SOURCE_KINDS,
                        Subject::Source,
                        Self::source,
                    );
                    out.sources = named;
                    out.incomplete |= incomplete || !unreadable.is_empty();
                    out.unreadable_sources = unreadable;
                }
                "destinations" => {
                    let (named, unreadable, incomplete) = self.named(
                        value,
                        "destinations",
                        DESTINATION_KINDS,
                        Subject::Destination,
                        Self::destination,
                    );
                    out.destinations = named;
                    out.incomplete |= incomplete || !unreadable.is_empty();
                    out.unreadable_destinations = unreadable;
                }
                "serve" => {
                    out.serve = self.de(value, Subject::File, "serve");
                    out.incomplete |= out.serve.is_none();
                }
                "reports" => match value.into_inner() {
                    DeValue::Array(items) => {
                        out.reports.reserve(items.len());
                        for (i, item) in items.into_iter().enumerate() {
                            out.reports.push(self.report(i + 1, item));
                        }
                    }
                    other => self.wrong_type(
                        span,
                        Subject::File,
                        "reports",
                        "an array of tables: [[reports]]",
                        &other,
                    ),
                },
                other => {
                    let d = self.src.diagnostic(
                        Some(key.span()),
                        Subject::File,
                        None,
                        format!(
                            "unknown top-level key `{other}`; {}allowed: {TOP_LEVEL}",
                            did_you_mean(other, TOP_LEVEL.split(", "), "`")
                        ),
                    );
                    self.errors.push(d);
                    out.incomplete = true;
                }
            }
        }
        out
    }

    /// A source's table, read by its `kind`.
    fn source(&mut self, kind: &str, v: Spanned<DeValue<'_>>, s: &Subject) -> Option<RawSource> {
        match kind {
            "sqlite" => self.de_plain(v, s).map(|x| RawSource::Sqlite(Box::new(x))),
            "postgres" => self
                .de_plain(v, s)
                .map(|x| RawSource::Postgres(Box::new(x))),
            _ => self.de_plain(v, s).map(|x| RawSource::Command(Box::new(x))),
        }
    }

    /// A destination's table, read by its `kind`.
    fn destination(
        &mut self,
        kind: &str,
        v: Spanned<DeValue<'_>>,
        s: &Subject,
    ) -> Option<RawDestination> {
        match kind {
            "directory" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Directory(Box::new(x))),
            "email" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Email(Box::new(x))),
            "sftp" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Sftp(Box::new(x))),
            "pickup" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Pickup(Box::new(x))),
            "webhook" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Webhook(Box::new(x))),
            "slack" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Slack(Box::new(x))),
            "teams" => self
                .de_plain(v, s)
                .map(|x| RawDestination::Teams(Box::new(x))),
            _ => self.de_plain(v, s).map(|x| RawDestination::S3(Box::new(x))),
        }
    }

    /// A table of named sources or destinations, each with a `kind` that says how to read
    /// the rest: `read(kind, table, subject)`. Returns them, the names of those that
    /// could not be read, and whether the whole table could not.
    fn named<'i, T>(
        &mut self,
        value: Spanned<DeValue<'i>>,
        key: &str,
        kinds: &str,
        subject_of: fn(String) -> Subject,
        read: impl Fn(&mut Self, &str, Spanned<DeValue<'i>>, &Subject) -> Option<T>,
    ) -> (Vec<RawNamed<T>>, Vec<String>, bool) {
        let span = value.span();
        let mut named = Vec::new();
        let mut unreadable = Vec::new();
        let table = match value.into_inner() {
            DeValue::Table(t) => t,
            other => {
                let want = format!("a table of named {key}, e.g. [{key}.NAME]");
                self.wrong_type(span, Subject::File, key, &want, &other);
                return (named, unreadable, true);
            }
        };
        for (name, v) in table {
            let n = name_of(&name);
            let subject = subject_of(n.get_ref().clone());
            let (kind, table) = self.kinded(v, &subject, kinds);
            let value = kind
                .zip(table)
                .and_then(|(kind, v)| read(self, &kind, v, &subject));
            match value {
                Some(value) => named.push(RawNamed {
                    name: n,
                    span: name.span(),
                    value,
                }),
                None => unreadable.push(n.into_inner()),
            }
        }
        (named, unreadable, false)
    }

    fn wrong_type(
        &mut self,
        span: Range<usize>,
        subject: Subject,
        key: &str,
        want: &str,
        found: &DeValue<'_>,
    ) {
        let d = self.src.diagnostic(
            Some(span),
            subject,
            Some(key.to_string()),
            format!("expected {want}, found {}", type_name(found)),
        );
        self.errors.push(d);
    }

    /// Splits the `kind` key off a source or destination table.
    fn kinded<'i>(
        &mut self,
        v: Spanned<DeValue<'i>>,
        subject: &Subject,
        allowed: &str,
    ) -> (Option<String>, Option<Spanned<DeValue<'i>>>) {
        let span = v.span();
        let mut table = match v.into_inner() {
            DeValue::Table(t) => t,
            other => {
                self.wrong_type(span, subject.clone(), "", "a table", &other);
                return (None, None);
            }
        };
        let kind = match table.remove("kind") {
            None => {
                let d = self.src.diagnostic(
                    Some(span.clone()),
                    subject.clone(),
                    Some("kind".into()),
                    format!("missing key `kind`; allowed: {allowed}"),
                );
                self.errors.push(d);
                None
            }
            Some(k) => match k.get_ref().as_str() {
                Some(s) if allowed.split(", ").any(|a| a == s) => Some(s.to_string()),
                other => {
                    let shown = other.map_or_else(
                        || type_name(k.get_ref()).to_string(),
                        |s| format!("\"{s}\""),
                    );
                    let d = self.src.diagnostic(
                        Some(k.span()),
                        subject.clone(),
                        Some("kind".into()),
                        format!(
                            "{shown} is not a kind; {}allowed: {allowed}",
                            other.map_or_else(String::new, |o| did_you_mean(
                                o,
                                allowed.split(", "),
                                "\""
                            ))
                        ),
                    );
                    self.errors.push(d);
                    None
                }
            },
        };
        (kind, Some(Spanned::new(span, DeValue::Table(table))))
    }

    pub(super) fn report(&mut self, index: usize, item: Spanned<DeValue<'_>>) -> RawReportParts {
        let span = item.span();
        let mut parts = RawReportParts {
            index,
            span: span.clone(),
            subject: Subject::ReportAt(index),
            report: None,
            schedule: None,
            csv: None,
            parquet: None,
            events: None,
            outputs: None,
            complete: false,
        };
        let mut table = match item.into_inner() {
            DeValue::Table(t) => t,
            other => {
                self.wrong_type(span, parts.subject.clone(), "", "a table", &other);
                return parts;
            }
        };
        if let Some(DeValue::String(n)) = table.get("name").map(|v| v.get_ref()) {
            if !n.is_empty() {
                parts.subject = Subject::Report(n.to_string());
            }
        }
        let subject = parts.subject.clone();
        let mut ok = true;
        if let Some(v) = table.remove("schedule") {
            parts.schedule = self.de(v, subject.clone(), "schedule").map(Box::new);
            ok &= parts.schedule.is_some();
        }
        if let Some(v) = table.remove("csv") {
            parts.csv = self.de(v, subject.clone(), "csv").map(Box::new);
            ok &= parts.csv.is_some();
        }
        if let Some(v) = table.remove("parquet") {
            parts.parquet = self.de(v, subject.clone(), "parquet").map(Box::new);
            ok &= parts.parquet.is_some();
        }
        if let Some(v) = table.remove("events") {
            parts.events = self.de(v, subject.clone(), "events").map(Box::new);
            ok &= parts.events.is_some();
        }
        if let Some(v) = table.remove("outputs") {
            let vspan = v.span();
            match v.into_inner() {
                DeValue::Array(items) => {
                    let mut outputs = Vec::new();
                    for (i, o) in items.into_iter().enumerate() {
                        let key = format!("outputs[{i}]");
                        match self.de(o, subject.clone(), &key) {
                            Some(o) => outputs.push(o),
                            None => ok = false,
                        }
                    }
                    parts.outputs = Some(outputs);
                }
                other => {
                    self.wrong_type(
                        vspan,
                        subject.clone(),
                        "outputs",
                        "an array of tables: [[reports.outputs]]",
                        &other,
                    );
                    ok = false;
                }
            }
        }
        parts.report = self
            .de_plain(Spanned::new(span, DeValue::Table(table)), &subject)
            .map(Box::new);
        parts.complete = ok && parts.report.is_some();
        parts
    }

    /// Deserializes `v` as a `T` kept with its span; records an error and returns `None`
    /// when it does not fit. `prefix` is the key path of `v` inside its subject.
    fn de<T: DeserializeOwned>(
        &mut self,
        v: Spanned<DeValue<'_>>,
        subject: Subject,
        prefix: &str,
    ) -> Option<Spanned<T>> {
        let span = v.span();
        match T::deserialize(ValueDeserializer::from(v)) {
            Ok(t) => Some(Spanned::new(span, t)),
            Err(e) => {
                self.errors_of::<T>(e, span, subject, prefix);
                None
            }
        }
    }

    /// Records serde's error `e` for the value at `span`; when it is an unknown key,
    /// every unknown key of that table is recorded (see `unknown`), and the value is
    /// read again without them to find what else is wrong.
    fn errors_of<T: DeserializeOwned>(
        &mut self,
        mut e: toml::de::Error,
        span: Range<usize>,
        subject: Subject,
        prefix: &str,
    ) {
        let mut value: Option<DeValue<'a>> = None;
        while let (Some(allowed), Some(at)) = (unknown::allowed_keys(e.message()), e.span()) {
            if value.is_none() {
                value = self.reparsed_value(&span).cloned();
            }
            let Some(v) = value.as_mut() else { break };
            let taken = unknown::take_unknown(v, at.start, &allowed);
            if taken.is_empty() {
                break;
            }
            for u in &taken {
                let inside = self
                    .reparsed_value(&span)
                    .and_then(|v| unknown::path_of_key(v, u.span.start));
                let key = match inside {
                    Some(p) => Some(
                        [prefix]
                            .into_iter()
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .chain(p)
                            .collect::<Vec<_>>()
                            .join("."),
                    ),
                    None => self.key_path(&span, u.span.start, prefix),
                };
                let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                let hint = did_you_mean(&u.name, allowed.iter().map(String::as_str), "`");
                let message = match list.is_empty() {
                    true => format!("unknown key `{}`; this table has no keys", u.name),
                    false => format!(
                        "unknown key `{}`; {hint}allowed: {}",
                        u.name,
                        list.join(", ")
                    ),
                };
                let d = self
                    .src
                    .diagnostic(Some(u.span.clone()), subject.clone(), key, message);
                self.errors.push(d);
            }
            match T::deserialize(ValueDeserializer::from(Spanned::new(
                span.clone(),
                v.clone(),
            ))) {
                Ok(_) => return,
                Err(next) => e = next,
            }
        }
        self.serde_error(&e, span, subject, prefix);
    }

    /// The value at `span` in the document parsed again (once, and only when something
    /// is wrong: serde consumed the value).
    fn reparsed_value(&mut self, span: &Range<usize>) -> Option<&DeValue<'a>> {
        let text = self.src.text;
        let root = self
            .reparsed
            .get_or_insert_with(|| DeValue::Table(DeTable::parse_recoverable(text).0.into_inner()));
        find_by_span(root, span)
    }

    /// The dotted key path, after `prefix`, of the key or value at `offset` inside the
    /// value at `value_span`.
    fn key_path(
        &mut self,
        value_span: &Range<usize>,
        offset: usize,
        prefix: &str,
    ) -> Option<String> {
        let mut path: Vec<String> = Vec::new();
        if !prefix.is_empty() {
            path.push(prefix.to_string());
        }
        if let Some(value) = self.reparsed_value(value_span) {
            key_path_at(value, offset, &mut path);
        }
        (!path.is_empty()).then(|| path.join("."))
    }

    fn de_plain<T: DeserializeOwned>(
        &mut self,
        v: Spanned<DeValue<'_>>,
        subject: &Subject,
    ) -> Option<T> {
        self.de(v, subject.clone(), "").map(Spanned::into_inner)
    }

    fn serde_error(
        &mut self,
        e: &toml::de::Error,
        value_span: Range<usize>,
        subject: Subject,
        prefix: &str,
    ) {
        let span = e.span();
        let key = match &span {
            Some(s) => self.key_path(&value_span, s.start, prefix),
            None => (!prefix.is_empty()).then(|| prefix.to_string()),
        };
        let d = self
            .src
            .diagnostic(span, subject, key, clean_message(e.message()));
        self.errors.push(d);
    }
}

fn name_of(key: &Spanned<std::borrow::Cow<'_, str>>) -> Spanned<String> {
    Spanned::new(key.span(), key.get_ref().to_string())
}
