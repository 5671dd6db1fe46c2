//! Liveness of the process, readiness of the models, metrics and the OpenAPI document.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

/// The process is up and answering.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Liveness probe",
    responses((status = 200, description = "The process answers", body = Object, example = json!({"status": "ok"})))
)]
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready once the analyser exists and the job store answers: the router is only built around
/// a loaded analyser (models load before `serve` binds), and a replica whose database is
/// unreachable must leave the balancer's rotation. The worker counts tell a balancer how
/// loaded it is.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    summary = "Readiness probe, with the analysis workers' load",
    responses(
        (status = 200, description = "Models loaded, job store reachable; the workers' load, and \
            what the verdicts are judged with (the PAD graphs' SHA-256 and the still threshold: \
            the same on every replica of one deployment)", body = Object,
            example = json!({"status": "ready", "workers_busy": 1, "queued": 0,
                "pad_weights": {"crop_27.onnx": "6c4600e3…", "crop_40.onnx": "d734971f…"},
                "image_real_threshold": 0.43})),
        (status = 503, description = "The job store (database) cannot be reached", body = Object,
            example = json!({"status": "not_ready", "reason": "the job store is unreachable"})),
    )
)]
pub async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    if let Some(jobs) = st.jobs.clone() {
        let ping = tokio::time::timeout(
            STORE_PING_TIMEOUT,
            tokio::task::spawn_blocking(move || jobs.ping()),
        )
        .await;
        if !matches!(ping, Ok(Ok(Ok(())))) {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not_ready", "reason": "the job store is unreachable"})),
            );
        }
    }
    let mut body = json!({
        "status": "ready",
        "workers_busy": st.pool.busy(),
        "queued": st.pool.queued(),
        "uploading": st.uploads.held(),
    });
    // Replicas of one deployment must judge alike: this shows what each one judges with
    // (a deployment's own layer, `LIVEGATE_PAD_DIR`; its own threshold, `LIVEGATE_OPERATING_POINT`).
    if let Some(judging) = st.analyzer.judging() {
        body["pad_weights"] = json!(liveness::models::by_file(&judging.pad_weights));
        // f32 → the decimal it was written as, not its binary expansion.
        body["image_real_threshold"] =
            json!((f64::from(judging.image_real_threshold) * 1e6).round() / 1e6);
    }
    (StatusCode::OK, Json(body))
}

/// A balancer probes often; an answer slower than this counts as unreachable.
const STORE_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Prometheus text. Served on the API's address unless `--metrics-bind` gives it its own.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Request counts and durations by route and status, stage durations, queue depth, busy workers",
        content_type = "text/plain; version=0.0.4",
        example = json!("livegate_http_requests_total{route=\"/liveness\",status=\"200\"} 12\nlivegate_queue_depth 0\n")))
)]
pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(&st.pool, &st.uploads),
    )
}

/// This document. A readable rendering of it is served at `/docs`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "The OpenAPI 3.1 document",
    responses((status = 200, description = "The API description (this document)", body = Object,
        example = json!({"openapi": "3.1.0", "info": {"title": "Livegate"}, "paths": {}})))
)]
pub async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}
