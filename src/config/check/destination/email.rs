//! Checking a `kind = "email"` destination: recipients, the SMTP server (its own or
//! `[settings.smtp]`), the sender, the subject and body templates and the attachment limit.

use std::ops::Range;

use toml::Spanned;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::{Number, RawEmailDest};
use crate::template::{Template, MAIL_VARS};

impl Checker<'_> {
    pub(super) fn email_dest(
        &mut self,
        r: &RawEmailDest,
        s: &Subject,
        span: &Range<usize>,
        settings: &Settings,
    ) -> DestinationKind {
        let to = self.mailboxes(&r.to, s, "to");
        if r.to.as_ref().is_none_or(|t| t.get_ref().is_empty()) {
            let at = r.to.as_ref().map_or(span.clone(), |t| t.span());
            self.err(
                at,
                s,
                "to",
                "an email destination needs at least one address in `to`",
            );
        }
        let smtp = r.smtp.as_ref().and_then(|m| self.smtp(m, s, "smtp"));
        let from = r.from.as_ref().and_then(|f| self.mailbox(f, s, "from"));
        let server = smtp.as_ref().or(settings.smtp.as_ref());
        match server {
            None if r.smtp.is_none() && !self.settings_unreadable => self.err(
                span.clone(),
                s,
                "smtp",
                "no SMTP server: add `smtp = { host = … }` here or a [settings.smtp] table",
            ),
            Some(m) if from.is_none() && m.from.is_none() => self.err(
                span.clone(),
                s,
                "from",
                "no sender address: add `from` here or to the SMTP settings",
            ),
            _ => {}
        }
        let mut template = |v: &Option<Spanned<String>>, key: &str, default: &str| {
            let text = v
                .as_ref()
                .map_or(default, |x| x.get_ref().as_str())
                .to_string();
            Template::parse(&text, MAIL_VARS).unwrap_or_else(|e| {
                let at = v.as_ref().map_or(span.clone(), |x| x.span());
                self.err(at, s, key, e);
                Template::default()
            })
        };
        let subject = template(&r.subject, "subject", limits::DEFAULT_SUBJECT);
        let body = template(&r.body, "body", limits::DEFAULT_BODY);
        let max_mb = self.attachment_mb(&r.max_attachment_mb, s);
        DestinationKind::Email(EmailDest {
            to,
            cc: self.mailboxes(&r.cc, s, "cc"),
            bcc: self.mailboxes(&r.bcc, s, "bcc"),
            from,
            subject,
            body,
            max_attachment_bytes: (max_mb * 1024.0 * 1024.0) as u64,
            preview_rows: self.limit(&r.preview_rows, s, "preview_rows", limits::PREVIEW_ROWS)
                as u32,
            smtp,
        })
    }

    /// `max_attachment_mb`: more than 0 up to the limit; the default when not given.
    fn attachment_mb(&mut self, v: &Option<Spanned<Number>>, s: &Subject) -> f64 {
        match v {
            None => limits::DEFAULT_ATTACHMENT_MB,
            Some(v)
                if v.get_ref().get() > 0.0 && v.get_ref().get() <= limits::MAX_ATTACHMENT_MB =>
            {
                v.get_ref().get()
            }
            Some(v) => {
                self.err(
                    v.span(),
                    s,
                    "max_attachment_mb",
                    format!(
                        "{} is out of range; allowed: more than 0 up to {} (MB)",
                        v.get_ref().get(),
                        limits::MAX_ATTACHMENT_MB
                    ),
                );
                limits::DEFAULT_ATTACHMENT_MB
            }
        }
    }
}
