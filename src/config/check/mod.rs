//! Stage two of configuration loading: raw structs in, checked `model` types out. Each
//! problem becomes a `Diagnostic` pointing at the offending value; checking goes on
//! after a problem so that one pass finds them all.

mod csv;
mod database;
mod destination;
pub use destination::check_endpoint_url;
mod events;
mod filters;
mod format;
mod output;
mod parquet;
mod recipients;
mod report;
mod schedule;
mod serve;
mod settings;
pub use settings::{check_ping_url, machine_zone};
pub(crate) mod smtp;
mod source;
mod spool;
mod structured;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::databases::Databases;
use super::diag::{Diagnostic, SourceText, Subject};
use super::model::*;
use super::raw::{RawCsv, RawParquet};
use super::{RawConfig, RawDestination, RawNamed, RawReportParts, RawSource};
use crate::config::names::{check_identifier, FileNameTemplate};

pub struct Checker<'a> {
    src: &'a SourceText<'a>,
    base_dir: PathBuf,
    pub errors: Vec<Diagnostic>,
    /// Problems that do not stop the configuration from loading (an old spelling of a
    /// value): every command that loads it prints them on stderr.
    pub warnings: Vec<Diagnostic>,
    allow_plain_secrets: bool,
    /// `[settings]` is in the file but could not be read (its errors are recorded):
    /// what depends on it (`[settings.smtp]`) is not reported missing.
    settings_unreadable: bool,
    /// Also check what a run will need from the outside world: secrets resolvable,
    /// files present. `validate` asks for this; `plan` and `list` do not.
    pub preflight: bool,
    /// Under `validate`: the databases the configuration names, looked at through
    /// `validate`'s answers (`None`: not looked at).
    pub databases: Option<Box<dyn Databases>>,
}

/// From this many reports on, they are checked on two threads.
const PARALLEL_REPORTS: usize = 2000;

/// What reports may refer to: the sources declared (and those that checked out), and
/// the destinations declared.
struct References<'r> {
    sources: (&'r BTreeSet<String>, &'r BTreeMap<String, Source>),
    destinations: (&'r BTreeSet<String>, &'r BTreeMap<String, Destination>),
}

/// Settings as the reports see them: checked values plus the defaults reports inherit.
pub(crate) struct Defaults {
    settings: Settings,
    file_name: FileNameTemplate,
    date_format: String,
    csv: Option<Spanned<RawCsv>>,
    parquet: Option<Spanned<RawParquet>>,
}

/// The layers of a kind of file options, lowest first: `[settings.KIND]` (its problems
/// told of the settings), then the report's own `[reports.KIND]`.
fn option_layers<'r, T>(
    settings: Option<&'r Spanned<T>>,
    report: Option<&'r Spanned<T>>,
    subject: &Subject,
) -> impl Iterator<Item = (&'r T, Subject)> {
    let layers = [
        settings.map(|c| (c.get_ref(), Subject::Settings)),
        report.map(|c| (c.get_ref(), subject.clone())),
    ];
    layers.into_iter().flatten()
}

impl<'a> Checker<'a> {
    pub fn new(src: &'a SourceText<'a>, base_dir: PathBuf) -> Self {
        Checker {
            src,
            base_dir,
            errors: Vec::new(),
            warnings: Vec::new(),
            allow_plain_secrets: false,
            settings_unreadable: false,
            preflight: false,
            databases: None,
        }
    }

    pub fn config(&mut self, mut raw: RawConfig) -> Option<Config> {
        self.pickup_rules(&raw);
        let spool_span = raw
            .settings
            .as_ref()
            .and_then(|s| s.get_ref().spool.as_ref())
            .map(Spanned::span);
        self.settings_unreadable = raw.settings_unreadable;
        let smtp_given = raw
            .settings
            .as_ref()
            .is_some_and(|s| s.get_ref().smtp.is_some());
        let defaults = self.settings(raw.settings);
        // A [settings.smtp] with problems of its own (reported there) is not also "no SMTP
        // server" at every email destination and notify list.
        self.settings_unreadable |= smtp_given && defaults.settings.smtp.is_none();
        let serve = raw.serve.as_ref().map(|s| self.serve(s));
        // Reports may name a source or destination that has problems of its own: those
        // are reported once, at the source or destination, not again at every report.
        let declared_sources: BTreeSet<String> = raw
            .sources
            .iter()
            .map(|s| s.name.get_ref().clone())
            .chain(std::mem::take(&mut raw.unreadable_sources))
            .collect();
        let declared_destinations: BTreeSet<String> = raw
            .destinations
            .iter()
            .map(|d| d.name.get_ref().clone())
            .chain(std::mem::take(&mut raw.unreadable_destinations))
            .collect();
        let sources = self.sources(raw.sources);
        let destinations = self.destinations(raw.destinations, &defaults.settings);
        self.spool_placement(spool_span, &defaults.settings, &destinations);
        self.unique_report_names(&raw.reports);
        self.link_rules(&raw.reports, &destinations);
        let refs = References {
            sources: (&declared_sources, &sources),
            destinations: (&declared_destinations, &destinations),
        };
        let reports = self.reports(raw.reports, &defaults, &refs);
        if raw.incomplete || matches!(serve, Some(None)) {
            return None;
        }
        Some(Config {
            path: self.src.path.to_path_buf(),
            settings: defaults.settings,
            sources,
            destinations,
            reports,
            serve: serve.flatten(),
            warnings: Vec::new(),
        })
    }

