//! `GET /metrics` (API key): the Prometheus text that `run-due` writes to
//! `metrics_file` (`crate::metrics`), read from the ledger at each scrape. A ledger
//! that does not exist yet gives the counters of the configured destinations at 0.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::api::refused;
use super::http::{error, RequestId};
use super::Shared;
use crate::config::Config;
use crate::ledger;
use crate::metrics;

fn text(config: &Config) -> anyhow::Result<String> {
    match ledger::open_read(config)? {
        Some(mut l) => metrics::from_ledger(config, &mut l, None),
        None => Ok(metrics::render(config, &Default::default())),
    }
}

pub async fn metrics(
    State(state): State<Arc<Shared>>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refused(&state, &headers, &rid) {
        return r;
    }
    let config = state.config.clone();
    let out = tokio::task::spawn_blocking(move || text(&config)).await;
    match out.map_err(anyhow::Error::from).and_then(|r| r) {
        Ok(body) => {
            let mut resp = (StatusCode::OK, body).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger",
            "The ledger cannot be read now",
            &rid,
            format!("metrics: {e:#}"),
        ),
    }
}
