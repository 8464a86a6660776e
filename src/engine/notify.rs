//! Notify mails (a report's `notify` addresses): after each scheduled run, success or failure, a
//! short mail through `[settings.smtp]` to the report's `notify` addresses with the
//! window, the files and their row counts, download links, and how each destination
//! went (with the error detail of those that failed). A notify mail that cannot be sent
//! does not fail the run; the caller records it in the run's detail.

use anyhow::{anyhow, Result};
use lettre::Message;

use crate::config::{Config, Report};
use crate::deliver::email::Facts;
use crate::deliver::{self, smtp};
use crate::ledger::{ReceiptStatus, RunRecord};
use crate::schedule::Window;

/// Sends the notify mail of `run` like `send`; when it cannot be sent, warns on stderr
/// and returns the note for the run's detail (`Notification failed: …`, redacted).
pub fn send_or_warn(
    config: &Config,
    report: &Report,
    run: &RunRecord,
    ok: bool,
    detail: &str,
) -> Option<String> {
    let e = send(config, report, run, ok, detail).err()?;
    let note = crate::redact::text(&format!("Notification failed: {e:#}"));
    crate::ui::warn(format!(
        "report \"{}\" [{}]: {note}",
        report.name, run.token
    ));
    Some(note)
}

/// Sends the notify mail of `run` (as recorded so far); `ok` and `detail` say how it
/// ended.
pub fn send(
    config: &Config,
    report: &Report,
    run: &RunRecord,
    ok: bool,
    detail: &str,
) -> Result<()> {
    let server = config
        .settings
        .smtp
        .as_ref()
        .ok_or_else(|| anyhow!("no [settings.smtp] to send notify mails through"))?;
    let from = server
        .from
        .as_deref()
        .ok_or_else(|| anyhow!("[settings.smtp] has no `from` address for notify mails"))?;
    let status = if ok { "completed" } else { "failed" };
    let window = Window::in_zone(run.window_from, run.window_to, report.timezone);
    let facts = Facts {
        report,
        window: &window,
        run_at: run.run_at,
        token: &run.token,
        files: &run.files,
        status,
    };
    let subject = facts.render("[reportctl] {name} {from} to {to}: {status}")?;
    let body = body(config, report, run, &facts, detail)?;
    let mut builder = Message::builder()
        .from(smtp::mailbox(from)?)
        .subject(subject);
    for a in &report.notify {
        builder = builder.to(smtp::mailbox(a)?);
    }
    let message = builder
        .body(body)
        .map_err(|e| anyhow!("composing the notify mail: {e}"))?;
    smtp::send(server, &message)
}

fn body(
    config: &Config,
    report: &Report,
    run: &RunRecord,
    facts: &Facts<'_>,
    detail: &str,
) -> Result<String> {
    let mut s = facts.render(
        "Report:  {name}\nStatus:  {status}\nWindow:  {window}\nRun at:  {run_at}\nToken:   {token}\n",
    )?;
    if !detail.is_empty() {
        s.push_str(&format!("Detail:  {detail}\n"));
    }
    if !run.files.is_empty() {
        s.push_str("\nFiles:\n");
        for f in &run.files {
            s.push_str(&format!(
                "  {}: {} rows, {}\n",
                f.name,
                f.rows,
                deliver::human_bytes(f.bytes)
            ));
        }
    }
    if !run.receipts.is_empty() {
        s.push_str("\nDestinations:\n");
        for r in &run.receipts {
            let kind = config
                .destinations
                .get(&r.destination)
                .map_or("", |d| d.kind.kind_name());
            s.push_str(&format!(
                "  {} ({kind}): {}: {}\n",
                r.destination, r.status, r.detail
            ));
        }
    }
    let delivered: Vec<String> = run
        .receipts
        .iter()
        .filter(|r| r.status == ReceiptStatus::Delivered)
        .map(|r| r.destination.clone())
        .collect();
    match deliver::download_links(config, report, &delivered, &run.files) {
        Ok(links) if !links.is_empty() => {
            s.push_str("\nDownload links:\n");
            for l in &links {
                s.push_str(&format!(
                    "  {}\n  {}\n  (valid until {})\n",
                    l.file,
                    l.url,
                    l.expires.format("%Y-%m-%d %H:%M UTC")
                ));
            }
        }
        Ok(_) => {}
        Err(e) => s.push_str(&format!("\nDownload links: unavailable ({e:#})\n")),
    }
    Ok(s)
}
