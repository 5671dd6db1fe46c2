//! The contract's 200 body. Every key is always present, whatever the mode.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessReport {
    /// "real" | "fake".
    pub result: String,
    pub confidence: f32,
    pub blink_detection: bool,
    pub image_input: bool,
    pub video_input: bool,
    /// "True" | "False" (strings, as the vendor).
    pub facematch_result: String,
    pub facematch_confidence: f32,
    pub facematch_frames_tested: u32,
    /// "True" | "False".
    pub overall_result: String,
    pub overall_confidence: f32,
    /// "real" | "fake" | "N/A".
    pub image_result: String,
    pub image_confidence: f32,
    pub video_frames_analyzed: u32,
    pub real_video_frames: u32,
    pub total_video_frames: u64,
    pub enhanced_detection: bool,
    pub frame_sampling_rate: u32,
    pub max_frames_analyzed: u32,
    /// Only with `details=True`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// Never serialised: the body is exactly the contract's.
    #[serde(skip)]
    pub internal: ReportInternals,
}

/// What the analysis knows that the contract's body has no key for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportInternals {
    /// The video's own verdict without the still, (real, confidence): `/v2`'s video block.
    pub video_verdict: Option<(bool, f32)>,
    /// Wall time per stage in ms, whether or not `details` was asked for (metrics).
    pub timings_ms: Vec<(&'static str, f64)>,
    /// Why the verdict is `fake` regardless of any score, when a rule decided it: the still's
    /// `no_face`, `multiple_faces` or `face_too_small`, or the fusion's veto
    /// (`no_usable_face_in_video`, `no_blink` in legacy mode). The 18 contract keys cannot say
    /// it; the edge puts it in a header, `/v2` and the batch results.
    pub reason: Option<&'static str>,
}
