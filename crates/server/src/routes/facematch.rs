//! `POST /facematch`: are the faces in two stills the same person?

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::multipart;
use crate::openapi::{AnalysisErrors, FacematchMultipartRequest};
use crate::request_id::RequestId;
use axum::Json;
use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse, Response};
use liveness::{FacematchReport, Reason};

#[utoipa::path(
    post,
    path = "/facematch",
    tag = "facematch",
    summary = "Whether two stills show the same person",
    request_body(content = FacematchMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Match verdict; `X-Livegate-Reason` says why when a still had no usable face to compare", body = FacematchReport, headers(("X-Livegate-Reason" = String, description = "Why a still had no usable face to compare (`no_face`, `multiple_faces`, `face_too_small`; of `image1` first); absent otherwise"), ("X-Livegate-Ignored-Fields" = String, description = "Form fields this route read and ignored (unknown or misspelt names), comma-separated; absent when none"), ("X-Request-Id" = String, description = "The client's `unique_id` when given, else a generated id; also in the logs")), example = json!({"confidence_score": 0.874, "facematch_result": "True"})),
        AnalysisErrors,
    ),
    security(("bearer" = []))
)]
pub async fn facematch(
    State(st): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let done = super::flow::analyse(
        &st,
        &rid,
        &caller,
        req,
        &["image1", "image2"],
        multipart::facematch,
        |analyzer, form| {
            analyzer
                .facematch(&form.image1, &form.image2)
                .map(|c| (FacematchReport::new(&c, form.details), c.unusable))
        },
    )
    .await?;
    let (report, unusable) = &done.value;
    tracing::info!(
        result = %report.facematch_result,
        confidence = %report.confidence_score,
        "facematch done"
    );
    // As on /liveness: a rule, not a score, made the answer "False" — a still without a usable
    // face has nothing to compare, and the header says why.
    let resp = done.annotate(Json(report).into_response());
    let resp = super::liveness::with_reason(resp, unusable.map(Reason::Still));
    Ok(resp)
}
