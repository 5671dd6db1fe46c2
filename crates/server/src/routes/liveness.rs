//! `POST /liveness`: the contract's flat report.

use super::flow::Analysed;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::multipart;
use crate::openapi::{AnalysisErrors, LivenessMultipartRequest};
use crate::request_id::RequestId;
use axum::Json;
use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse, Response};
use liveness::challenge::ChallengeInput;
use liveness::{Analysis, LivenessReport, Reason};
use std::time::Duration;

#[utoipa::path(
    post,
    path = "/liveness",
    tag = "liveness",
    summary = "Liveness of a still, a video or both (the contract's 18 keys)",
    request_body(content = LivenessMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Verdict; every key always present. `X-Livegate-Reason` (no_face, multiple_faces, face_too_small, no_usable_face_in_video, attack_in_image, no_blink; with `challenge_id`: challenge_failed, challenge_face_changed, challenge_expired, challenge_reused, challenge_foreign, challenge_invalid) says why when a rule, not a score, made it fake", body = LivenessReport, headers(("X-Livegate-Reason" = String, description = "Why a rule, not a score, made the verdict fake; absent otherwise"), ("X-Livegate-Ignored-Fields" = String, description = "Form fields this route read and ignored (unknown or misspelt names), comma-separated; absent when none"), ("X-Livegate-Capped-Fields" = String, description = "Tuning fields sent above their caps and served at them (`max_frames_to_analyze=300`), comma-separated; absent when none"), ("X-Request-Id" = String, description = "The client's `unique_id` when given, else a generated id; also in the logs")), example = json!({"result": "real", "confidence": 0.912, "blink_detection": true, "image_input": true, "video_input": true, "facematch_result": "True", "facematch_confidence": 1.0, "facematch_frames_tested": 3, "overall_result": "True", "overall_confidence": 0.912, "image_result": "real", "image_confidence": 0.948, "video_frames_analyzed": 20, "real_video_frames": 19, "total_video_frames": 312, "enhanced_detection": true, "frame_sampling_rate": 15, "max_frames_analyzed": 20})),
        AnalysisErrors,
    ),
    security(("bearer" = []))
)]
pub async fn liveness(
    State(st): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let done = run(&st, &rid, &caller, req).await?;
    let body = LivenessReport::from(&done.value);
    Ok(done.annotate(with_reason(Json(body).into_response(), done.value.reason)))
}

/// The header that says why a verdict is `fake` regardless of any score (`no_face`, …): the
/// contract's 18 keys have no room for it, and without it a client sees only "fake, 1.0".
pub const REASON_HEADER: &str = "x-livegate-reason";

pub fn with_reason(mut resp: Response, reason: Option<Reason>) -> Response {
    if let Some(r) = reason {
        resp.headers_mut().insert(
            REASON_HEADER,
            axum::http::HeaderValue::from_static(r.as_str()),
        );
    }
    resp
}

/// The flow shared by `/liveness` and `/v2/liveness`.
pub async fn run(
    st: &AppState,
    rid: &RequestId,
    caller: &Caller,
    req: Request,
) -> Result<Analysed<Analysis>, ApiError> {
    let jobs = st.jobs.clone();
    let owner = caller.owner.clone();
    let done = super::flow::analyse(
        st,
        rid,
        caller,
        req,
        &["image", "video"],
        multipart::liveness,
        move |analyzer, form| {
            let mut request = form.request;
            tracing::info!(
                image_bytes = request.image.as_ref().map_or(0, Vec::len),
                video_bytes = request.video.as_ref().map_or(0, Vec::len),
                challenge = form.challenge.is_some(),
                "analysis started"
            );
            if let Some(id) = &form.challenge {
                request.challenge = Some(super::challenges::resolve(jobs.as_deref(), id, &owner)?);
            }
            let analysed = analyzer.analyse(&request);
            // Single use means one analysed answer: a video that could not be analysed (or a
            // server error) leaves the challenge to the client's retry, which would otherwise
            // read as a replay (`challenge_reused`).
            if let (Err(_), Some(ChallengeInput::Steps(_)), Some(id)) =
                (&analysed, &request.challenge, &form.challenge)
            {
                super::challenges::release(jobs.as_deref(), id);
            }
            analysed
        },
    )
    .await?;
    let analysis = &done.value;
    for (stage, ms) in analysis.timings.stages() {
        if ms.is_finite() && ms >= 0.0 {
            st.metrics
                .observe_stage(stage, Duration::from_secs_f64(ms / 1e3));
        }
    }
    let d = &analysis.decision;
    tracing::info!(
        result = d.result.as_str(),
        confidence = %d.confidence,
        overall = d.overall,
        reason = analysis.reason.map(Reason::as_str),
        "analysis done"
    );
    Ok(done)
}
