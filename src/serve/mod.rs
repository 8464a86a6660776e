//! `reportctl serve`: the pickup API, an HTTP/1.1 server (hyper, with axum's router) on
//! tokio. Reports with a pickup destination are listed with signed, short-lived download
//! links (seed 000), and seed 002's download endpoint serves their zips to apps.
//!
//! Bounded by configuration: request headers (`max_request_bytes`), the time to send
//! them and to answer (`request_timeout_seconds`, which also closes idle keep-alive
//! connections), and open connections (`max_connections`). On SIGTERM or SIGINT the
//! server stops accepting, lets requests in flight finish (up to
//! `shutdown_grace_seconds`) and exits 0.

mod api;
pub mod auth;
mod http;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::config::secret::SecretValue;
use crate::config::{Config, DestinationKind, PickupDest, Report, Serve, MIN_LINK_SECRET};
use crate::exit::{self, UsageError};
use crate::pickup;

/// A report served by the API, with where its pickup store is.
pub struct Served {
    pub id: String,
    pub report: Report,
    /// The pickup destination's name.
    pub dest: String,
    pub store: PickupDest,
    pub keys: Vec<String>,
}

pub struct App {
    pub id: String,
    pub api_key: auth::Key,
    pub signature_secret: SecretValue,
}

/// What every request can see.
pub struct Shared {
    pub reports: Vec<Served>,
    pub api_key: auth::Key,
    pub links: auth::LinkSigner,
    pub link_minutes: u32,
    pub public_url: Option<String>,
    /// `http://` and the address the server listens on.
    pub local_url: String,
    pub apps: BTreeMap<String, App>,
    pub request_timeout: Duration,
    pub max_request_bytes: usize,
}

impl Shared {
    fn report(&self, id: &str) -> Option<&Served> {
        self.reports.iter().find(|s| s.id == id)
    }
}

fn resolve(key: &str, secret: &crate::config::secret::Secret) -> Result<SecretValue> {
    secret
        .resolve()
        .map_err(|e| anyhow!(UsageError(format!("[serve] {key}: {e}"))))
}

/// The reports that have a pickup destination.
pub fn served_reports(config: &Config) -> Vec<Served> {
    config
        .reports
        .iter()
        .filter_map(|r| {
            r.destinations
                .iter()
                .find_map(|d| match &config.destinations[d].kind {
                    DestinationKind::Pickup(p) => Some(Served {
                        id: pickup::pickup_id(&r.name),
                        report: r.clone(),
                        dest: d.clone(),
                        store: p.clone(),
                        keys: pickup::keys(r, p.naming),
                    }),
                    _ => None,
                })
        })
        .collect()
}

fn shared(config: &Config, serve: &Serve, local: SocketAddr) -> Result<Shared> {
    let link_secret = resolve("link_secret", &serve.link_secret)?;
    if link_secret.expose().len() < MIN_LINK_SECRET {
        return Err(anyhow!(UsageError(format!(
            "[serve] link_secret: the secret is {} bytes long; at least {MIN_LINK_SECRET} are needed (e.g. `openssl rand -hex 32`)",
            link_secret.expose().len()
        ))));
    }
    let mut apps = BTreeMap::new();
    for (id, a) in &serve.apps {
        apps.insert(
            id.clone(),
            App {
                id: id.clone(),
                api_key: auth::Key::new(
                    resolve(&format!("apps.{id}.api_key"), &a.api_key)?.expose(),
                ),
                signature_secret: resolve(
                    &format!("apps.{id}.signature_secret"),
                    &a.signature_secret,
                )?,
            },
        );
    }
    Ok(Shared {
        reports: served_reports(config),
        api_key: auth::Key::new(resolve("api_key", &serve.api_key)?.expose()),
        links: auth::LinkSigner::new(link_secret.expose(), serve.link_minutes),
        link_minutes: serve.link_minutes,
        public_url: serve.public_url.clone(),
        local_url: format!("http://{local}"),
        apps,
        request_timeout: serve.request_timeout,
        max_request_bytes: serve.max_request_bytes,
    })
}

fn router(state: Arc<Shared>) -> Router {
    Router::new()
        .route("/reports", get(api::list))
        .route("/reports/{id}", get(api::one))
        .route("/download/{id}/{kind}", get(api::download))
        .route(
            "/campaign_reports/rest_api/{app_id}/{filename}",
            get(api::seed002),
        )
        .route("/healthz", get(api::healthz))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::around,
        ))
        .with_state(state)
}

fn log(msg: impl AsRef<str>) {
    if crate::ui::level() >= 1 {
        eprintln!("reportctl: serve: {}", msg.as_ref());
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub fn run(config: &Config, listen: Option<SocketAddr>) -> Result<u8> {
    let serve = config.serve.as_ref().ok_or_else(|| {
        anyhow!(UsageError(format!(
            "{} has no [serve] table; add one with api_key and link_secret (see the README, \"Pickup API\")",
            config.path.display()
        )))
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("reportctl-serve")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        // Signals first: a SIGTERM that comes right after startup is a clean stop.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        let addr = listen.unwrap_or(serve.listen);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        let state = Arc::new(shared(config, serve, local)?);
        if state.reports.is_empty() {
            crate::ui::warn("no report has a pickup destination: GET /reports lists nothing");
        }
        log(format!(
            "listening on http://{local} ({} report(s), {} app(s))",
            state.reports.len(),
            state.apps.len()
        ));
        let signal = async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            }
        };
        accept_loop(listener, router(state), serve, signal).await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(exit::OK)
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    serve: &Serve,
    signal: impl std::future::Future<Output = &'static str>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(serve.request_timeout)
        .max_buf_size(serve.max_request_bytes)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(serve.max_connections));
    tokio::pin!(signal);
    let why = loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            why = &mut signal => break why,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    crate::ui::warn(format!("accepting a connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            why = &mut signal => break why,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            req.extensions_mut().insert(http::Peer(peer));
            app.clone().oneshot(req)
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    };
    drop(listener);
    let open = graceful.count();
    log(format!(
        "{why}: shutting down; {open} connection(s) open, waiting up to {}s for requests in flight",
        serve.shutdown_grace.as_secs()
    ));
    match tokio::time::timeout(serve.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => log("stopped"),
        Err(_) => log("stopped; connections still open after shutdown_grace_seconds were closed"),
    }
}
