//! Liveness of the process, readiness of the models, metrics and the OpenAPI document.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

/// The process is up and answering.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready once the analyser exists: models are loaded before the router is built, so a server
/// that answers here can analyse. Draining (shutdown started) reports not ready, so a load
/// balancer stops sending work.
pub async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    if st.draining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        )
    } else {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    }
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
