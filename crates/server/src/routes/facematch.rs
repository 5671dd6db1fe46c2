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
use liveness::FacematchReport;

#[utoipa::path(
    post,
    path = "/facematch",
    tag = "facematch",
    summary = "Whether two stills show the same person",
    request_body(content = FacematchMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Match verdict", body = FacematchReport, headers(("X-Livegate-Ignored-Fields" = String, description = "Form fields this route read and ignored (unknown or misspelt names), comma-separated; absent when none"), ("X-Request-Id" = String, description = "The client's `unique_id` when given, else a generated id; also in the logs")), example = json!({"confidence_score": 0.874, "facematch_result": "True"})),
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
                .map(|c| FacematchReport::new(&c, form.details))
        },
    )
    .await?;
    let report = &done.value;
    tracing::info!(
        result = %report.facematch_result,
        confidence = %report.confidence_score,
        "facematch done"
    );
    Ok(done.annotate(Json(report).into_response()))
}
