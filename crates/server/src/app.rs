//! The router and the listener: wiring only.

use crate::config::{Auth, Config};
use crate::error::ApiError;
use crate::listener::{self, ConnLimits};
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::request_id;
use crate::routes::{batches, facematch, health, liveness, v2};
use crate::workers::WorkerPool;
use ::liveness::Analyse;
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
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
        Self {
            analyzer,
            pool: Arc::new(WorkerPool::new(
                cfg.workers,
                cfg.queue_depth,
                cfg.client_share,
                cfg.deadline,
            )),
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

/// The whole HTTP API around `analyzer`, whose models must already be loaded.
pub fn router(cfg: &Config, analyzer: Arc<dyn Analyse>) -> Router {
    router_with(cfg, analyzer, Extensions::default())
}

/// [`router`] plus the Playground and batch routes.
pub fn router_with(cfg: &Config, analyzer: Arc<dyn Analyse>, ext: Extensions) -> Router {
    let mut state = AppState::new(cfg, analyzer);
    state.jobs = ext.jobs;
    app(state, cfg, ext.public)
}

/// The one composition of the served router: the API (with `/metrics` unless it has its own
/// address), the extra public routes, and the request-id layer outermost, so that Playground
/// responses carry an X-Request-Id too.
fn app(state: AppState, cfg: &Config, public: Router) -> Router {
    api_routes(state.clone(), cfg.metrics_bind.is_none())
        .merge(public)
        .layer(axum::middleware::from_fn_with_state(
            state,
            request_id::middleware,
        ))
}

pub fn router_with_state(state: AppState) -> Router {
    api_routes(state.clone(), true).layer(axum::middleware::from_fn_with_state(
        state,
        request_id::middleware,
    ))
}

fn api_routes(state: AppState, with_metrics: bool) -> Router {
    let mut r = Router::new()
        .route("/liveness", post(liveness::liveness))
        .route("/v2/liveness", post(v2::liveness_v2))
        .route("/facematch", post(facematch::facematch))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi));
    if with_metrics {
        r = r.route("/metrics", get(health::metrics));
    }
    if let Some(jobs) = &state.jobs {
        r = r.merge(batches::routes(jobs.limits().max_zip_bytes));
    }
    r.fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // The only body limit: tower-http's RequestBodyLimitLayer on top of it turns an oversized
        // chunked body into a 500 instead of a 413.
        .layer(DefaultBodyLimit::max(state.body_limit))
        .with_state(state)
}

/// Binds `cfg.bind` and serves until SIGTERM or ctrl-c, then lets in-flight requests finish
/// for up to `cfg.shutdown_grace`.
pub async fn serve(cfg: Config, analyzer: Arc<dyn Analyse>) -> anyhow::Result<()> {
    serve_with(cfg, analyzer, Extensions::default()).await
}

/// [`serve`] with the Playground and batch routes beside the API.
pub async fn serve_with(
    cfg: Config,
    analyzer: Arc<dyn Analyse>,
    ext: Extensions,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(cfg.bind)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.bind))?;
    serve_on_with(listener, cfg, analyzer, ext, shutdown_signal()).await
}

/// [`serve`] on an already bound listener, stopping when `shutdown` resolves.
pub async fn serve_on(
    listener: TcpListener,
    cfg: Config,
    analyzer: Arc<dyn Analyse>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_on_with(listener, cfg, analyzer, Extensions::default(), shutdown).await
}

/// [`serve_on`] with extra routes.
pub async fn serve_on_with(
    listener: TcpListener,
    cfg: Config,
    analyzer: Arc<dyn Analyse>,
    ext: Extensions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if matches!(cfg.auth, Auth::Disabled) {
        tracing::warn!("authentication is disabled: every caller is accepted");
    }
    let mut state = AppState::new(&cfg, analyzer);
    state.jobs = ext.jobs;
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
    let trigger = async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        let _ = stop_tx.send(true);
        std::future::pending::<()>().await
    };
    tokio::select! {
        r = main => r?,
        () = trigger => {}
    }
    if let Some(m) = metrics_server {
        m.abort();
    }
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
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
