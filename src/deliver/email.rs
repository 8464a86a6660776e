//! The email destination: one mail per run to `to`, `cc` and `bcc`, with every file of
//! the run attached (base64, so they arrive byte for byte). When the files together are
//! larger than `max_attachment_mb`, the mail carries download links from an S3
//! destination of the same report instead; with no such link the delivery fails and
//! says so. A mail is never sent empty: it always has a body and either the files or
//! their links. With `preview_rows` above 0 (the default) the body is
//! multipart/alternative: the same text, and an HTML part with the summary and the
//! first rows of each file (`email_html`).

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, MultiPart, SinglePart};
use lettre::Message;

use super::{smtp, Delivered, Delivery};
use crate::config::limits::DEFAULT_BODY;
use crate::config::{EmailDest, Report, Smtp};
use crate::ledger::{FileRecord, Link};
use crate::render::naming::content_type;
use crate::schedule::Window;
use crate::template::{Template, MAIL_VARS};

/// What a `send-test` run's mail subject starts with.
pub const TEST_SUBJECT: &str = "[TEST] ";

pub fn deliver(dest: &EmailDest, d: &Delivery<'_>) -> Result<Delivered> {
    let server = server_of(dest, d)?;
    let facts = Facts::of(d);
    let subject = facts.fill(&dest.subject);
    let subject = if d.test {
        format!("{TEST_SUBJECT}{subject}")
    } else {
        subject
    };
    let mut body = facts.fill(&dest.body);
    if body.trim().is_empty() {
        body = facts.render(DEFAULT_BODY)?;
    }
    let total: u64 = d.files.iter().map(|f| f.bytes).sum();
    let attach = total <= dest.max_attachment_bytes;
    let links = if attach {
        Vec::new()
    } else {
        let links = links_instead(dest, d, total)?;
        body.push_str(&links_text(&links, total, dest.max_attachment_bytes));
        links
    };

    let mut builder = Message::builder()
        .from(smtp::mailbox(sender(dest, server)?)?)
        .subject(subject);
    builder = addressed(builder, dest)?;
    let mut parts = if dest.preview_rows == 0 {
        MultiPart::mixed().singlepart(SinglePart::plain(body))
    } else {
        let head = super::email_html::Head {
            report: &d.report.name,
            window: facts.value("window"),
            run_at: facts.value("run_at"),
        };
        let rows = dest.preview_rows as usize;
        let html = super::email_html::html(&head, d.files, (rows, d.spool), &links);
        MultiPart::mixed().multipart(MultiPart::alternative_plain_html(body, html))
    };
    if attach {
        parts = attach_files(parts, d)?;
    }
    let message = builder
        .multipart(parts)
        .map_err(|e| anyhow!("composing the mail: {e}"))?;
    smtp::send(server, &message)?;

    let detail = detail(dest, d, attach, (links.len(), total));
    Ok(Delivered {
        detail,
        links: Vec::new(),
    })
}

/// `builder` with the destination's `to`, `cc` and `bcc` addresses.
fn addressed(
    mut builder: lettre::message::MessageBuilder,
    dest: &EmailDest,
) -> Result<lettre::message::MessageBuilder> {
    for a in &dest.to {
        builder = builder.to(smtp::mailbox(a)?);
    }
    for a in &dest.cc {
        builder = builder.cc(smtp::mailbox(a)?);
    }
    for a in &dest.bcc {
        builder = builder.bcc(smtp::mailbox(a)?);
    }
    Ok(builder)
}

/// What a sent mail carried, for the run's record: the files attached, or `links`
/// download links instead of `total` bytes of files; and to how many recipients.
fn detail(
    dest: &EmailDest,
    d: &Delivery<'_>,
    attach: bool,
    (links, total): (usize, u64),
) -> String {
    let recipients = dest.to.len() + dest.cc.len() + dest.bcc.len();
    if attach {
        format!(
            "{} attached, to {}",
            crate::ui::count(d.files.len() as u64, "file", "files"),
            crate::ui::count(recipients as u64, "recipient", "recipients")
        )
    } else {
        format!(
            "download links to {} ({} is too large to attach), to {}",
            crate::ui::count(links as u64, "file", "files"),
            super::human_bytes(total),
            crate::ui::count(recipients as u64, "recipient", "recipients")
        )
    }
}

