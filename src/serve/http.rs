//! What every request goes through: a request id, the size limit, the time limit, and
//! one log line on stderr when it ends. Also the error responses, all of one shape:
//! `{"error":{"attribute":…,"message":…,"type":"BAD REQUEST","request_id":…}}`, except
//! the app download endpoint's 401, which has an empty body.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::Shared;

/// A random id for each request, in its response (`X-Request-Id`), in error bodies and
/// in the log line, so that a client's complaint can be found in the log.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

impl RequestId {
    fn new() -> RequestId {
        RequestId(hex::encode(rand::random::<[u8; 8]>()).into())
    }
}

/// The client's address (of the TCP connection; a proxy's when behind one).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Why a request was refused, for the log line (never a secret).
#[derive(Debug, Clone)]
pub struct Note(pub Cow<'static, str>);

/// An error response: `{"error":{attribute, message, type, request_id}}`.
pub fn error(
    status: StatusCode,
    attribute: &str,
    message: impl Into<String>,
    rid: &RequestId,
    note: impl Into<Cow<'static, str>>,
) -> Response {
    let kind = status
        .canonical_reason()
        .unwrap_or("ERROR")
        .to_ascii_uppercase();
    let body = json!({"error": {
        "attribute": attribute,
        "message": message.into(),
        "type": kind,
        "request_id": &*rid.0,
    }});
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"reportctl\""),
        );
    }
    resp.extensions_mut().insert(Note(note.into()));
    resp
}

/// The app download endpoint's 401: `application/json` with an empty body.
pub fn unauthorized_empty(basic: bool, note: &'static str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    if basic {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"reportctl\""),
        );
    }
    resp.extensions_mut().insert(Note(note.into()));
    resp
}

/// The layer around every route: request id, limits, log line.
pub async fn around(State(state): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let rid = RequestId::new();
    req.extensions_mut().insert(rid.clone());
    let peer = req.extensions().get::<Peer>().map(|p| p.0);
    let method = req.method().clone();
    let path = loggable(req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut resp = if declared.is_some_and(|n| n > state.max_request_bytes as u64) {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
            format!(
                "The request is larger than {} bytes",
                state.max_request_bytes
            ),
            &rid,
            "request too large",
        )
    } else {
        match tokio::time::timeout(state.request_timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "",
                "The request took too long; try again",
                &rid,
                "timed out",
            ),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&rid.0) {
        resp.headers_mut().insert("x-request-id", v);
    }
    if crate::ui::level() >= 1 {
        let mut line = String::with_capacity(160);
        let _ = write!(
            line,
            "reportctl: serve: {} {} \"{} {}\" {} ",
            Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            peer.map_or_else(|| "-".to_string(), |p| p.to_string()),
            method,
            path,
            resp.status().as_u16(),
        );
        let declared = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match declared.or_else(|| axum::body::HttpBody::size_hint(resp.body()).exact()) {
            Some(n) => {
                let _ = write!(line, "{n}");
            }
            None => line.push('-'),
        }
        let _ = write!(
            line,
            " {:.1}ms id={}",
            start.elapsed().as_secs_f64() * 1000.0,
            rid.0
        );
        if let Some(Note(n)) = resp.extensions().get::<Note>() {
            let _ = write!(line, " ({n})");
        }
        line.push('\n');
        // One write per line, so that lines of concurrent requests never interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    resp
}

/// A request path as it may appear in a log line: never the query (it holds link
/// signatures), at most 200 characters, no control characters or quotes.
fn loggable(path: &str) -> String {
    path.chars()
        .take(200)
        .map(|c| if c.is_control() || c == '"' { '?' } else { c })
        .collect()
}

/// `404` for every path that is not a route.
pub async fn not_found(axum::Extension(rid): axum::Extension<RequestId>) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "path",
        "No such resource",
        &rid,
        "no route",
    )
}

/// `429` for every request on a connection beyond `max_connections_per_client`; the
/// connection is closed after it.
pub async fn too_many_connections(
    State(state): State<Arc<Shared>>,
    axum::Extension(rid): axum::Extension<RequestId>,
    peer: Option<axum::Extension<Peer>>,
) -> Response {
    let from = peer.map_or_else(|| "your address".to_string(), |p| p.0 .0.ip().to_string());
    let mut resp = error(
        StatusCode::TOO_MANY_REQUESTS,
        "connection",
        format!(
            "Too many connections from {from}: at most {} may be open at once; close one or try again later",
            state.max_connections_per_client
        ),
        &rid,
        "too many connections from this address",
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// `405` for other methods than GET and HEAD.
pub async fn method_not_allowed(axum::Extension(rid): axum::Extension<RequestId>) -> Response {
    let mut resp = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        "Only GET and HEAD are allowed",
        &rid,
        "method",
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    resp
}

/// Percent-encodes a path segment (everything but RFC 3986's unreserved characters).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_paths_and_segments() {
        assert_eq!(loggable("/a\n\"b"), "/a??b");
        assert_eq!(loggable(&"x".repeat(300)).len(), 200);
        assert_eq!(encode_segment("Vues é+x"), "Vues%20%C3%A9%2Bx");
        assert_eq!(encode_segment("Daily_Views"), "Daily_Views");
    }
}
