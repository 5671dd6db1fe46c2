//! The contract's bodies: `POST /liveness` ([`LivenessReport`], the vendor's 18 keys with their
//! string verdicts) and `POST /facematch` ([`FacematchReport`]), each a view of the typed result.
//! The strings exist only here, at the edge; the OpenAPI schema is derived from these types.

use crate::analysis::Analysis;
use crate::comparison::Comparison;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The 200 body of `POST /liveness`; every key is present in every mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LivenessReport {
    /// "real" | "fake": liveness verdict over all media given.
    #[schema(value_type = RealOrFake)]
    pub result: String,
    pub confidence: f32,
    /// A blink was seen in the video (false without video).
    pub blink_detection: bool,
    pub image_input: bool,
    pub video_input: bool,
    /// "True" | "False" (strings, as the vendor); "False" unless image+video.
    #[schema(value_type = TrueOrFalse)]
    pub facematch_result: String,
    pub facematch_confidence: f32,
    pub facematch_frames_tested: u32,
    /// "True" | "False": live and, with image+video, the same person.
    #[schema(value_type = TrueOrFalse)]
    pub overall_result: String,
    pub overall_confidence: f32,
    /// "real" | "fake" | "N/A".
    #[schema(value_type = RealFakeOrNotApplicable)]
    pub image_result: String,
    pub image_confidence: f32,
    pub video_frames_analyzed: u32,
    pub real_video_frames: u32,
    pub total_video_frames: u64,
    pub enhanced_detection: bool,
    pub frame_sampling_rate: u32,
    pub max_frames_analyzed: u32,
    /// Evidence, only with `details=True`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// The 200 body of `POST /facematch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacematchReport {
    pub confidence_score: f32,
    /// "True" | "False".
    #[schema(value_type = TrueOrFalse)]
    pub facematch_result: String,
    /// Evidence, only with `details=True`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// The words the string verdicts take, for the published schema only (the bodies keep the
/// vendor's plain strings, built from the typed decision in `From<&Analysis>`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RealOrFake {
    Real,
    Fake,
}

/// As [`RealOrFake`], plus "N/A" for a still that was not sent.
#[derive(Serialize, ToSchema)]
pub enum RealFakeOrNotApplicable {
    #[serde(rename = "real")]
    Real,
    #[serde(rename = "fake")]
    Fake,
    #[serde(rename = "N/A")]
    NotApplicable,
}

/// The vendor's boolean verdicts, as strings.
#[derive(Serialize, ToSchema)]
pub enum TrueOrFalse {
    True,
    False,
}

/// The vendor's spelling of a boolean verdict.
pub fn true_false(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Placeholder verdict of an input that was not sent.
pub const NOT_APPLICABLE: &str = "N/A";

/// Confidences are given in thousandths.
const PER_UNIT: f32 = 1000.0;
/// The step between two confidences as the responses give them.
pub const PRESENTED_STEP: f32 = 1.0 / PER_UNIT;

/// A confidence as the responses give it: in 0..=1, three decimals.
pub fn presented(x: f32) -> f32 {
    (x.clamp(0.0, 1.0) * PER_UNIT).round() / PER_UNIT
}

impl From<&Analysis> for LivenessReport {
    fn from(a: &Analysis) -> Self {
        let d = &a.decision;
        LivenessReport {
            result: d.result.as_str().into(),
            confidence: presented(d.confidence),
            blink_detection: a.blink_detected(),
            image_input: a.image_input(),
            video_input: a.video_input(),
            facematch_result: true_false(d.facematch).into(),
            facematch_confidence: presented(d.facematch_confidence),
            facematch_frames_tested: a.facematch.as_ref().map_or(0, |f| f.tested),
            overall_result: true_false(d.overall).into(),
            overall_confidence: presented(d.overall_confidence),
            image_result: d
                .image
                .map_or(NOT_APPLICABLE, |(verdict, _)| verdict.as_str())
                .into(),
            image_confidence: presented(d.image.map_or(0.0, |(_, c)| c)),
            video_frames_analyzed: a.frames.analyzed,
            real_video_frames: a.frames.real,
            total_video_frames: a.video.as_ref().map_or(0, |v| v.info.total_frames),
            enhanced_detection: a.echo.enhanced_detection,
            frame_sampling_rate: a.echo.frame_sampling_rate,
            max_frames_analyzed: a.echo.max_frames_analyzed,
            details: a.details_json(),
        }
    }
}

impl FacematchReport {
    pub fn new(c: &Comparison, details: bool) -> Self {
        FacematchReport {
            confidence_score: presented(c.confidence),
            facematch_result: true_false(c.same).into(),
            // Serialising plain structs of numbers and strings cannot fail.
            details: details.then(|| serde_json::to_value(c.details()).unwrap_or_default()),
        }
    }
}
