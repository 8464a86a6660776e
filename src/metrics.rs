//! Prometheus metrics: the text exposition format (version 0.0.4) that `run-due` writes
//! to `[settings] metrics_file` after every call (for node_exporter's textfile
//! collector) and `serve` answers on `GET /metrics`. The figures come from the ledger
//! (`ledger::metrics`), so both show the same; the delivery counters live there too,
//! so they never go down.
//!
//! The file is written like every file reportctl makes (hidden temporary name in the
//! same directory, fsync, rename), but readable by all (0644): the collector usually
//! runs as another user, and the file holds report and destination names and figures,
//! no customer data.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::ledger::metrics::{Figures, ReportFigures, RunDueFigures, ENDED, OUTCOMES};
use crate::ledger::Ledger;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value as the text format wants it: backslash, double quote and line feed
/// escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family: its HELP and TYPE lines, then its samples.
struct Family {
    text: String,
    samples: usize,
}

impl Family {
    fn new(name: &str, kind: &str, help: &str) -> Self {
        Family {
            text: format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"),
            samples: 0,
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.samples += 1;
        self.text.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// Builds the families in order; a family without samples is left out.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        fill: impl FnOnce(&mut dyn FnMut(&[(&str, &str)], String)),
    ) {
        let mut f = Family::new(name, kind, help);
        fill(&mut |labels, value| f.sample(name, labels, value));
        if f.samples > 0 {
            self.0.push_str(&f.text);
        }
    }
}

fn unix(t: DateTime<Utc>) -> String {
    format!("{:.3}", t.timestamp_millis() as f64 / 1000.0)
}

fn seconds(d: chrono::Duration) -> String {
    format!("{:.3}", d.num_milliseconds().max(0) as f64 / 1000.0)
}

/// The exposition of `figures` about `config`'s reports (in the order `figures`
/// holds them) and destinations.
pub fn render(config: &Config, figures: &Figures) -> String {
    let mut e = Exposition::default();
    report_families(&mut e, config, figures);
    delivery_family(&mut e, config, figures);
    not_sent_family(&mut e, config, figures);
    if let Some(r) = &figures.run_due {
        run_due_families(&mut e, r);
    }
    e.0
}

type Reports<'a> = [(&'a crate::config::Report, &'a ReportFigures)];

/// A gauge with one sample per report that `value` has one for.
fn per_report(
    e: &mut Exposition,
    reports: &Reports<'_>,
    name: &str,
    help: &str,
    value: impl Fn(&ReportFigures) -> Option<String>,
) {
    e.family(name, "gauge", help, |s| {
        for (r, f) in reports {
            if let Some(v) = value(f) {
                s(&[("report", &r.name)], v);
            }
        }
    });
}

fn report_families(e: &mut Exposition, config: &Config, figures: &Figures) {
    let reports: Vec<_> = config.reports.iter().zip(&figures.reports).collect();
    per_report(
        e,
        &reports,
        "reportctl_report_last_success_timestamp_seconds",
        "When the report's latest successful run finished (unix time; test runs aside).",
        |f| f.last_success.as_ref().map(|ok| unix(ok.finished_at)),
    );
    e.family(
        "reportctl_report_last_run_status",
        "gauge",
        "The status of the report's latest run that ended: 1 for its status, 0 for the others.",
        |s| {
            for (r, f) in &reports {
                let Some(last) = &f.last else { continue };
                for status in ENDED {
                    let on = u8::from(last.status == status).to_string();
                    s(&[("report", &r.name), ("status", status.name())], on);
                }
            }
        },
    );
    per_report(
        e,
        &reports,
        "reportctl_report_last_run_duration_seconds",
        "How long the report's latest run that ended took, from its last start to its end.",
        |f| {
            let last = f.last.as_ref()?;
            Some(seconds(last.finished_at? - last.started_at?))
        },
    );
    per_report(
        e,
        &reports,
        "reportctl_report_last_success_rows",
        "Rows in the files of the report's latest successful run.",
        |f| f.last_success.as_ref().map(|ok| ok.rows.to_string()),
    );
    per_report(
        e,
        &reports,
        "reportctl_report_last_success_bytes",
        "Bytes in the files of the report's latest successful run.",
        |f| f.last_success.as_ref().map(|ok| ok.bytes.to_string()),
    );
    // Reports with recipients: counts per report, never a label per recipient (their
    // number is unbounded: they come from a query). `check` names the failing ones.
    let bursting: Vec<_> = reports
        .iter()
        .filter(|(r, _)| r.recipients.is_some())
        .copied()
        .collect();
    per_report(
        e,
        &bursting,
        "reportctl_report_recipients",
        "Recipients of the report's latest recorded slot (one run each).",
        |f| Some(f.recipients.0.to_string()),
    );
    per_report(
        e,
        &bursting,
        "reportctl_report_recipients_failed",
        "Recipients whose run of the report's latest recorded slot failed (retrying or given up).",
        |f| Some(f.recipients.1.to_string()),
    );
}

fn delivery_family(e: &mut Exposition, config: &Config, figures: &Figures) {
    // Every configured destination starts at 0 for each outcome, so that a first
    // failure shows as an increase.
    let mut counts: std::collections::BTreeMap<(String, &str), u64> = config
        .destinations
        .keys()
        .flat_map(|d| OUTCOMES.iter().map(move |o| ((d.clone(), o.name()), 0)))
        .collect();
    for c in &figures.deliveries {
        counts.insert((c.destination.clone(), c.outcome.name()), c.count);
    }
    e.family(
        "reportctl_deliveries_total",
        "counter",
        "Delivery attempts per destination and outcome (delivered, failed), kept in the ledger.",
        |s| {
            for ((dest, outcome), n) in &counts {
                s(
                    &[("destination", dest), ("outcome", outcome)],
                    n.to_string(),
                );
            }
        },
    );
}

/// Runs completed without delivering (`send_empty = false`, `condition`): every
/// report that can have them starts at 0 for its reasons.
fn not_sent_family(e: &mut Exposition, config: &Config, figures: &Figures) {
    use crate::ledger::NotSent;
    let mut counts: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    for r in &config.reports {
        if !r.send_empty {
            counts.insert((&r.name, NotSent::Empty.name()), 0);
        }
        if r.condition.is_some() {
            counts.insert((&r.name, NotSent::ConditionFalse.name()), 0);
        }
    }
    for c in &figures.not_sent {
        if let Some(r) = config.report(&c.report) {
            counts.insert((&r.name, c.reason.name()), c.count);
        }
    }
    e.family(
        "reportctl_runs_not_sent_total",
        "counter",
        "Runs that completed without delivering, per report and reason (empty: no rows with send_empty = false; condition-false: the report's condition was false).",
        |s| {
            for ((report, reason), n) in &counts {
                s(&[("report", report), ("reason", reason)], n.to_string());
            }
        },
    );
}

fn run_due_families(e: &mut Exposition, r: &RunDueFigures) {
    let families = [
        (
            "reportctl_run_due_last_timestamp_seconds",
            "When the latest run-due call ended (unix time).",
            unix(r.finished_at),
        ),
        (
            "reportctl_run_due_duration_seconds",
            "How long the latest run-due call took.",
            format!("{:.3}", r.duration_seconds),
        ),
        (
            "reportctl_run_due_runs_claimed",
            "Runs the latest run-due call claimed and ran (with runs it found given up after their process died).",
            r.claimed.to_string(),
        ),
        (
            "reportctl_run_due_success",
            "1 when the latest run-due call ended without an error and every run went well, else 0.",
            u8::from(r.ok).to_string(),
        ),
    ];
    for (name, help, value) in families {
        e.family(name, "gauge", help, |s| s(&[], value));
    }
}

/// The exposition from the ledger; `this_call` (a `run-due` that just ended) stands in
/// for the figures the ledger kept of the last call.
pub fn from_ledger(
    config: &Config,
    ledger: &mut Ledger,
    this_call: Option<&RunDueFigures>,
) -> Result<String> {
    let names: Vec<&str> = config.reports.iter().map(|r| r.name.as_str()).collect();
    let mut figures = ledger.figures(&names)?;
    if let Some(r) = this_call {
        figures.run_due = Some(r.clone());
    }
    Ok(render(config, &figures))
}

/// Writes `text` to `path` atomically, readable by all (0644; see above).
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("metrics_file {} names no file", path.display()))?
        .to_string_lossy();
    let tmp = crate::fsutil::temp_name(dir, &name, &format!("metrics-{}", std::process::id()));
    // `commit` makes the directory durable: it needs one to name ("." for a bare name).
    let target = dir.join(&*name);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        crate::fsutil::commit(&tmp, &target)
    };
    write()
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::Error::new(e)
        })
        .with_context(|| format!("writing the metrics file {}", path.display()))
}

#[cfg(test)]
mod tests;
