//! The routes:
//!
//! - `GET /reports`, `GET /reports/{id}` (API key): the reports that have a pickup
//!   destination, each with a `links` array of `{type, url, expires, …}`;
//! - `GET /download/{id}/{type}?expires=…&sig=…`: a signed link, valid `link_minutes`;
//! - `GET /campaign_reports/rest_api/{app_id}/{filename}` (Basic auth + `Signature`):
//!   the app download endpoint, serving dated zips;
//! - `GET /metrics` (API key): Prometheus metrics (`metrics.rs`);
//! - `GET /healthz`.
//!
//! Nothing a client sends is joined to a path: ids and types are looked up among the
//! configured reports, and file names compared with what the store's index holds.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::auth::{self, LinkError};
use super::files::{current, file_response, latest, open_current};
use super::http::{encode_segment, error, unauthorized_empty, RequestId};
use super::{Served, Shared};
use crate::schedule::describe;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The API key check of `/reports`: the refusal, if refused.
pub(super) fn refused(state: &Shared, headers: &HeaderMap, rid: &RequestId) -> Option<Response> {
    let key = auth::api_key(
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        headers.get("x-api-key").map(HeaderValue::as_bytes),
    );
    match key {
        Some(k) if state.api_key.matches(k) => None,
        Some(_) => Some(error(
            StatusCode::UNAUTHORIZED,
            "api_key",
            "Invalid API key",
            rid,
            "wrong API key",
        )),
        None => Some(error(
            StatusCode::UNAUTHORIZED,
            "api_key",
            "Missing API key: send Authorization: Bearer KEY or X-API-Key: KEY",
            rid,
            "no API key",
        )),
    }
}

pub async fn list(
    State(state): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refused(&state, &headers, &rid) {
        return r;
    }
    let base = base_url(&state, &headers);
    let now = crate::clock::wall();
    let mut reports = Vec::with_capacity(state.reports.len());
    for s in &state.reports {
        reports.push(describe_report(&state, s, &base, now).await);
    }
    json_response(json!({ "reports": reports }))
}

pub async fn one(
    State(state): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    if let Some(r) = refused(&state, &headers, &rid) {
        return r;
    }
    let Some(s) = id.ok().and_then(|Path(id)| state.report(&id)) else {
        return error(
            StatusCode::NOT_FOUND,
            "reportId",
            "No report with this id is served",
            &rid,
            "unknown report",
        );
    };
    json_response(
        describe_report(&state, s, &base_url(&state, &headers), crate::clock::wall()).await,
    )
}

fn json_response(v: Value) -> Response {
    let mut resp = axum::Json(v).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Where links point: `public_url`, else the Host the client used, else the listening
/// address.
fn base_url(state: &Shared, headers: &HeaderMap) -> String {
    if let Some(u) = &state.public_url {
        return u.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(h) => format!("http://{h}"),
        None => state.local_url.clone(),
    }
}

async fn describe_report(state: &Shared, s: &Served, base: &str, now: DateTime<Utc>) -> Value {
    let r = &s.report;
    let mut links = Vec::new();
    for key in &s.keys {
        let entry = match current(s, key, now).await {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => {
                crate::ui::warn(format!("report \"{}\": {e:#}", r.name));
                continue;
            }
        };
        let expires = (now + chrono::Duration::minutes(i64::from(state.link_minutes)))
            .min(entry.expires_at(s.store.keep_days));
        let sig = state.links.sign(&s.id, key, expires.timestamp());
        links.push(json!({
            "type": key,
            "url": format!(
                "{base}/download/{}/{}?expires={}&sig={sig}",
                encode_segment(&s.id),
                encode_segment(key),
                expires.timestamp()
            ),
            "expires": ts(expires),
            "file": entry.file,
            "bytes": entry.bytes,
            "rows": entry.rows,
            "sha256": entry.sha256,
            "from": ts(entry.from),
            "to": ts(entry.to),
            "generated": ts(entry.run_at),
            "available_until": ts(entry.expires_at(s.store.keep_days)),
        }));
    }
    json!({
        "id": s.id,
        "name": r.name,
        "status": r.status.name(),
        "timezone": r.timezone.name(),
        "schedule": describe(&r.schedule, r.timezone),
        "types": s.keys,
        "destination": s.dest,
        "keep_days": s.store.keep_days,
        "app_id": s.store.app_id,
        "links": links,
    })
}

/// `GET /download/{id}/{type}?expires=…&sig=…`
pub async fn download(
    State(state): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    uri: Uri,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let (mut expires, mut sig) = (None, None);
    for pair in uri.query().unwrap_or("").split('&') {
        match pair.split_once('=') {
            Some(("expires", v)) => expires = Some(v),
            Some(("sig", v)) => sig = Some(v),
            _ => {}
        }
    }
    let Ok(Path((id, kind))) = path else {
        return refused_link(&rid, &LinkError::BadSignature);
    };
    let now = crate::clock::wall();
    if let Err(e) = state.links.verify(&id, &kind, expires, sig, now) {
        return refused_link(&rid, &e);
    }
    let Some(s) = state.report(&id).filter(|s| s.keys.contains(&kind)) else {
        return error(
            StatusCode::NOT_FOUND,
            "reportId",
            "No report with this id and type is served",
            &rid,
            "unknown report",
        );
    };
    match open_current(s, &kind, now, |_| true).await {
        Ok(Some((entry, file))) => file_response(&entry, file).await,
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "type",
            format!(
                "No {kind} file of this report is available: none was delivered in the last {} days",
                s.store.keep_days
            ),
            &rid,
            "no current file",
        ),
        Err(e) => internal(&rid, &e),
    }
}

