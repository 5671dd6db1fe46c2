//! `POST /liveness`: the contract's flat report.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::multipart;
use crate::openapi::{ErrorEnvelope, LivenessMultipartRequest, LivenessResponse};
use crate::request_id::RequestId;
use axum::Json;
use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse, Response};
use liveness::LivenessReport;
use std::time::{Duration, Instant};

#[utoipa::path(
    post,
    path = "/liveness",
    tag = "liveness",
    request_body(content = LivenessMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Verdict; every key always present. `X-Livegate-Reason` (no_face, multiple_faces, face_too_small, no_usable_face_in_video, no_blink) says why when a rule, not a score, made it fake", body = LivenessResponse),
        (status = 400, description = "Missing, empty or undecodable media", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorEnvelope),
        (status = 413, description = "Body over the configured limit", body = ErrorEnvelope),
        (status = 422, description = "Bad tuning fields, all listed", body = ErrorEnvelope),
        (status = 429, description = "Client over its rate limit or its share of the queue", body = ErrorEnvelope),
        (status = 503, description = "Analysis queue full", body = ErrorEnvelope),
        (status = 500, description = "Internal error", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
pub async fn liveness(
    State(st): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let report = run(&st, &rid, &caller, req).await?;
    let reason = report.internal.reason;
    Ok(with_reason(Json(report).into_response(), reason))
}

/// The header that says why a verdict is `fake` regardless of any score (`no_face`, …): the
/// contract's 18 keys have no room for it, and without it a client sees only "fake, 1.0".
pub const REASON_HEADER: &str = "x-livegate-reason";

pub fn with_reason(mut resp: Response, reason: Option<&'static str>) -> Response {
    if let Some(r) = reason {
        resp.headers_mut()
            .insert(REASON_HEADER, axum::http::HeaderValue::from_static(r));
    }
    resp
}

/// The flow shared by `/liveness` and `/v2/liveness`.
pub async fn run(
    st: &AppState,
    rid: &RequestId,
    caller: &Caller,
    req: Request,
) -> Result<LivenessReport, ApiError> {
    let ticket = st
        .pool
        .admit(&caller.owner)
        .map_err(|e| ApiError::from_pool(e, st.retry_after))?;
    let t = Instant::now();
    let raw = multipart::read(req, st.body_limit, st.upload_timeout).await?;
    if let Some(uid) = multipart::valid_unique_id(&raw) {
        rid.set_unique_id(uid);
    }
    let request = multipart::liveness(raw)?;
    st.metrics.observe_stage("parse", t.elapsed());
    tracing::info!(
        image_bytes = request.image.as_ref().map_or(0, Vec::len),
        video_bytes = request.video.as_ref().map_or(0, Vec::len),
        "analysis queued"
    );
    let analyzer = st.analyzer.clone();
    let (outcome, times) = ticket
        .run(move || analyzer.analyse(&request))
        .await
        .map_err(|e| ApiError::from_pool(e, st.retry_after))?;
    st.metrics.observe_stage("queue", times.queued);
    st.metrics.observe_stage("analysis", times.ran);
    let report = outcome?;
    for (stage, ms) in &report.internal.timings_ms {
        if ms.is_finite() && *ms >= 0.0 {
            st.metrics
                .observe_stage(stage, Duration::from_secs_f64(ms / 1e3));
        }
    }
    tracing::info!(
        result = %report.result,
        confidence = %report.confidence,
        overall = %report.overall_result,
        "analysis done"
    );
    Ok(report)
}