/// Download links to the run's files, for a mail whose attachments would total
/// `total` bytes, above the destination's limit: an error when no S3 destination of
/// the report has them.
fn links_instead(dest: &EmailDest, d: &Delivery<'_>, total: u64) -> Result<Vec<Link>> {
    let links = super::download_links(d.config, d.report, d.delivered, d.files)?;
    if links.is_empty() {
        bail!(
            "the files total {}, above max_attachment_mb ({}), and no S3 destination of report \"{}\" has uploaded them, so there is no download link to send instead; add an s3 destination to the report's destinations (it is delivered before mail) or raise max_attachment_mb",
            super::human_bytes(total),
            super::human_bytes(dest.max_attachment_bytes),
            d.report.name
        );
    }
    Ok(links)
}

/// `parts` with each of the run's files from the spool attached.
fn attach_files(mut parts: MultiPart, d: &Delivery<'_>) -> Result<MultiPart> {
    for f in d.files {
        let path = d.spool.join(&f.name);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let content_type = ContentType::parse(content_type(&f.name))
            .map_err(|e| anyhow!("content type of {}: {e}", f.name))?;
        let body = Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
            .map_err(|_| anyhow!("encoding {}", f.name))?;
        parts = parts.singlepart(Attachment::new(f.name.clone()).body(body, content_type));
    }
    Ok(parts)
}

/// The destination's own SMTP server, else `[settings.smtp]` (checking guarantees one).
fn server_of<'c>(dest: &'c EmailDest, d: &Delivery<'c>) -> Result<&'c Smtp> {
    dest.smtp
        .as_ref()
        .or(d.config.settings.smtp.as_ref())
        .ok_or_else(|| {
            anyhow!("no SMTP server: add `smtp` to the destination or a [settings.smtp] table")
        })
}

fn sender<'c>(dest: &'c EmailDest, server: &'c Smtp) -> Result<&'c str> {
    dest.from
        .as_deref()
        .or(server.from.as_deref())
        .ok_or_else(|| {
            anyhow!("no sender address: add `from` to the destination or the SMTP settings")
        })
}

/// The part of the body that replaces attachments that are too large.
pub fn links_text(links: &[Link], total: u64, limit: u64) -> String {
    let mut s = format!(
        "\nThe files ({}) are larger than the attachment limit ({}). Download them here:\n\n",
        super::human_bytes(total),
        super::human_bytes(limit)
    );
    for l in links {
        s.push_str(&format!(
            "{}\n{}\n(valid until {})\n\n",
            l.file,
            l.url,
            l.expires.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    s
}

/// What a mail says about a run: the values of the `{placeholders}` of mail subjects
/// and bodies.
pub struct Facts<'a> {
    pub report: &'a Report,
    pub window: &'a Window,
    pub run_at: DateTime<Utc>,
    pub token: &'a str,
    pub files: &'a [FileRecord],
    pub status: &'a str,
}

impl<'a> Facts<'a> {
    /// The facts of a delivery (a completed run's).
    pub fn of(d: &Delivery<'a>) -> Self {
        Facts {
            report: d.report,
            window: d.window,
            run_at: d.run_at,
            token: d.token,
            files: d.files,
            status: "completed",
        }
    }

    pub fn render(&self, template: &str) -> Result<String> {
        let t = Template::parse(template, MAIL_VARS).map_err(|e| anyhow!(e))?;
        Ok(self.fill(&t))
    }

    /// A template parsed with `MAIL_VARS` (as the configuration's subject and body are)
    /// filled in with these facts.
    pub fn fill(&self, template: &Template) -> String {
        template.render(|i| self.value(MAIL_VARS[i]))
    }

    /// The value of placeholder `var` (one of `MAIL_VARS`).
    pub fn value(&self, var: &str) -> String {
        let tz = self.report.timezone;
        let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        match var {
            "name" => self.report.name.clone(),
            "types" => {
                let mut kinds: Vec<&str> = self
                    .report
                    .outputs
                    .iter()
                    .map(|o| o.kind.as_str())
                    .collect();
                kinds.dedup();
                kinds.join(", ")
            }
            "from" => day(self.window.first_day()),
            "to" => day(self.window.last_day()),
            "window" => format!(
                "{} to {} ({tz})",
                self.window.from.format("%Y-%m-%d %H:%M"),
                self.window.to.format("%Y-%m-%d %H:%M")
            ),
            "run_at" => self
                .run_at
                .with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "rows" => self.files.iter().map(|f| f.rows).sum::<u64>().to_string(),
            "files" => self
                .files
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            "token" => self.token.to_string(),
            "status" => self.status.to_string(),
            other => unreachable!("placeholder {other} is in MAIL_VARS but has no value"),
        }
    }
}
