//! `POST /v2/liveness`: the same analysis as `/liveness`, re-shaped into one block per input
//! (`image`, `video`, `facematch`) plus `overall`. Every block is always present, with
//! `input_provided`/`performed` saying whether it means anything, so the shape never changes.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::{ErrorEnvelope, LivenessMultipartRequest};
use crate::request_id::RequestId;
use axum::Json;
use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse, Response};
use liveness::LivenessReport;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Placeholder verdict of a block that was not performed.
pub const NOT_APPLICABLE: &str = "N/A";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageBlock {
    pub input_provided: bool,
    pub performed: bool,
    /// "real" | "fake" | "N/A": presentation-attack verdict on the still.
    pub result: String,
    pub confidence: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VideoBlock {
    pub input_provided: bool,
    pub performed: bool,
    /// "real" | "fake" | "N/A".
    pub result: String,
    pub confidence: f32,
    pub blink_detection: bool,
    pub enhanced_detection: bool,
    pub frames_analyzed: u32,
    pub real_frames: u32,
    pub total_frames: u64,
    pub frame_sampling_rate: u32,
    pub max_frames_analyzed: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacematchBlock {
    /// True when both a still and a video were sent (the only mode that compares faces).
    pub input_provided: bool,
    pub performed: bool,
    /// "True" | "False" | "N/A".
    pub result: String,
    /// Fraction of tested frames that matched the still.
    pub confidence: f32,
    pub frames_tested: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OverallBlock {
    pub input_provided: bool,
    pub performed: bool,
    /// "True" | "False": live and, with image+video, the same person.
    pub result: String,
    pub confidence: f32,
    /// "real" | "fake": the liveness verdict over all media given.
    pub liveness_result: String,
    pub liveness_confidence: f32,
    /// Why the verdict is fake regardless of any score, when a rule decided it: `no_face`,
    /// `multiple_faces`, `face_too_small` (the still), `no_usable_face_in_video`, `no_blink`
    /// (legacy mode). `null` when the scores decided.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LivenessV2 {
    pub image: ImageBlock,
    pub video: VideoBlock,
    pub facematch: FacematchBlock,
    pub overall: OverallBlock,
    /// Evidence, only with `details=True`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl From<LivenessReport> for LivenessV2 {
    fn from(r: LivenessReport) -> Self {
        let image_done = r.image_input && r.image_result != NOT_APPLICABLE;
        let (video_result, video_confidence) = video_verdict(&r);
        let both = r.image_input && r.video_input;
        Self {
            image: ImageBlock {
                input_provided: r.image_input,
                performed: image_done,
                result: if image_done {
                    r.image_result.clone()
                } else {
                    NOT_APPLICABLE.into()
                },
                confidence: if image_done { r.image_confidence } else { 0.0 },
            },
            video: VideoBlock {
                input_provided: r.video_input,
                performed: r.video_input,
                result: video_result,
                confidence: video_confidence,
                blink_detection: r.blink_detection,
                enhanced_detection: r.enhanced_detection,
                frames_analyzed: r.video_frames_analyzed,
                real_frames: r.real_video_frames,
                total_frames: r.total_video_frames,
                frame_sampling_rate: r.frame_sampling_rate,
                max_frames_analyzed: r.max_frames_analyzed,
            },
            facematch: FacematchBlock {
                input_provided: both,
                performed: both,
                result: if both {
                    r.facematch_result.clone()
                } else {
                    NOT_APPLICABLE.into()
                },
                confidence: if both { r.facematch_confidence } else { 0.0 },
                frames_tested: r.facematch_frames_tested,
            },
            overall: OverallBlock {
                input_provided: r.image_input || r.video_input,
                performed: true,
                result: r.overall_result.clone(),
                confidence: r.overall_confidence,
                liveness_result: r.result.clone(),
                liveness_confidence: r.confidence,
                reason: r.internal.reason.map(str::to_owned),
            },
            details: r.details,
        }
    }
}

/// The video block's verdict: the analysis's own judgement of the video without the still when
/// it gives one; otherwise derived from the contract's keys (video alone: the overall verdict;
/// legacy: the blink check; enhanced: the majority of analysed frames).
fn video_verdict(r: &LivenessReport) -> (String, f32) {
    let verdict = |real: bool| if real { "real" } else { "fake" }.to_string();
    if !r.video_input {
        return (NOT_APPLICABLE.into(), 0.0);
    }
    if let Some((real, confidence)) = r.internal.video_verdict {
        return (verdict(real), confidence);
    }
    if !r.image_input {
        return (r.result.clone(), r.confidence);
    }
    if !r.enhanced_detection {
        return (verdict(r.blink_detection), 1.0);
    }
    if r.video_frames_analyzed == 0 {
        return (verdict(false), 0.0);
    }
    let share = r.real_video_frames as f32 / r.video_frames_analyzed as f32;
    if share >= 0.5 {
        (verdict(true), share)
    } else {
        (verdict(false), 1.0 - share)
    }
}

#[utoipa::path(
    post,
    path = "/v2/liveness",
    tag = "liveness",
    request_body(content = LivenessMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Verdict in blocks; every block always present", body = LivenessV2),
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
pub async fn liveness_v2(
    State(st): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let report = super::liveness::run(&st, &rid, &caller, req).await?;
    let reason = report.internal.reason;
    let body: LivenessV2 = report.into();
    Ok(super::liveness::with_reason(
        Json(body).into_response(),
        reason,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(image: bool, video: bool) -> LivenessReport {
        LivenessReport {
            result: "real".into(),
            confidence: 0.9,
            blink_detection: video,
            image_input: image,
            video_input: video,
            facematch_result: if image && video { "True" } else { "False" }.into(),
            facematch_confidence: if image && video { 1.0 } else { 0.0 },
            facematch_frames_tested: if image && video { 3 } else { 0 },
            overall_result: "True".into(),
            overall_confidence: 0.9,
            image_result: if image { "real" } else { "N/A" }.into(),
            image_confidence: if image { 0.95 } else { 0.0 },
            video_frames_analyzed: if video { 20 } else { 0 },
            real_video_frames: if video { 15 } else { 0 },
            total_video_frames: if video { 300 } else { 0 },
            enhanced_detection: true,
            frame_sampling_rate: 15,
            max_frames_analyzed: 20,
            details: None,
            internal: Default::default(),
        }
    }

    fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut out = Vec::new();
        for (block, inner) in v.as_object().unwrap() {
            for k in inner.as_object().unwrap().keys() {
                out.push(format!("{block}.{k}"));
            }
        }
        out
    }

    #[test]
    fn shape_is_the_same_in_every_mode() {
        let shapes: Vec<_> = [(true, true), (true, false), (false, true)]
            .iter()
            .map(|&(i, v)| keys(&serde_json::to_value(LivenessV2::from(report(i, v))).unwrap()))
            .collect();
        assert_eq!(shapes[0], shapes[1]);
        assert_eq!(shapes[0], shapes[2]);
    }

    #[test]
    fn unused_blocks_say_so() {
        let v = LivenessV2::from(report(true, false));
        assert!(!v.video.input_provided && !v.video.performed);
        assert_eq!(v.video.result, "N/A");
        assert!(!v.facematch.performed);
        assert_eq!(v.facematch.result, "N/A");
        assert_eq!(v.image.result, "real");

        let v = LivenessV2::from(report(true, true));
        assert_eq!(v.video.result, "real");
        assert!((v.video.confidence - 0.75).abs() < 1e-6);
        assert_eq!(v.facematch.result, "True");
        assert_eq!(v.facematch.frames_tested, 3);
    }
}
