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
}
