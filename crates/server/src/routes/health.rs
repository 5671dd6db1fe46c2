//! Liveness of the process, readiness of the models, metrics and the OpenAPI document.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

/// The process is up and answering.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready once the analyser exists: the router is only built around a loaded analyser (models
/// load before `serve` binds), so a server that answers here can analyse. The worker counts
/// tell a balancer how loaded it is.
pub async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    Json(json!({
        "status": "ready",
        "workers_busy": st.pool.busy(),
        "queued": st.pool.queued(),
    }))
}

pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(&st.pool),
    )
}

pub async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}
