//! Checking the pickup API: `[serve]`, pickup destinations, and the rules that tie
//! reports, pickup destinations and the apps of the app download endpoint together.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use super::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::names::pickup_id;
use crate::config::names::{check_identifier, check_report_name};
use crate::config::raw::RawServe;
use crate::config::{RawConfig, RawDestination};

/// The numbers of `[serve]`, checked.
struct ServeLimits {
    link_minutes: u32,
    request_timeout: Duration,
    max_request_bytes: usize,
    max_connections: usize,
    max_connections_per_client: usize,
    send_timeout: Duration,
    idle_timeout: Duration,
    shutdown_grace: Duration,
}

impl Checker<'_> {
    pub(crate) fn serve(&mut self, raw: &Spanned<RawServe>) -> Option<Serve> {
        let span = raw.span();
        let r = raw.get_ref();
        let s = &Subject::File;
        let before = self.errors.len();
        let listen = self.listen(r);
        let public_url = self.public_url(r);
        let api_key = self.required_secret(
            &r.api_key,
            &Subject::File,
            "serve.api_key",
            &span,
            "the key clients send to GET /reports",
        );
        let link_secret = self.required_secret(
            &r.link_secret,
            &Subject::File,
            "serve.link_secret",
            &span,
            "the key download links are signed with",
        );
        if let (true, Some(secret), Some(v)) = (self.preflight, &link_secret, &r.link_secret) {
            if let Ok(value) = secret.resolve() {
                if value.expose().len() < MIN_LINK_SECRET {
                    self.err(
                        v.span(),
                        s,
                        "serve.link_secret",
                        format!("the secret is {} bytes long; at least {MIN_LINK_SECRET} are needed (e.g. `openssl rand -hex 32`)", value.expose().len()),
                    );
                }
            }
        }
        let limits = self.serve_limits(r);
        let apps = self.apps(r);
        if self.errors.len() > before {
            return None;
        }
        Some(Serve {
            listen: listen?,
            public_url,
            api_key: api_key?,
            link_secret: link_secret?,
            link_minutes: limits.link_minutes,
            request_timeout: limits.request_timeout,
            max_request_bytes: limits.max_request_bytes,
            max_connections: limits.max_connections,
            max_connections_per_client: limits.max_connections_per_client,
            send_timeout: limits.send_timeout,
            idle_timeout: limits.idle_timeout,
            shutdown_grace: limits.shutdown_grace,
            apps,
        })
    }

    fn listen(&mut self, r: &RawServe) -> Option<SocketAddr> {
        let s = &Subject::File;
        match &r.listen {
            None => Some(SocketAddr::from(limits::DEFAULT_LISTEN)),
            Some(v) => match v.get_ref().parse() {
                Ok(a) => Some(a),
                Err(_) => {
                    self.err(
                        v.span(),
                        s,
                        "serve.listen",
                        format!(
                            "\"{}\" is not an IP address and port; write e.g. \"127.0.0.1:8080\" or \"[::]:8080\"",
                            v.get_ref().escape_default()
                        ),
                    );
                    None
                }
            },
        }
    }

    /// The URL clients reach the server at, without a trailing `/`.
    fn public_url(&mut self, r: &RawServe) -> Option<String> {
        let s = &Subject::File;
        r.public_url.as_ref().and_then(|v| {
            let u = v.get_ref().trim_end_matches('/');
            let ok = (u.starts_with("http://") || u.starts_with("https://"))
                && u.split_once("://").is_some_and(|(_, rest)| {
                    !rest.is_empty() && !rest.starts_with('/')
                })
                && !u.contains(['?', '#', ' '])
                && !u.chars().any(char::is_control);
            if ok {
                Some(u.to_string())
            } else {
                self.err(
                    v.span(),
                    s,
                    "serve.public_url",
                    "expected the URL clients reach the server at, such as https://reports.example.com or https://example.com/reports (no query)",
                );
                None
            }
        })
    }

    /// The link lifetime, timeouts and connection limits of `[serve]`.
    fn serve_limits(&mut self, r: &RawServe) -> ServeLimits {
        let s = &Subject::File;
        let link_minutes = self.limit(
            &r.link_minutes,
            s,
            "serve.link_minutes",
            limits::SERVE_LINK_MINUTES,
        ) as u32;
        let request_timeout = self.duration(
            &r.request_timeout_seconds,
            s,
            "serve.request_timeout_seconds",
            limits::SERVE_REQUEST_TIMEOUT,
        );
        let max_request_bytes = self.limit(
            &r.max_request_bytes,
            s,
            "serve.max_request_bytes",
            limits::SERVE_MAX_REQUEST_BYTES,
        ) as usize;
        let max_connections = self.limit(
            &r.max_connections,
            s,
            "serve.max_connections",
            limits::SERVE_MAX_CONNECTIONS,
        ) as usize;
        let max_connections_per_client = self.limit(
            &r.max_connections_per_client,
            s,
            "serve.max_connections_per_client",
            limits::SERVE_MAX_CONNECTIONS_PER_CLIENT,
        ) as usize;
        let send_timeout = self.duration(
            &r.send_timeout_seconds,
            s,
            "serve.send_timeout_seconds",
            limits::SERVE_SEND_TIMEOUT,
        );
        let idle_timeout = self.duration(
            &r.idle_timeout_seconds,
            s,
            "serve.idle_timeout_seconds",
            limits::SERVE_IDLE_TIMEOUT,
        );
        let shutdown_grace = self.duration(
            &r.shutdown_grace_seconds,
            s,
            "serve.shutdown_grace_seconds",
            limits::SERVE_SHUTDOWN_GRACE,
        );
        ServeLimits {
            link_minutes,
            request_timeout,
            max_request_bytes,
            max_connections,
            max_connections_per_client,
            send_timeout,
            idle_timeout,
            shutdown_grace,
        }
    }

    /// `[serve.apps.ID]`: the apps of the app download endpoint.
    fn apps(&mut self, r: &RawServe) -> BTreeMap<String, App> {
        let s = &Subject::File;
        let mut apps = BTreeMap::new();
        if let Some(list) = &r.apps {
            for (id, app) in list.get_ref() {
                let key = |k: &str| format!("serve.apps.{}.{k}", id.get_ref());
                if let Err(e) = check_identifier("app id", id.get_ref()) {
                    self.err(id.span(), s, &format!("serve.apps.{}", id.get_ref()), e);
                }
                let a = app.get_ref();
                let api_key = self.required_secret(
                    &a.api_key,
                    &Subject::File,
                    &key("api_key"),
                    &app.span(),
                    "the password of the app's Basic authentication",
                );
                let signature_secret = self.required_secret(
                    &a.signature_secret,
                    &Subject::File,
                    &key("signature_secret"),
                    &app.span(),
                    "the secret key of the app's Signature header",
                );
                if let (Some(api_key), Some(signature_secret)) = (api_key, signature_secret) {
                    apps.insert(
                        id.get_ref().clone(),
                        App {
                            id: id.get_ref().clone(),
                            api_key,
                            signature_secret,
                        },
                    );
                }
            }
        }
        apps
    }

    /// Rules across tables, checked on the raw configuration: a report is served from
    /// at most one pickup destination; reports served by pickup have distinct ids (the
    /// name with spaces as underscores, which also starts their dated zips' names); an
    /// `app_id` names a `[serve.apps.ID]` table.
    pub(crate) fn pickup_rules(&mut self, raw: &RawConfig) {
        let pickups = self.pickup_apps(raw);
        if !pickups.is_empty() {
            self.pickup_reports(raw, &pickups);
        }
    }

    /// The names of the pickup destinations; each `app_id` names a `[serve.apps.ID]`.
    fn pickup_apps<'r>(&mut self, raw: &'r RawConfig) -> BTreeSet<&'r str> {
        let mut pickups: BTreeSet<&str> = BTreeSet::new();
        let apps: Option<BTreeSet<&str>> = raw.serve.as_ref().map(|sv| {
            sv.get_ref().apps.as_ref().map_or_else(BTreeSet::new, |a| {
                a.get_ref().keys().map(|k| k.get_ref().as_str()).collect()
            })
        });
        for d in &raw.destinations {
            let RawDestination::Pickup(p) = &d.value else {
                continue;
            };
            pickups.insert(d.name.get_ref());
            let Some(app) = &p.app_id else { continue };
            if raw.serve.is_none() && raw.incomplete {
                // [serve] may be there but unreadable: its own error says why.
                continue;
            }
            let known = apps
                .as_ref()
                .is_some_and(|a| a.contains(app.get_ref().as_str()));
            if !known {
                let subject = Subject::Destination(d.name.get_ref().clone());
                let defined = apps
                    .as_ref()
                    .map(|a| a.iter().copied().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                let msg = if defined.is_empty() {
                    format!(
                        "unknown app \"{}\"; no apps are defined: add a [serve.apps.{}] table",
                        app.get_ref(),
                        app.get_ref()
                    )
                } else {
                    format!("unknown app \"{}\"; defined: {defined}", app.get_ref())
                };
                self.err(app.span(), &subject, "app_id", msg);
            }
        }
        pickups
    }

    /// A report is served from one pickup destination, under an id no other report has.
    fn pickup_reports(&mut self, raw: &RawConfig, pickups: &BTreeSet<&str>) {
        let mut ids: Vec<(String, String)> = Vec::new();
        for parts in &raw.reports {
            let Some(report) = &parts.report else {
                continue;
            };
            let Some(list) = &report.destinations else {
                continue;
            };
            let served: Vec<&Spanned<String>> = list
                .get_ref()
                .iter()
                .filter(|d| pickups.contains(d.get_ref().as_str()))
                .collect();
            if let [first, second, ..] = served.as_slice() {
                if first.get_ref() != second.get_ref() {
                    self.err(
                        second.span(),
                        &parts.subject,
                        "destinations",
                        format!(
                            "\"{}\" and \"{}\" are both pickup destinations; a report is served from one pickup store",
                            first.get_ref(),
                            second.get_ref()
                        ),
                    );
                }
            }
            let Some(name) = &report.name else { continue };
            if served.is_empty() || check_report_name(name.get_ref()).is_err() {
                continue;
            }
            let id = pickup_id(name.get_ref());
            match ids.iter().find(|(k, _)| *k == id.to_lowercase()) {
                Some((_, other)) if other.to_lowercase() != name.get_ref().to_lowercase() => {
                    self.err(
                        name.span(),
                        &parts.subject,
                        "name",
                        format!("its pickup id \"{id}\" (the name with spaces as underscores) is already used by report \"{other}\"; rename one of them"),
                    );
                }
                Some(_) => {}
                None => ids.push((id.to_lowercase(), name.get_ref().clone())),
            }
        }
    }
}
