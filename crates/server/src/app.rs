//! The router and the listener: wiring only.

use crate::config::{Auth, Config};
use crate::error::ApiError;
use crate::listener::{self, ConnLimits};
use crate::metrics::{self, Metrics};
use crate::rate_limit::RateLimiter;
use crate::request_id;
use crate::routes::{batches, challenges, facematch, health, liveness, v2};
use crate::upload_pace;
use crate::workers::WorkerPool;
use ::liveness::Analyse;
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use jobs::places::Places;
use jobs::{JobService, Owner};
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) analyzer: Arc<dyn Analyse>,
    pub(crate) pool: Arc<WorkerPool>,
    /// Analysis bodies being received; apart from the pool so uploads never hold its places.
    pub(crate) uploads: Arc<Places>,
    pub(crate) auth: Auth,
    pub(crate) limiter: Option<Arc<RateLimiter<Owner>>>,
    pub(crate) auth_failures: Option<Arc<RateLimiter<IpAddr>>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) body_limit: usize,
    pub(crate) upload_timeout: Duration,
    pub(crate) batch_upload_timeout: Duration,
    pub(crate) retry_after: Duration,
    /// The batch service, when batches are served.
    pub(crate) jobs: Option<Arc<JobService>>,
}

impl AppState {
    pub fn new(cfg: &Config, analyzer: Arc<dyn Analyse>) -> Self {
        let pool = Arc::new(WorkerPool::new(
            cfg.workers,
            cfg.queue_depth,
            cfg.client_share,
            cfg.deadline,
        ));
        Self {
            analyzer,
            uploads: Arc::new(Places::new(
                cfg.max_uploads,
                if cfg.upload_share == 0 {
                    pool.client_share()
                } else {
                    cfg.upload_share
                },
            )),
            pool,
            auth: cfg.auth.clone(),
            limiter: cfg.rate_limit.map(|l| Arc::new(RateLimiter::new(l))),
            auth_failures: cfg.auth_failures.map(|l| Arc::new(RateLimiter::new(l))),
            metrics: Arc::new(Metrics::default()),
            body_limit: cfg.body_limit,
            upload_timeout: cfg.upload_timeout,
            batch_upload_timeout: cfg.batch_upload_timeout,
            retry_after: cfg.retry_after,
            jobs: None,
        }
    }
}

/// What is served beside the analysis API.
#[derive(Default)]
pub struct Extensions {
    /// Routes served as they are, without a token (the Playground page).
    pub public: Router,
    /// The batch service behind `/v1/batches`; no batch routes without it.
    pub jobs: Option<Arc<JobService>>,
}

/// The one router builder: the whole HTTP API around `analyzer` (whose models must already be
/// loaded), plus `ext` (the Playground, the batch routes). [`serve`] serves exactly this; tests
/// call it in-process.
pub fn router(cfg: &Config, analyzer: Arc<dyn Analyse>, ext: Extensions) -> Router {
    app(state(cfg, analyzer, ext.jobs), cfg, ext.public)
}

fn state(cfg: &Config, analyzer: Arc<dyn Analyse>, jobs: Option<Arc<JobService>>) -> AppState {
    let mut state = AppState::new(cfg, analyzer);
    state.jobs = jobs;
    state
}

/// The one composition of the served router: the API (with `/metrics` unless it has its own
/// address), the extra public routes, the request metrics around them and the request-id layers
/// outermost, so that Playground responses carry an X-Request-Id too.
fn app(state: AppState, cfg: &Config, public: Router) -> Router {
    let app = api_routes(state.clone(), cfg.metrics_bind.is_none())
        .merge(public)
        // The Playground's and the reference's pages too: a wrong method gets the envelope.
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(
            cfg.upload_min_rate,
            upload_pace::enforce,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics,
            metrics::track,
        ));
    request_id::layered(app)
}