    /// Checks each `[sources.NAME]`; the ones without errors, by name.
    fn sources(&mut self, raw: Vec<RawNamed<RawSource>>) -> BTreeMap<String, Source> {
        let what = ("source name", Subject::Source as fn(String) -> Subject);
        self.named(raw, what, |c, name, value, subject, span| {
            let limit = value.max_concurrent_queries();
            let max_concurrent_queries = c.at_most(limit, subject, "max_concurrent_queries");
            let kind = c.source(value, subject, span)?;
            Some(Source {
                name,
                kind,
                max_concurrent_queries,
            })
        })
    }

    /// Checks each `[destinations.NAME]`; the ones without errors, by name.
    fn destinations(
        &mut self,
        raw: Vec<RawNamed<RawDestination>>,
        settings: &Settings,
    ) -> BTreeMap<String, Destination> {
        let what = (
            "destination name",
            Subject::Destination as fn(String) -> Subject,
        );
        self.named(raw, what, |c, name, value, subject, span| {
            let max_concurrent = c.at_most(value.max_concurrent(), subject, "max_concurrent");
            let kind = c.destination(value, subject, span, settings)?;
            Some(Destination {
                name,
                kind,
                max_concurrent,
            })
        })
    }

    /// Checks each named table of a kind (`what`: the kind of name, and the subject of
    /// a table's problems) with `check`, after its name; the ones without errors, by name.
    fn named<R, T>(
        &mut self,
        raw: Vec<RawNamed<R>>,
        (what, subject_of): (&str, fn(String) -> Subject),
        mut check: impl FnMut(&mut Self, String, R, &Subject, Range<usize>) -> Option<T>,
    ) -> BTreeMap<String, T> {
        let mut checked = BTreeMap::new();
        for RawNamed { name, span, value } in raw {
            let subject = subject_of(name.get_ref().clone());
            if let Err(e) = check_identifier(what, name.get_ref()) {
                self.err(name.span(), &subject, "", e);
            }
            let name = name.into_inner();
            if let Some(t) = check(self, name.clone(), value, &subject, span) {
                checked.insert(name, t);
            }
        }
        checked
    }

    /// Checks each report. Thousands of them are checked on two threads, each with
    /// its own checker (errors and the caches of `validate`), in configuration order.
    fn reports(
        &mut self,
        mut parts: Vec<RawReportParts>,
        defaults: &Defaults,
        refs: &References<'_>,
    ) -> Vec<Report> {
        let mut reports: Vec<Report> = Vec::with_capacity(parts.len());
        let tail = (parts.len() >= PARALLEL_REPORTS).then(|| parts.split_off(parts.len() / 2));
        std::thread::scope(|scope| {
            let tail = tail.map(|tail| {
                let mut worker = self.worker();
                scope.spawn(move || {
                    let checked: Vec<Report> = tail
                        .into_iter()
                        .filter_map(|p| worker.report(p, defaults, refs.sources, refs.destinations))
                        .collect();
                    (checked, worker.errors, worker.warnings)
                })
            });
            for p in parts {
                if let Some(r) = self.report(p, defaults, refs.sources, refs.destinations) {
                    reports.push(r);
                }
            }
            if let Some(tail) = tail {
                let (checked, errors, warnings) =
                    tail.join().expect("the report checker does not panic");
                reports.extend(checked);
                self.errors.extend(errors);
                self.warnings.extend(warnings);
            }
        });
        reports
    }

    /// A checker for the same file and settings, with no errors or warnings and empty
    /// caches.
    fn worker(&self) -> Checker<'a> {
        let mut c = Checker::new(self.src, self.base_dir.clone());
        c.allow_plain_secrets = self.allow_plain_secrets;
        c.settings_unreadable = self.settings_unreadable;
        c.preflight = self.preflight;
        c.databases = self.databases.as_ref().map(|d| d.fork());
        c
    }

    // ----- reporting -----

    fn err(&mut self, span: Range<usize>, subject: &Subject, key: &str, msg: impl Into<String>) {
        let key = (!key.is_empty()).then(|| key.to_string());
        let d = self.src.diagnostic(Some(span), subject.clone(), key, msg);
        self.errors.push(d);
    }

    fn warn(&mut self, span: Range<usize>, subject: &Subject, key: &str, msg: impl Into<String>) {
        let key = (!key.is_empty()).then(|| key.to_string());
        let d = self.src.diagnostic(Some(span), subject.clone(), key, msg);
        self.warnings.push(d);
    }
}
