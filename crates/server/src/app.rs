//! The router and the listener: wiring only.

use crate::config::{Auth, Config};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::request_id;
use crate::routes::{facematch, health, liveness, v2};
use crate::workers::WorkerPool;
use ::liveness::Analyse;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) analyzer: Arc<dyn Analyse>,
    pub(crate) pool: Arc<WorkerPool>,
    pub(crate) auth: Auth,
    pub(crate) limiter: Option<Arc<RateLimiter>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) body_limit: usize,
    pub(crate) upload_timeout: Duration,
    pub(crate) retry_after: Duration,
}

impl AppState {
    pub fn new(cfg: &Config, analyzer: Arc<dyn Analyse>) -> Self {
        Self {
            analyzer,
            pool: Arc::new(WorkerPool::new(cfg.workers, cfg.queue_depth, cfg.deadline)),
            auth: cfg.auth.clone(),
            limiter: cfg.rate_limit.map(|l| Arc::new(RateLimiter::new(l))),
            metrics: Arc::new(Metrics::default()),
            body_limit: cfg.body_limit,
            upload_timeout: cfg.upload_timeout,
            retry_after: cfg.retry_after,
        }
    }
}

/// Routes served beside the API: `public` ones (the Playground page) as they are, `protected`
/// ones (batch jobs) behind the same Bearer check as the API.
#[derive(Default)]
pub struct Extensions {
    pub public: Router,
    pub protected: Router,
}

/// The whole HTTP API around `analyzer`, whose models must already be loaded.
pub fn router(cfg: &Config, analyzer: Arc<dyn Analyse>) -> Router {
    router_with_state(AppState::new(cfg, analyzer))
}

/// [`router`] plus the Playground and batch routes.
pub fn router_with(cfg: &Config, analyzer: Arc<dyn Analyse>, ext: Extensions) -> Router {
    let state = AppState::new(cfg, analyzer);
    // axum refuses a route layer on a router without routes.
    let protected = if ext.protected.has_routes() {
        ext.protected
            .route_layer(axum::middleware::from_extractor_with_state::<
                crate::auth::Caller,
                AppState,
            >(state.clone()))
    } else {
        ext.protected
    };
    api_routes(state.clone())
        .merge(ext.public)
        .merge(protected)
        // Outermost, so that batch and Playground responses carry an X-Request-Id too.
        .layer(axum::middleware::from_fn_with_state(
            state,
            request_id::middleware,
        ))
}

pub fn router_with_state(state: AppState) -> Router {
    api_routes(state.clone()).layer(axum::middleware::from_fn_with_state(
        state,
        request_id::middleware,
    ))
}

fn api_routes(state: AppState) -> Router {
    Router::new()
        .route("/liveness", post(liveness::liveness))
        .route("/v2/liveness", post(v2::liveness_v2))
        .route("/facematch", post(facematch::facematch))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(health::openapi))
        .fallback(|| async { ApiError::not_found() })
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
    let listener = TcpListener::bind(cfg.bind).await?;
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
    let app = router_with(&cfg, analyzer, ext);
    tracing::info!(
        addr = %listener.local_addr()?,
        workers = cfg.workers,
        queue_depth = cfg.queue_depth,
        body_limit = cfg.body_limit,
        "listening"
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let graceful = async move {
        shutdown.await;
        // The listener stops accepting now; requests already read run to completion.
        tracing::info!("shutdown requested; finishing in-flight requests");
        let _ = stop_tx.send(true);
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let grace = cfg.shutdown_grace;
    let deadline = async move {
        let mut rx = stop_rx;
        // Resolves once shutdown started (or the sender is gone), then waits out the grace.
        let _ = rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r?,
        () = deadline => tracing::warn!(grace_s = grace.as_secs(), "grace period over; dropping remaining connections"),
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
