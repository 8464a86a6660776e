//! Checking one `[[reports]]` entry: its name, outputs, references to sources and
//! destinations, zone, status, file naming, CSV options and schedule.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use chrono_tz::Tz;
use toml::Spanned;

use super::structured::OutputContext;
use super::{Checker, Defaults};
use crate::config::diag::{did_you_mean, Subject};
use crate::config::limits;
use crate::config::model::*;
use crate::config::names::{check_report_name, FileNameTemplate, Var};
use crate::config::raw::{RawCsv, RawEvents, RawParquet, RawReport, RawSchedule};
use crate::config::RawReportParts;
use crate::schedule::Schedule;
use crate::structured::EventsMapping;

impl Checker<'_> {
    /// Report names are unique, ignoring case: each later use of a name is an error
    /// that names the first. (Checked apart from the rest of each report, which may be
    /// checked on several threads.)
    pub(crate) fn unique_report_names(&mut self, reports: &[RawReportParts]) {
        let mut seen: HashMap<String, &str> = HashMap::with_capacity(reports.len());
        for parts in reports {
            let Some(v) = parts.report.as_ref().and_then(|r| r.name.as_ref()) else {
                continue;
            };
            let n = v.get_ref();
            if !parts.complete || n.trim().is_empty() || check_report_name(n).is_err() {
                continue;
            }
            match seen.entry(n.to_lowercase()) {
                Entry::Occupied(other) => {
                    let msg = format!("the name is already used by report \"{}\"; report names must be unique (ignoring case)", other.get());
                    self.err(v.span(), &parts.subject, "name", msg);
                }
                Entry::Vacant(slot) => {
                    slot.insert(n);
                }
            }
        }
    }

    pub(crate) fn report(
        &mut self,
        parts: RawReportParts,
        defaults: &Defaults,
        (sources, checked): (&BTreeSet<String>, &BTreeMap<String, Source>),
        (destinations, checked_destinations): (&BTreeSet<String>, &BTreeMap<String, Destination>),
    ) -> Option<Report> {
        if !parts.complete {
            return None;
        }
        let raw = parts.report?;
        let subject = parts.subject.clone();
        let s = &subject;
        let span = parts.span.clone();
        let before = self.errors.len();

        let name = self.report_name(&raw, s, &span);
        let source = self.report_source(&raw, s, &span, sources);
        // The events mapping of structured outputs: the report's own, else its source's.
        let source_checked = source.as_ref().and_then(|n| checked.get(n));
        let own_mapping = self.own_mapping(parts.events.as_deref(), source_checked, s);
        let (recipients, columns) =
            self.recipients_and_columns(&raw, s, source.as_deref(), (sources, checked));
        let params = columns.clone().unwrap_or_default();
        let ctx = OutputContext {
            mapping: own_mapping
                .as_ref()
                .or(source_checked.and_then(source_mapping)),
            source: source_checked,
            params: &params,
            format: raw.format.as_ref(),
        };
        let outputs = self.outputs(&raw, parts.outputs.as_deref(), &span, s, &ctx);
        let dests = self.report_destinations(&raw, s, &span, destinations);
        let (notify, notify_on, ping_url) = self.report_watchers(&raw, s, defaults);
        let status = self.report_status(&raw, s);
        let (timezone, schedule) =
            self.report_timing(&raw, parts.schedule.as_deref(), s, &span, defaults);
        let backfill = self.report_backfill(&raw, schedule.as_ref(), s);
        let file_name = self.report_file_name(&raw, s, &span, defaults, outputs.len());
        let date_format = self
            .date_format(&raw.date_format, s, "date_format")
            .unwrap_or_else(|| defaults.date_format.clone());
        let condition = self.condition(&raw, s, (ctx.source, ctx.params));
        let own = (parts.csv.as_deref(), parts.parquet.as_deref());
        let (csv, parquet) = self.file_options(own, defaults, &outputs, &span, s);
        let max_attempts = self.report_max_attempts(&raw, s, defaults);

        if self.errors.len() > before {
            return None;
        }
        let report = Report {
            name: name?,
            source: source?,
            outputs,
            destinations: dests,
            notify,
            notify_on,
            ping_url,
            timezone: timezone?,
            status,
            schedule: schedule?,
            backfill,
            file_name,
            date_format,
            csv,
            parquet,
            max_attempts,
            send_empty: raw.send_empty.as_ref().is_none_or(|b| *b.get_ref()),
            condition,
            recipients,
        };
        let used = (checked_destinations, columns.as_deref());
        self.recipient_columns_used(&raw, &report, s, span, used);
        (self.errors.len() == before).then_some(report)
    }

    /// The report's CSV and Parquet options, each over the settings', and what its
    /// outputs' formats rule out of them.
    fn file_options(
        &mut self,
        (csv, parquet): (Option<&Spanned<RawCsv>>, Option<&Spanned<RawParquet>>),
        defaults: &Defaults,
        outputs: &[Output],
        span: &Range<usize>,
        s: &Subject,
    ) -> (CsvOptions, ParquetOptions) {
        let csv_options = self.csv(defaults.csv.as_ref(), csv, s);
        let parquet = self.parquet(defaults.parquet.as_ref(), parquet, s);
        let csv_raw = [csv, defaults.csv.as_ref()]
            .into_iter()
            .flatten()
            .find(|c| c.get_ref().compression.is_some());
        self.formats_fit(outputs, &csv_options, csv_raw, span, s);
        (csv_options, parquet)
    }

    /// `max_attempts`, defaulting to the settings'.
    fn report_max_attempts(&mut self, raw: &RawReport, s: &Subject, defaults: &Defaults) -> u32 {
        let default = i64::from(defaults.settings.max_attempts);
        let range = limits::MAX_ATTEMPTS.with_default(default);
        self.limit(&raw.max_attempts, s, "max_attempts", range) as u32
    }

    fn report_status(&mut self, raw: &RawReport, s: &Subject) -> Status {
        let choices = [("active", Status::Active), ("draft", Status::Draft)];
        self.word(&raw.status, s, "status", &choices, Status::Active)
    }

    /// Who hears of the report's runs: `notify` (and when: `notify_on`) and `ping_url`,
    /// each defaulting to the settings'.
    fn report_watchers(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        defaults: &Defaults,
    ) -> (Vec<String>, NotifyOn, Option<crate::config::secret::Secret>) {
        let notify = self.report_notify(raw, s, defaults);
        let notify_on = self.word(
            &raw.notify_on,
            s,
            "notify_on",
            &NotifyOn::CHOICES,
            defaults.settings.notify_on,
        );
        let ping_url = self
            .ping_url(&raw.ping_url, s)
            .or_else(|| defaults.settings.ping_url.clone());
        (notify, notify_on, ping_url)
    }

    fn report_name(&mut self, raw: &RawReport, s: &Subject, span: &Range<usize>) -> Option<String> {
        let name = self.required(
            &raw.name,
            s,
            "name",
            span,
            "every report needs a name (letters, digits, spaces and underscores)",
        );
        if let (Some(n), Some(v)) = (&name, &raw.name) {
            if let Err(e) = check_report_name(n) {
                self.err(v.span(), s, "name", e);
            }
        }
        name
    }

    fn report_source(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        span: &Range<usize>,
        sources: &BTreeSet<String>,
    ) -> Option<String> {
        let source = self.required(
            &raw.source,
            s,
            "source",
            span,
            "name one of the [sources.NAME] tables",
        );
        if let (Some(src), Some(v)) = (&source, &raw.source) {
            if !sources.contains(src) {
                let msg = reference_message("source", src, sources.iter());
                self.err(v.span(), s, "source", msg);
            }
        }
        source
    }

    /// The report's own events mapping (`[reports.events]`), checked against its
    /// source's database under `validate`.
    fn own_mapping(
        &mut self,
        events: Option<&Spanned<RawEvents>>,
        source: Option<&Source>,
        s: &Subject,
    ) -> Option<EventsMapping> {
        let sqlite = !matches!(source.map(|x| &x.kind), Some(SourceKind::Postgres(_)));
        let own = events.and_then(|e| self.events(e, s, "events", sqlite));
        if let (Some(m), Some(src), Some(e)) = (&own, source, events) {
            self.events_in_database((&src.name, &src.kind), m, e.span(), s, "events");
        }
        own
    }

    fn report_destinations(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        span: &Range<usize>,
        destinations: &BTreeSet<String>,
    ) -> Vec<String> {
        let mut dests = Vec::new();
        match &raw.destinations {
            None => self.err(
                span.clone(),
                s,
                "destinations",
                "missing key `destinations`; list one or more of the [destinations.NAME] tables",
            ),
            Some(list) if list.get_ref().is_empty() => self.err(
                list.span(),
                s,
                "destinations",
                "the list is empty; name one or more of the [destinations.NAME] tables",
            ),
            Some(list) => {
                for d in list.get_ref() {
                    if !destinations.contains(d.get_ref()) {
                        let msg =
                            reference_message("destination", d.get_ref(), destinations.iter());
                        self.err(d.span(), s, "destinations", msg);
                    } else if dests.contains(d.get_ref()) {
                        self.err(
                            d.span(),
                            s,
                            "destinations",
                            format!("\"{}\" is listed twice", d.get_ref()),
                        );
                    } else {
                        dests.push(d.get_ref().clone());
                    }
                }
            }
        }
        dests
    }

    /// `notify` addresses, mailed through `[settings.smtp]`.
    fn report_notify(&mut self, raw: &RawReport, s: &Subject, defaults: &Defaults) -> Vec<String> {
        let notify = self.mailboxes(&raw.notify, s, "notify");
        if let Some(n) = &raw.notify {
            match &defaults.settings.smtp {
                _ if n.get_ref().is_empty() || self.settings_unreadable => {}
                None => self.err(
                    n.span(),
                    s,
                    "notify",
                    "notify mails are sent through [settings.smtp], which is not configured",
                ),
                Some(smtp) if smtp.from.is_none() => self.err(
                    n.span(),
                    s,
                    "notify",
                    "notify mails need a sender: add `from` to [settings.smtp]",
                ),
                Some(_) => {}
            }
        }
        notify
    }

    /// The report's zone and schedule; a `send_at` schedule is UTC through and through.
    fn report_timing(
        &mut self,
        raw: &RawReport,
        schedule: Option<&Spanned<RawSchedule>>,
        s: &Subject,
        span: &Range<usize>,
        defaults: &Defaults,
    ) -> (Option<Tz>, Option<Schedule>) {
        let mut timezone = match &raw.timezone {
            Some(v) => self.tz(v, s, "timezone"),
            None => Some(defaults.settings.timezone),
        };
        let schedule = match schedule {
            Some(sch) => self.schedule(sch, s, defaults.settings.max_range_days),
            None => {
                self.err(span.clone(), s, "schedule", "missing table [reports.schedule]; a schedule is recurring (`frequency` …), daily at a UTC time (`send_at` …) or one-time (`once` …)");
                None
            }
        };
        if let Some(Schedule::SendAt { .. }) = &schedule {
            match (&raw.timezone, timezone) {
                (Some(v), Some(tz)) if tz != Tz::UTC => self.err(
                    v.span(),
                    s,
                    "timezone",
                    "a send_at schedule works in UTC; remove `timezone` or set it to \"UTC\"",
                ),
                _ => timezone = Some(Tz::UTC),
            }
        }
        (timezone, schedule)
    }

    fn report_backfill(
        &mut self,
        raw: &RawReport,
        schedule: Option<&Schedule>,
        s: &Subject,
    ) -> bool {
        let backfill = raw.backfill.as_ref().is_some_and(|b| *b.get_ref());
        if let (Some(b), Some(sch)) = (&raw.backfill, schedule) {
            let has_start = matches!(sch, Schedule::Recurring(r) if r.start.is_some());
            if *b.get_ref() && !has_start {
                self.err(b.span(), s, "backfill", "backfill = true runs the missed slots since `schedule.start`, so it needs a recurring schedule with `start`");
            }
        }
        backfill
    }

    fn report_file_name(
        &mut self,
        raw: &RawReport,
        s: &Subject,
        span: &Range<usize>,
        defaults: &Defaults,
        outputs: usize,
    ) -> FileNameTemplate {
        let file_name = self
            .file_name(&raw.file_name, s, "file_name")
            .unwrap_or_else(|| defaults.file_name.clone());
        if outputs > 1 && !file_name.uses(Var::Type) {
            let at = raw.file_name.as_ref().map_or(span.clone(), |v| v.span());
            self.err(at, s, "file_name", "a report with several outputs needs {type} in its file name, or the files would overwrite each other");
        }
        file_name
    }
}

/// The events mapping a source carries, if any.
fn source_mapping(source: &Source) -> Option<&EventsMapping> {
    match &source.kind {
        SourceKind::Sqlite(q) => q.events.as_ref(),
        SourceKind::Postgres(p) => p.events.as_ref(),
        SourceKind::Command(_) => None,
    }
}

fn reference_message<'a>(
    what: &str,
    name: &str,
    defined: impl Iterator<Item = &'a String>,
) -> String {
    let defined: Vec<_> = defined.map(|s| s.as_str()).collect();
    if defined.is_empty() {
        format!("unknown {what} \"{name}\"; no {what}s are defined: add a [{what}s.{name}] table")
    } else {
        let hint = did_you_mean(name, defined.iter().copied(), "\"");
        format!(
            "unknown {what} \"{name}\"; {hint}defined: {}",
            defined.join(", ")
        )
    }
}
