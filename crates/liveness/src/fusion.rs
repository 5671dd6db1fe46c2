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

/// Why a fused verdict is `fake` regardless of its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Veto {
    NoUsableFaceInVideo,
    NoUsableFaceInImage,
    /// With a video as well, the still scores as an attack beyond doubt
    /// ([`FusionWeights::image_attack_below`]): a live video must not carry a still that is
    /// a replay or a print.
    AttackInImage,
    /// Legacy mode: the vendor's rule requires a blink.
    NoBlink,
}

impl Veto {
    /// The snake_case code, as in `details` and the `X-Livegate-Reason` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Veto::NoUsableFaceInVideo => "no_usable_face_in_video",
            Veto::NoUsableFaceInImage => "no_usable_face_in_image",
            Veto::AttackInImage => "attack_in_image",
            Veto::NoBlink => "no_blink",
        }
    }
}

/// The weights and thresholds fusion applies, as one value: the policy's are
/// [`policy::FUSION`]; a test can change one without editing a constant or loading a model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FusionWeights {
    /// Share of the mean frame PAD (and the still's, with both inputs) in the video score.
    pub video_pad: f32,
    pub blink: f32,
    pub motion: f32,
    /// With a still as well as a video, the still's share of the PAD part.
    pub image_in_video: f32,
    /// A still's live score at or above which it is `real` (also legacy's still rule).
    pub image_real_threshold: f32,
    /// A video's fused score at or above which it is `real`.
    pub result_real_threshold: f32,
    /// With a video, a still's live score below this vetoes the fused verdict. Fixed, not
    /// moved with a deployment's operating point: it marks "beyond doubt", not a trade-off.
    pub image_attack_below: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fused {
    pub score: f32,
    pub threshold: f32,
    pub real: bool,
    pub signals: Vec<Signal>,
    /// Why the verdict is `fake` regardless of the score, if so.
    pub veto: Option<Veto>,
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

pub fn enhanced(s: &VideoSignals, w: &FusionWeights) -> Fused {
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
                weight: w.video_pad * (1.0 - w.image_in_video),
            });
            signals.push(Signal {
                name: "image_pad",
                value: i,
                weight: w.video_pad * w.image_in_video,
            });
            Some((1.0 - w.image_in_video) * v + w.image_in_video * i)
        }
        (Some(v), _) => {
            signals.push(Signal {
                name: "video_pad",
                value: v,
                weight: w.video_pad,
            });
            Some(v)
        }
        (None, _) => None,
    };
    signals.push(Signal {
        name: "motion",
        value: s.motion,
        weight: w.motion,
    });
    signals.push(Signal {
        name: "blink",
        value: blink_value,
        weight: w.blink,
    });
    let veto = if pad.is_none() {
        Some(Veto::NoUsableFaceInVideo)
    } else if matches!(s.still_pad, Some(None)) {
        Some(Veto::NoUsableFaceInImage)
    } else if matches!(s.still_pad, Some(Some(i)) if i < w.image_attack_below) {
        Some(Veto::AttackInImage)
    } else {
        None
    };
    let score = pad.unwrap_or(0.0) * w.video_pad + s.motion * w.motion + blink_value * w.blink;
    let threshold = w.result_real_threshold;
    Fused {
        score,
        threshold,
        real: veto.is_none() && score >= threshold,
        signals,
        veto,
    }
}

/// Legacy path: the still's PAD verdict plus a blink in the video, both required. The blink
/// is a gate, not a term: without it the answer is `fake` whatever the still scored, and with
/// it the still's live score is the whole score, judged at the still's own threshold — so the
/// score, the verdict and the confidence always agree (a mean of the two would read 0.68 ≥ 0.43
/// for a still that failed its threshold). A video without a usable face in any analysed
/// frame is vetoed as such: no blink could be looked for there, so "no blink" would mislead.
pub fn legacy(still_pad: Option<f32>, video_face: bool, blink: bool, w: &FusionWeights) -> Fused {
    let i = still_pad.unwrap_or(0.0);
    let veto = if still_pad.is_none() {
        Some(Veto::NoUsableFaceInImage)
    } else if !video_face {
        Some(Veto::NoUsableFaceInVideo)
    } else if !blink {
        Some(Veto::NoBlink)
    } else {
        None
    };
    Fused {
        score: i,
        threshold: w.image_real_threshold,
        real: veto.is_none() && i >= w.image_real_threshold,
        signals: vec![
            Signal {
                name: "image_pad",
                value: i,
                weight: 1.0,
            },
            // Weight 0: it decides through the veto, not the sum.
            Signal {
                name: "blink",
                value: if blink { 1.0 } else { 0.0 },
                weight: 0.0,
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
        let f = enhanced(
            &VideoSignals {
                frames_pad: Some(0.05),
                still_pad: None,
                motion: 1.0,
                blink: true,
            },
            &policy::FUSION,
        );
        assert!(!f.real, "{f:?}");
    }

    #[test]
    fn a_live_face_that_does_not_blink_can_pass() {
        let f = enhanced(
            &VideoSignals {
                frames_pad: Some(0.95),
                still_pad: None,
                motion: 0.5,
                blink: false,
            },
            &policy::FUSION,
        );
        assert!(f.real, "{f:?}");
    }

    #[test]
    fn a_still_beyond_doubt_an_attack_vetoes_a_live_video() {
        let with_still = |still: f32| {
            enhanced(
                &VideoSignals {
                    frames_pad: Some(0.95),
                    still_pad: Some(Some(still)),
                    motion: 1.0,
                    blink: true,
                },
                &policy::FUSION,
            )
        };
        let attack = with_still(policy::IMAGE_ATTACK_BELOW / 2.0);
        assert!(
            !attack.real && attack.veto == Some(Veto::AttackInImage),
            "{attack:?}"
        );
        // A still merely judged fake (between the two thresholds) is outweighed, not a veto.
        let doubtful = with_still(policy::IMAGE_ATTACK_BELOW + 0.1);
        assert!(doubtful.real && doubtful.veto.is_none(), "{doubtful:?}");
    }

    #[test]
    fn no_face_in_the_still_vetoes() {
        let f = enhanced(
            &VideoSignals {
                frames_pad: Some(0.95),
                still_pad: Some(None),
                motion: 1.0,
                blink: true,
            },
            &policy::FUSION,
        );
        assert!(!f.real);
        assert_eq!(f.confidence(), 1.0);
    }
}
