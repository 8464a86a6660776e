//! `reportctl serve`: the pickup API, an HTTP/1.1 server (hyper, with axum's router) on
//! tokio. Reports with a pickup destination are listed with signed, short-lived download
//! links, and the app download endpoint serves their dated zips to apps.
//!
//! Bounded by configuration: request headers (`max_request_bytes`), the time to send
//! them and to answer (`request_timeout_seconds`), the time a response may wait for a
//! client that reads nothing (`send_timeout_seconds`) and a connection may sit without
//! a request (`idle_timeout_seconds`), open connections (`max_connections`, and
//! `max_connections_per_client` from one address: more get a 429); a download holds a
//! 64 KiB piece of its file at a time (see `conn`). On SIGTERM or SIGINT the
//! server stops accepting, lets requests in flight finish (up to
//! `shutdown_grace_seconds`) and exits 0.

mod api;
pub mod auth;
mod conn;
mod files;
mod http;
mod metrics;

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
    /// The configuration (for `/metrics`, which reads the ledger).
    pub config: Arc<Config>,
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
    pub max_connections_per_client: usize,
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
        config: Arc::new(config.clone()),
        reports: served_reports(config),
        api_key: auth::Key::new(resolve("api_key", &serve.api_key)?.expose()),
        links: auth::LinkSigner::new(link_secret.expose(), serve.link_minutes),
        link_minutes: serve.link_minutes,
        public_url: serve.public_url.clone(),
        local_url: format!("http://{local}"),
        apps,
        request_timeout: serve.request_timeout,
        max_request_bytes: serve.max_request_bytes,
        max_connections_per_client: serve.max_connections_per_client,
    })
}

fn router(state: Arc<Shared>) -> Router {
    Router::new()
        .route("/reports", get(api::list))
        .route("/reports/{id}", get(api::one))
        .route("/download/{id}/{kind}", get(api::download))
        .route(
            "/campaign_reports/rest_api/{app_id}/{filename}",
            get(api::app_download),
        )
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(api::healthz))
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::around,
        ))
        .with_state(state)
}

/// What a connection beyond `max_connections_per_client` gets: a 429 to any request.
fn refusal_router(state: Arc<Shared>) -> Router {
    Router::new()
        .fallback(http::too_many_connections)
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
            "{} has no [serve] table; add one with api_key and link_secret (see docs/serve.md)",
            config.path.display()
        )))
    })?;
    let runtime = crate::runtime::for_server()?;
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
            "listening on http://{local} ({}, {})",
            crate::ui::count(state.reports.len() as u64, "report", "reports"),
            crate::ui::count(state.apps.len() as u64, "app", "apps")
        ));
        let signal = async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            }
        };
        let refusal = refusal_router(state.clone());
        accept_loop(listener, router(state), refusal, serve, signal).await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(exit::OK)
}

/// Connections beyond `max_connections_per_client` being answered with a 429 at once;
/// more are closed without an answer.
const REFUSALS: usize = 64;

/// How long a refused connection may take to send its request and read the 429.
const REFUSAL_TIME: Duration = Duration::from_secs(2);

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    refusal: Router,
    serve: &Serve,
    signal: impl std::future::Future<Output = &'static str>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(serve.request_timeout)
        .max_buf_size(serve.max_request_bytes)
        .keep_alive(true);
    let mut refuse_http = http.clone();
    refuse_http
        .header_read_timeout(REFUSAL_TIME)
        .keep_alive(false);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(serve.max_connections));
    let refusals = Arc::new(tokio::sync::Semaphore::new(REFUSALS));
    let per_client = conn::PerClient::new(serve.max_connections_per_client);
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
        let Some(slot) = per_client.admit(peer.ip()) else {
            drop(permit);
            refuse(stream, peer, &refusal, &refuse_http, &refusals);
            continue;
        };
        let busy = Arc::new(conn::Busy::default());
        let io = conn::Guarded::new(stream, serve.send_timeout, serve.idle_timeout, busy.clone());
        let ended = io.ended();
        let service = service(&app, peer, Some(busy));
        let conn = http.serve_connection(TokioIo::new(io), service);
        let conn = graceful.watch(conn);
        let send_timeout = serve.send_timeout.as_secs();
        tokio::spawn(async move {
            let _ = conn.await;
            let why = *ended.lock().unwrap_or_else(|e| e.into_inner());
            if why == Some(conn::Ended::SendTimeout) {
                log(format!(
                    "{peer}: closed the connection: the client read nothing for {send_timeout}s (send_timeout_seconds)"
                ));
            }
            drop(slot);
            drop(permit);
        });
    };
    drop(listener);
    let open = graceful.count();
    log(format!(
        "{why}: shutting down; {} open, waiting up to {}s for requests in flight",
        crate::ui::count(open as u64, "connection", "connections"),
        serve.shutdown_grace.as_secs()
    ));
    match tokio::time::timeout(serve.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => log("stopped"),
        Err(_) => log("stopped; connections still open after shutdown_grace_seconds were closed"),
    }
}

/// A client over its connection limit gets the refusal (a 429) on a short leash, when
/// fewer than `REFUSALS` refusals are being answered; past that, its connection is
/// closed at once.
fn refuse(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    refusal: &Router,
    http: &hyper::server::conn::http1::Builder,
    refusals: &Arc<tokio::sync::Semaphore>,
) {
    let Ok(turn) = refusals.clone().try_acquire_owned() else {
        return;
    };
    let io = conn::Guarded::new(
        stream,
        REFUSAL_TIME,
        REFUSAL_TIME,
        Arc::new(conn::Busy::default()),
    );
    let service = service(refusal, peer, None);
    let conn = http.serve_connection(TokioIo::new(io), service);
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_TIME * 2, conn).await;
        drop(turn);
    });
}

/// The router as a hyper service for one connection: each request learns the client's
/// address, and counts as work in progress on `busy` until its response starts.
fn service(
    app: &Router,
    peer: SocketAddr,
    busy: Option<Arc<conn::Busy>>,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl std::future::Future<
        Output = Result<axum::response::Response, std::convert::Infallible>,
    > + Send,
> + Clone {
    let app = app.clone();
    hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(http::Peer(peer));
        let guard = busy.as_ref().map(|b| b.enter());
        let answer = app.clone().oneshot(req);
        async move {
            let resp = answer.await;
            drop(guard);
            resp
        }
    })
}