/// Every route the API mounts: the router is built from this table, and a test checks the
/// OpenAPI document against [`mounted_routes`], so no route is served undocumented.
fn route_table(
    with_metrics: bool,
    batches: Option<u64>,
) -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    let mut t = vec![
        (Method::POST, "/liveness", post(liveness::liveness)),
        (Method::POST, "/v2/liveness", post(v2::liveness_v2)),
        (Method::POST, "/facematch", post(facematch::facematch)),
        (Method::GET, "/healthz", get(health::healthz)),
        (Method::GET, "/readyz", get(health::readyz)),
        (Method::GET, "/openapi.json", get(health::openapi)),
    ];
    if with_metrics {
        t.push((Method::GET, "/metrics", get(health::metrics)));
    }
    // Both need the embedded store: batches keep their items there, challenges their key and
    // used ids.
    if let Some(max_zip_bytes) = batches {
        t.extend(batches::routes(max_zip_bytes));
        t.extend(challenges::routes());
    }
    t
}

/// `(method, path)` of every API route a server with batches and `/metrics` mounts.
pub fn mounted_routes() -> Vec<(Method, &'static str)> {
    route_table(true, Some(0))
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect()
}

fn api_routes(state: AppState, with_metrics: bool) -> Router {
    let batches = state.jobs.as_ref().map(|j| j.limits().max_zip_bytes);
    let mut r = Router::new();
    for (_, path, handler) in route_table(with_metrics, batches) {
        // Routes on one path with different methods merge.
        r = r.route(path, handler);
    }
    r.fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // The only body limit: tower-http's RequestBodyLimitLayer on top of it turns an oversized
        // chunked body into a 500 instead of a 413.
        .layer(DefaultBodyLimit::max(state.body_limit))
        .layer(axum::middleware::map_response(
            crate::error::envelope_plain_errors,
        ))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` resolves (the binary passes
/// [`shutdown_signal`]), then lets in-flight requests finish for up to `cfg.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    cfg: Config,
    analyzer: Arc<dyn Analyse>,
    ext: Extensions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if matches!(cfg.auth, Auth::Disabled) {
        tracing::warn!("authentication is disabled: every caller is accepted");
    }
    let jobs = ext.jobs.clone();
    let state = state(&cfg, analyzer, ext.jobs);
    let app = app(state.clone(), &cfg, ext.public);
    tracing::info!(
        addr = %listener.local_addr()?,
        workers = cfg.workers,
        queue_depth = cfg.queue_depth,
        body_limit = cfg.body_limit,
        max_connections = cfg.max_connections,
        header_timeout_s = cfg.header_timeout.as_secs(),
        "listening"
    );
    let limits = ConnLimits {
        max_connections: cfg.max_connections,
        per_address: cfg.max_connections_per_address,
        write_timeout: cfg.write_timeout,
        header_timeout: cfg.header_timeout,
        grace: cfg.shutdown_grace,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let metrics_server = match cfg.metrics_bind {
        Some(addr) => {
            let metrics_listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--metrics-bind)"))?;
            tracing::info!(addr = %metrics_listener.local_addr()?, "metrics listening");
            let metrics_app = Router::new()
                .route("/metrics", get(health::metrics))
                .with_state(state);
            Some(tokio::spawn(listener::serve(
                metrics_listener,
                metrics_app,
                limits.clone(),
                stopped(stop_rx.clone()),
            )))
        }
        None => None,
    };
    let main = listener::serve(listener, app, limits, stopped(stop_rx));
    let grace = cfg.shutdown_grace;
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel();
    let trigger = async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        let _ = stop_tx.send(true);
        // The batch runner drains alongside the HTTP connections: its items in progress get
        // the same grace, then their leases go back so another replica takes them at once.
        if let Some(jobs) = jobs {
            let _ = drained_tx.send(tokio::task::spawn_blocking(move || jobs.drain(grace)));
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        r = main => r?,
        () = trigger => {}
    }
    if let Some(m) = metrics_server {
        m.abort();
    }
    if let Ok(drain) = drained_rx.await {
        match drain.await {
            Ok(Ok(released)) if released > 0 => {
                tracing::info!(released, "batch items handed back to other replicas")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "draining the batch runner"),
            Err(e) => tracing::error!(error = %e, "draining the batch runner"),
        }
    }
    tracing::info!("server stopped");
    Ok(())
}

/// SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