fn refused_link(rid: &RequestId, e: &LinkError) -> Response {
    match e {
        LinkError::Expired(at) => error(
            StatusCode::GONE,
            "expires",
            format!(
                "The link expired at {}; get a new one from GET /reports/{{id}}",
                ts(*at)
            ),
            rid,
            "link expired",
        ),
        LinkError::Malformed | LinkError::BadSignature => error(
            StatusCode::FORBIDDEN,
            "sig",
            "The link is not valid; get a new one from GET /reports/{id}",
            rid,
            "bad link signature",
        ),
    }
}

fn internal(rid: &RequestId, e: &anyhow::Error) -> Response {
    crate::ui::warn(format!("request {}: {e:#}", rid.0));
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "",
        "The file cannot be read; the server log says why",
        rid,
        "internal error",
    )
}

/// A dated zip's file name: `{name}_{YYYYMMDD}.zip`, the name being letters, digits, `_`
/// and `-`.
fn parse_dated_zip_name(name: &str) -> Option<(&str, NaiveDate)> {
    let stem = name.strip_suffix(".zip")?;
    let (stem, date) = stem.rsplit_once('_')?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    let ok = !stem.is_empty()
        && name.len() <= 255
        && stem
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    ok.then_some((stem, date))
}

/// `GET /campaign_reports/rest_api/{app_id}/{filename}`, the app download endpoint. In
/// order: an unknown app is a 400; Basic auth (the app id and its API key) and the
/// `Signature` header, a 401 with an empty body; then the file name, a 400 when
/// malformed, older than keep_days or not a current file.
pub async fn app_download(
    State(state): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let bad = |attribute: &str, message: String, note: &'static str| {
        error(StatusCode::BAD_REQUEST, attribute, message, &rid, note)
    };
    let Ok(Path((app_id, filename))) = path else {
        return bad(
            "filename",
            "Invalid report file name".into(),
            "undecodable path",
        );
    };
    let Some(app) = state.apps.get(&app_id) else {
        return bad("app_id", "Incorrect App Id".into(), "unknown app");
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match auth::basic_credentials(authorization) {
        Some((user, key)) if user == app.id && app.api_key.matches(&key) => {}
        Some(_) => return unauthorized_empty(true, "wrong Basic credentials"),
        None => return unauthorized_empty(true, "no Basic credentials"),
    }
    let expected = auth::app_signature(&app.id, &filename, app.signature_secret.expose());
    let signature = headers.get("signature").map(HeaderValue::as_bytes);
    if signature.is_none() {
        return unauthorized_empty(false, "no signature");
    }
    if !auth::signature_matches(signature, &expected) {
        return unauthorized_empty(false, "wrong signature");
    }
    let Some((stem, date)) = parse_dated_zip_name(&filename) else {
        return bad(
            "filename",
            "Invalid report file name: expected REPORT_NAME_YYYYMMDD.zip".into(),
            "malformed file name",
        );
    };
    let not_found = || {
        bad(
            "filename",
            format!("No report file named {filename}"),
            "no such file",
        )
    };
    let Some(s) = state
        .reports
        .iter()
        .find(|s| s.id == stem && s.store.app_id.as_deref() == Some(&app.id))
    else {
        return not_found();
    };
    let keep = s.store.keep_days;
    let older = || {
        bad(
            "filename",
            format!("Requested report is older than {keep} days"),
            "older than keep_days",
        )
    };
    let now = crate::clock::wall();
    let today = now.with_timezone(&s.report.timezone).date_naive();
    if date < today - chrono::Days::new(u64::from(keep)) {
        return older();
    }
    let key = &s.keys[0];
    match open_current(s, key, now, |e| e.file == filename).await {
        Ok(Some((entry, file))) => file_response(&entry, file).await,
        Ok(None) => match latest(s, key).await {
            Ok(Some(e)) if e.file == filename => older(),
            _ => not_found(),
        },
        Err(e) => internal(&rid, &e),
    }
}

pub async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_zip_file_names() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y%m%d").unwrap();
        assert_eq!(
            parse_dated_zip_name("Report_-_test_20210217.zip"),
            Some(("Report_-_test", d("20210217")))
        );
        assert_eq!(
            parse_dated_zip_name("Daily_Views_20261123.zip"),
            Some(("Daily_Views", d("20261123")))
        );
        for bad in [
            "Daily_Views_20261123.csv",
            "Daily_Views_2026112.zip",
            "Daily_Views_20261332.zip",
            "_20261123.zip",
            "20261123.zip",
            "../x_20261123.zip",
            "a/b_20261123.zip",
            "a b_20261123.zip",
            "..%2Fx_20261123.zip",
        ] {
            assert_eq!(parse_dated_zip_name(bad), None, "{bad}");
        }
    }
}
