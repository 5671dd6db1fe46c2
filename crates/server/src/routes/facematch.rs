//! `POST /facematch`: are the faces in two stills the same person?

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::multipart;
use crate::openapi::{ErrorEnvelope, FacematchMultipartRequest, FacematchResponse};
use crate::request_id::RequestId;
use axum::Json;
use axum::extract::{Extension, Request, State};
use liveness::FacematchReport;
use std::time::Instant;

#[utoipa::path(
    post,
    path = "/facematch",
    tag = "facematch",
    request_body(content = FacematchMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Match verdict", body = FacematchResponse),
        (status = 400, description = "Missing, empty or undecodable image", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorEnvelope),
        (status = 413, description = "Body over the configured limit", body = ErrorEnvelope),
        (status = 422, description = "Bad fields, all listed", body = ErrorEnvelope),
        (status = 429, description = "Client over its rate limit or its share of the queue", body = ErrorEnvelope),
        (status = 503, description = "Analysis queue full", body = ErrorEnvelope),
        (status = 500, description = "Internal error", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
pub async fn facematch(
    State(st): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    req: Request,
) -> Result<Json<FacematchReport>, ApiError> {
    let ticket = st
        .pool
        .admit(&caller.owner)
        .map_err(|e| ApiError::from_pool(e, st.retry_after))?;
    let t = Instant::now();
    let raw = multipart::read(req, st.body_limit, st.upload_timeout).await?;
    if let Some(uid) = multipart::valid_unique_id(&raw) {
        rid.set_unique_id(uid);
    }
    let form = multipart::facematch(raw)?;
    st.metrics.observe_stage("parse", t.elapsed());
    let analyzer = st.analyzer.clone();
    let (outcome, times) = ticket
        .run(move || analyzer.facematch(&form.image1, &form.image2, form.details))
        .await
        .map_err(|e| ApiError::from_pool(e, st.retry_after))?;
    st.metrics.observe_stage("queue", times.queued);
    st.metrics.observe_stage("analysis", times.ran);
    let report = outcome?;
    tracing::info!(
        result = %report.facematch_result,
        confidence = %report.confidence_score,
        "facematch done"
    );
    Ok(Json(report))
}
