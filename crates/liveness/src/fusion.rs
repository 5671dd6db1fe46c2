//! From stage outcomes to the contract's verdicts.
//!
//! Rules (also in the README):
//! - A still without a usable face (`no_face`, `multiple_faces`, `face_too_small`) is
//!   `image_result: "fake"`; a video in which no analysed frame has a usable face likewise
//!   gives `result: "fake"`. Both with confidence 1: there is no live person to vouch for.
//! - Image only: `result` is the still's PAD verdict.
//! - Video (enhanced): a weighted fusion of the PAD scores (frames, and the still when given),
//!   non-rigid motion, and blink ([`policy`] holds the weights). A still with no usable face
//!   makes the result `fake` whatever the video shows.
//! - Legacy (`enhanced_detection=False`, image+video): the still's PAD verdict and a blink
//!   in the video are both required.
//! - `overall_result` is `"True"` only when `result` is real and, with image+video, facematch
//!   is `"True"`.

use crate::planarity::PlanarityReport;
use crate::policy;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    pub name: &'static str,
    pub value: f32,
    pub weight: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fused {
    pub score: f32,
    pub threshold: f32,
    pub real: bool,
    pub signals: Vec<Signal>,
    /// Why the verdict is `fake` regardless of the score, if so.
    pub veto: Option<&'static str>,
}

impl Fused {
    /// Confidence in the verdict that was given, not in "real".
    pub fn confidence(&self) -> f32 {
        if self.veto.is_some() {
            1.0
        } else if self.real {
            self.score
        } else {
            1.0 - self.score
        }
    }
}

pub fn verdict_confidence(score: f32, real: bool) -> f32 {
    if real { score } else { 1.0 - score }
}

/// The motion term: [`policy::MOTION_ABSENT_SCORE`] without evidence of depth, rising to 1 as
/// the mesh's motion departs from any plane. One-sided on purpose: a live person who holds
/// still moves like a photo, so planar motion says nothing against liveness.
pub fn motion_score(report: &PlanarityReport) -> f32 {
    let Some(residual) = report.residual else {
        return policy::MOTION_ABSENT_SCORE;
    };
    let depth = ((residual as f32 - policy::MOTION_RESIDUAL_LOW)
        / (policy::MOTION_RESIDUAL_HIGH - policy::MOTION_RESIDUAL_LOW))
        .clamp(0.0, 1.0);
    policy::MOTION_ABSENT_SCORE + (1.0 - policy::MOTION_ABSENT_SCORE) * depth
}

pub struct VideoSignals {
    /// Mean PAD over analysed frames with a usable face; `None` when there were none.
    pub frames_pad: Option<f32>,
    /// The still's PAD when a still was given: `Some(None)` means given but unusable.
    pub still_pad: Option<Option<f32>>,
    pub motion: f32,
    pub blink: bool,
}

pub fn enhanced(s: &VideoSignals) -> Fused {
    let blink_value = if s.blink {
        1.0
    } else {
        policy::BLINK_ABSENT_SCORE
    };
    let mut signals = Vec::new();
    let pad = match (s.frames_pad, s.still_pad) {
        (Some(v), Some(Some(i))) => {
            signals.push(Signal {
                name: "video_pad",
                value: v,
                weight: policy::W_VIDEO_PAD * (1.0 - policy::W_IMAGE_IN_VIDEO_MODE),
            });
            signals.push(Signal {
                name: "image_pad",
                value: i,
                weight: policy::W_VIDEO_PAD * policy::W_IMAGE_IN_VIDEO_MODE,
            });
            Some((1.0 - policy::W_IMAGE_IN_VIDEO_MODE) * v + policy::W_IMAGE_IN_VIDEO_MODE * i)
        }
        (Some(v), _) => {
            signals.push(Signal {
                name: "video_pad",
                value: v,
                weight: policy::W_VIDEO_PAD,
            });
            Some(v)
        }
        (None, _) => None,
    };
    signals.push(Signal {
        name: "motion",
        value: s.motion,
        weight: policy::W_MOTION,
    });
    signals.push(Signal {
        name: "blink",
        value: blink_value,
        weight: policy::W_BLINK,
    });
    let veto = if pad.is_none() {
        Some("no_usable_face_in_video")
    } else if matches!(s.still_pad, Some(None)) {
        Some("no_usable_face_in_image")
    } else {
        None
    };
    let score = pad.unwrap_or(0.0) * policy::W_VIDEO_PAD
        + s.motion * policy::W_MOTION
        + blink_value * policy::W_BLINK;
    let threshold = policy::RESULT_REAL_THRESHOLD;
    Fused {
        score,
        threshold,
        real: veto.is_none() && score >= threshold,
        signals,
        veto,
    }
}

/// Legacy path: the still's PAD verdict plus a blink in the video, both required.
pub fn legacy(still_pad: Option<f32>, blink: bool) -> Fused {
    let b = if blink { 1.0 } else { 0.0 };
    let i = still_pad.unwrap_or(0.0);
    let score = policy::W_LEGACY_IMAGE_PAD * i + policy::W_LEGACY_BLINK * b;
    let veto = if still_pad.is_none() {
        Some("no_usable_face_in_image")
    } else if !blink {
        Some("no_blink")
    } else {
        None
    };
    let real = veto.is_none() && i >= policy::IMAGE_REAL_THRESHOLD;
    Fused {
        score,
        threshold: policy::IMAGE_REAL_THRESHOLD,
        real,
        signals: vec![
            Signal {
                name: "image_pad",
                value: i,
                weight: policy::W_LEGACY_IMAGE_PAD,
            },
            Signal {
                name: "blink",
                value: b,
                weight: policy::W_LEGACY_BLINK,
            },
        ],
        veto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strong_attack_score_is_not_rescued_by_blink_and_motion() {
        let f = enhanced(&VideoSignals {
            frames_pad: Some(0.05),
            still_pad: None,
            motion: 1.0,
            blink: true,
        });
        assert!(!f.real, "{f:?}");
    }

    #[test]
    fn a_live_face_that_does_not_blink_can_pass() {
        let f = enhanced(&VideoSignals {
            frames_pad: Some(0.95),
            still_pad: None,
            motion: 0.5,
            blink: false,
        });
        assert!(f.real, "{f:?}");
    }

    #[test]
    fn no_face_in_the_still_vetoes() {
        let f = enhanced(&VideoSignals {
            frames_pad: Some(0.95),
            still_pad: Some(None),
            motion: 1.0,
            blink: true,
        });
        assert!(!f.real);
        assert_eq!(f.confidence(), 1.0);
    }
}
