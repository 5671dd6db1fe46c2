//! `POST /v2/liveness`: the same analysis as `/liveness`, re-shaped into one block per input
//! (`image`, `video`, `facematch`) plus `overall`. Every block is always present, with
//! `input_provided`/`performed` saying whether it means anything, so the shape never changes.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::{AnalysisErrors, LivenessMultipartRequest};
use crate::request_id::RequestId;
use axum::Json;
use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse, Response};
use liveness::report::{NOT_APPLICABLE, presented, true_false};
use liveness::{Analysis, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageBlock {
    pub input_provided: bool,
    pub performed: bool,
    /// "real" | "fake" | "N/A": presentation-attack verdict on the still.
    pub result: String,
    pub confidence: f32,
    /// The still's live score lies within the review margin (`details.review.margin`) of the
    /// threshold: of the verdicts worth a person's look (README, "Your own operating point").
    pub near_threshold: bool,
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
    /// `multiple_faces`, `face_too_small` (the still), `no_usable_face_in_video`, `attack_in_image`, `no_blink`
    /// (legacy mode), and with `challenge_id` `challenge_failed`, `challenge_face_changed`,
    /// `challenge_expired`, `challenge_reused`, `challenge_foreign`, `challenge_invalid`.
    /// `null` when the scores decided.
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

impl From<&Analysis> for LivenessV2 {
    fn from(a: &Analysis) -> Self {
        let d = &a.decision;
        let verdict = |v: Option<(Verdict, f32)>| match v {
            Some((verdict, confidence)) => (verdict.as_str().to_owned(), presented(confidence)),
            None => (NOT_APPLICABLE.to_owned(), 0.0),
        };
        let (image_result, image_confidence) = verdict(d.image);
        let (video_result, video_confidence) = verdict(d.video_alone);
        let both = a.both_inputs();
        Self {
            image: ImageBlock {
                input_provided: a.image_input(),
                performed: d.image.is_some(),
                result: image_result,
                confidence: image_confidence,
                near_threshold: d.image_near_threshold,
            },
            video: VideoBlock {
                input_provided: a.video_input(),
                performed: d.video_alone.is_some(),
                result: video_result,
                confidence: video_confidence,
                blink_detection: a.blink_detected(),
                enhanced_detection: a.echo.enhanced_detection,
                frames_analyzed: a.frames.analyzed,
                real_frames: a.frames.real,
                total_frames: a.video.as_ref().map_or(0, |v| v.info.total_frames),
                frame_sampling_rate: a.echo.frame_sampling_rate,
                max_frames_analyzed: a.echo.max_frames_analyzed,
            },
            facematch: FacematchBlock {
                input_provided: both,
                performed: both,
                result: if both {
                    true_false(d.facematch).into()
                } else {
                    NOT_APPLICABLE.into()
                },
                confidence: if both {
                    presented(d.facematch_confidence)
                } else {
                    0.0
                },
                frames_tested: a.facematch.as_ref().map_or(0, |f| f.tested),
            },
            overall: OverallBlock {
                input_provided: a.image_input() || a.video_input(),
                performed: true,
                result: true_false(d.overall).into(),
                confidence: presented(d.overall_confidence),
                liveness_result: d.result.as_str().into(),
                liveness_confidence: presented(d.confidence),
                reason: a.reason.map(|r| r.as_str().to_owned()),
            },
            details: a.details_json(),
        }
    }
}

#[utoipa::path(
    post,
    path = "/v2/liveness",
    tag = "liveness",
    summary = "The same analysis, one block per input plus overall and the reason",
    request_body(content = LivenessMultipartRequest, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Verdict in blocks; every block always present", body = LivenessV2, headers(("X-Livegate-Reason" = String, description = "Why a rule, not a score, made the verdict fake; absent otherwise"), ("X-Livegate-Ignored-Fields" = String, description = "Form fields this route read and ignored (unknown or misspelt names), comma-separated; absent when none"), ("X-Livegate-Capped-Fields" = String, description = "Tuning fields sent above their caps and served at them (`max_frames_to_analyze=300`), comma-separated; absent when none"), ("X-Request-Id" = String, description = "The client's `unique_id` when given, else a generated id; also in the logs")), example = json!({"image": {"input_provided": true, "performed": true, "result": "fake", "confidence": 1.0}, "video": {"input_provided": false, "performed": false, "result": "N/A", "confidence": 0.0, "blink_detection": false, "enhanced_detection": true, "frames_analyzed": 0, "real_frames": 0, "total_frames": 0, "frame_sampling_rate": 15, "max_frames_analyzed": 20}, "facematch": {"input_provided": false, "performed": false, "result": "N/A", "confidence": 0.0, "frames_tested": 0}, "overall": {"input_provided": true, "performed": true, "result": "False", "confidence": 1.0, "liveness_result": "fake", "liveness_confidence": 1.0, "reason": "no_face"}})),
        AnalysisErrors,
    ),
    security(("bearer" = []))
)]
pub async fn liveness_v2(
    State(st): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let done = super::liveness::run(&st, &rid, &caller, req).await?;
    let body = LivenessV2::from(&done.value);
    Ok(done.annotate(super::liveness::with_reason(
        Json(body).into_response(),
        done.value.reason,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveness::analysis::{Echo, FrameCounts, StillEvidence, Timings, VideoEvidence};
    use liveness::decide::{FacematchMeasure, Options, Signals, VideoMeasures, decide};
    use liveness::{Mode, policy};

    /// An analysis of the given inputs with hand-made measurements: a real still (0.95), a
    /// video whose frames score 0.9 with a blink, three matching frames.
    fn analysis(image: bool, video: bool) -> Analysis {
        let signals = Signals {
            still_pad: image.then_some(Some(0.95)),
            video: video.then_some(VideoMeasures {
                frames_pad: Some(0.9),
                motion: policy::MOTION_ABSENT_SCORE,
                blink: true,
                face_seen: true,
            }),
            legacy: false,
            facematch: (image && video).then_some(FacematchMeasure {
                tested: 3,
                fraction: 1.0,
            }),
            challenge_passed: None,
        };
        let info = media::VideoInfo {
            total_frames: 300,
            ..Default::default()
        };
        Analysis {
            mode: if video { Mode::Enhanced } else { Mode::Image },
            echo: Echo {
                enhanced_detection: true,
                frame_sampling_rate: 15,
                max_frames_analyzed: 20,
                details: false,
            },
            decision: decide(&signals, &Options::with_facematch_threshold(0.6)),
            reason: None,
            still: image.then(StillEvidence::default),
            video: video.then(|| VideoEvidence {
                info,
                ..Default::default()
            }),
            frames: FrameCounts {
                analyzed: 20,
                real: 15,
            },
            facematch: None,
            challenge: None,
            pad_weights: Default::default(),
            timings: Timings::default(),
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
            .map(|&(i, v)| keys(&serde_json::to_value(LivenessV2::from(&analysis(i, v))).unwrap()))
            .collect();
        assert_eq!(shapes[0], shapes[1]);
        assert_eq!(shapes[0], shapes[2]);
    }

    #[test]
    fn unused_blocks_say_so() {
        let v = LivenessV2::from(&analysis(true, false));
        assert!(!v.video.input_provided && !v.video.performed);
        assert_eq!(v.video.result, "N/A");
        assert!(!v.facematch.performed);
        assert_eq!(v.facematch.result, "N/A");
        assert_eq!(
            (v.image.result.as_str(), v.image.confidence),
            ("real", 0.95)
        );

        let v = LivenessV2::from(&analysis(true, true));
        // The video block is the video judged without the still: 0.75 × 0.9 + 0.15 + 0.05.
        assert_eq!(v.video.result, "real");
        assert!(
            (v.video.confidence - 0.875).abs() < 1e-6,
            "{}",
            v.video.confidence
        );
        assert_eq!((v.video.total_frames, v.video.real_frames), (300, 15));
        assert_eq!(v.facematch.result, "True");
        assert_eq!(v.overall.result, "True");
    }
}
