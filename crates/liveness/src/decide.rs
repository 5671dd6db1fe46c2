//! The decision as one pure function: measured signals in, every verdict of the response out.
//!
//! Nothing here runs a model or reads a file, so each rule of the policy can be checked by a
//! unit test on hand-made signals (see the tests below), and the analyser's job reduces to
//! three steps: run the stages, [`decide`], build the response.

use crate::fusion::{self, Fused, FusionWeights, VideoSignals};
use crate::policy;
use serde::Serialize;

/// A presentation verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Real,
    Fake,
}

impl Verdict {
    pub fn real(is_real: bool) -> Self {
        if is_real {
            Verdict::Real
        } else {
            Verdict::Fake
        }
    }

    pub fn is_real(self) -> bool {
        self == Verdict::Real
    }

    /// The contract's spelling: `"real"` / `"fake"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Real => "real",
            Verdict::Fake => "fake",
        }
    }
}

/// What the video measured, before it is fused with anything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoMeasures {
    /// Mean PAD over analysed frames with a usable face; `None` when there were none.
    pub frames_pad: Option<f32>,
    /// The motion term (see [`fusion::motion_score`]).
    pub motion: f32,
    pub blink: bool,
    /// Some analysed frame had a usable face (legacy mode runs no per-frame PAD, so
    /// `frames_pad` cannot tell).
    pub face_seen: bool,
}

/// Facematch of the still against the video's frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FacematchMeasure {
    pub tested: u32,
    /// Fraction of the tested frames that match the still.
    pub fraction: f32,
}

/// Everything the verdicts depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// `None`: no still was sent. `Some(None)`: a still without a usable face. `Some(Some(s))`:
    /// its PAD live score.
    pub still_pad: Option<Option<f32>>,
    pub video: Option<VideoMeasures>,
    /// `enhanced_detection=False` with both inputs: still verdict AND blink.
    pub legacy: bool,
    /// Still against video, when both were sent.
    pub facematch: Option<FacematchMeasure>,
    /// Whether the video answered its active challenge; `None` without one.
    pub challenge_passed: Option<bool>,
}

/// Every verdict of a liveness response, with its confidence (in the verdict given).
#[derive(Debug, Clone)]
pub struct Decision {
    pub result: Verdict,
    pub confidence: f32,
    /// The still judged alone, when one was sent.
    pub image: Option<(Verdict, f32)>,
    /// The still's live score lies within [`policy::REVIEW_MARGIN`] of the threshold it was
    /// judged at: its verdict is of the kind a person should look at. False without a scored
    /// still.
    pub image_near_threshold: bool,
    /// The video judged alone (without the still), when one was sent.
    pub video_alone: Option<(Verdict, f32)>,
    /// The fusion behind `result` when a video was sent.
    pub fused: Option<Fused>,
    /// The weights and thresholds every verdict above applied.
    pub rules: FusionWeights,
    pub facematch: bool,
    pub facematch_confidence: f32,
    pub overall: bool,
    pub overall_confidence: f32,
}

/// What the rules are: the client's facematch threshold and the policy's fusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Fraction of tested frames that must match the still (`facematch_threshold`).
    pub facematch_threshold: f32,
    pub fusion: FusionWeights,
}

impl Options {
    /// The policy's rules with the client's facematch threshold.
    pub fn with_facematch_threshold(facematch_threshold: f32) -> Self {
        Options {
            facematch_threshold,
            fusion: policy::FUSION,
        }
    }
}

pub fn decide(s: &Signals, o: &Options) -> Decision {
    let w = &o.fusion;
    let image = s.still_pad.map(|pad| match pad {
        Some(score) => {
            let real = score >= w.image_real_threshold;
            (Verdict::real(real), fusion::verdict_confidence(score, real))
        }
        // No usable face: there is no live person to vouch for.
        None => (Verdict::Fake, 1.0),
    });
    let image_near_threshold = s
        .still_pad
        .flatten()
        .is_some_and(|score| near_threshold(score, w.image_real_threshold));
    let video_signals = |v: &VideoMeasures, still_pad| VideoSignals {
        frames_pad: v.frames_pad,
        still_pad,
        motion: v.motion,
        blink: v.blink,
    };
    let fused = match (&s.video, s.still_pad) {
        (Some(v), Some(still)) if s.legacy => Some(fusion::legacy(still, v.face_seen, v.blink, w)),
        (Some(v), still) => Some(fusion::enhanced(&video_signals(v, still), w)),
        (None, _) => None,
    };
    let video_alone = s.video.as_ref().map(|v| {
        if s.legacy {
            (Verdict::real(v.blink), 1.0)
        } else {
            let alone = fusion::enhanced(&video_signals(v, None), w);
            (Verdict::real(alone.real), alone.confidence())
        }
    });
    let (result, confidence) = match (&fused, image) {
        (Some(f), _) => (Verdict::real(f.real), f.confidence()),
        (None, Some(iv)) => iv,
        (None, None) => (Verdict::Fake, 1.0),
    };
    // A challenge the video did not answer is a veto: a recording made before it was issued
    // cannot know it, however live it looks.
    let vetoed = s.challenge_passed == Some(false);
    let (result, confidence) = if vetoed {
        (Verdict::Fake, 1.0)
    } else {
        (result, confidence)
    };
    let video_alone = if vetoed {
        video_alone.map(|_| (Verdict::Fake, 1.0))
    } else {
        video_alone
    };
    let both = s.still_pad.is_some() && s.video.is_some();
    // A positive facematch needs at least one matching frame whatever the threshold: at
    // `facematch_threshold=0` (in the contract's range, and what an unset float becomes) a
    // different person would otherwise pass.
    let facematch = both
        && s.facematch.is_some_and(|f| {
            f.tested > 0 && f.fraction > 0.0 && f.fraction >= o.facematch_threshold
        });
    let facematch_confidence = s.facematch.map_or(0.0, |f| f.fraction);
    let overall = result.is_real() && (!both || facematch);
    let overall_confidence = if overall {
        if both {
            confidence.min(facematch_confidence)
        } else {
            confidence
        }
    } else if !result.is_real() {
        confidence
    } else {
        1.0 - facematch_confidence
    };
    Decision {
        result,
        confidence,
        image,
        image_near_threshold,
        video_alone,
        fused,
        facematch,
        facematch_confidence,
        overall,
        overall_confidence,
        rules: o.fusion,
    }
}

/// Within [`policy::REVIEW_MARGIN`] of `threshold`, either side.
pub fn near_threshold(score: f32, threshold: f32) -> bool {
    (score - threshold).abs() < policy::REVIEW_MARGIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(frames_pad: f32, blink: bool) -> Option<VideoMeasures> {
        Some(VideoMeasures {
            frames_pad: Some(frames_pad),
            motion: policy::MOTION_ABSENT_SCORE,
            blink,
            face_seen: true,
        })
    }

    #[test]
    fn image_only_follows_the_still_threshold() {
        let at = |pad| {
            decide(
                &Signals {
                    still_pad: Some(Some(pad)),
                    video: None,
                    legacy: false,
                    facematch: None,
                    challenge_passed: None,
                },
                &Options::with_facematch_threshold(0.6),
            )
        };
        assert_eq!(at(policy::IMAGE_REAL_THRESHOLD).result, Verdict::Real);
        assert_eq!(
            at(policy::IMAGE_REAL_THRESHOLD - 0.01).result,
            Verdict::Fake
        );
        let d = at(0.9);
        assert!(d.overall && (d.overall_confidence - 0.9).abs() < 1e-6);
        assert!(!d.facematch, "no facematch without a video");
    }

    #[test]
    fn a_still_near_the_threshold_is_flagged_on_both_sides() {
        let t = policy::IMAGE_REAL_THRESHOLD;
        let flagged = |pad, fusion| {
            let o = Options {
                facematch_threshold: 0.6,
                fusion,
            };
            let s = Signals {
                still_pad: Some(pad),
                video: None,
                legacy: false,
                facematch: None,
                challenge_passed: None,
            };
            decide(&s, &o).image_near_threshold
        };
        let m = policy::REVIEW_MARGIN;
        assert!(flagged(Some(t + m / 2.0), policy::FUSION), "just real");
        assert!(flagged(Some(t - m / 2.0), policy::FUSION), "just fake");
        assert!(!flagged(Some(t + m * 1.5), policy::FUSION));
        assert!(!flagged(Some(t - m * 1.5), policy::FUSION));
        assert!(
            !flagged(None, policy::FUSION),
            "no usable face: a rule, not a score"
        );
        // The band follows the threshold the still was judged at (an operating point).
        let moved = policy::fusion_at(t + 2.0 * m);
        assert!(!flagged(Some(t), moved));
        assert!(flagged(Some(t + 2.0 * m), moved));
    }

    #[test]
    fn a_still_without_a_face_is_fake_with_full_confidence() {
        let d = decide(
            &Signals {
                still_pad: Some(None),
                video: video(0.95, true),
                legacy: false,
                facematch: Some(FacematchMeasure {
                    tested: 3,
                    fraction: 1.0,
                }),
                challenge_passed: None,
            },
            &Options::with_facematch_threshold(0.6),
        );
        assert_eq!(d.image, Some((Verdict::Fake, 1.0)));
        assert_eq!((d.result, d.confidence), (Verdict::Fake, 1.0));
        assert!(!d.overall);
        // The video alone would have passed: the veto is the still's.
        assert_eq!(d.video_alone.map(|v| v.0), Some(Verdict::Real));
    }

    #[test]
    fn a_real_result_fails_overall_when_the_faces_do_not_match() {
        let signals = |fraction| Signals {
            still_pad: Some(Some(0.9)),
            video: video(0.9, false),
            legacy: false,
            facematch: Some(FacematchMeasure {
                tested: 3,
                fraction,
            }),
            challenge_passed: None,
        };
        let matched = decide(&signals(1.0), &Options::with_facematch_threshold(0.6));
        assert!(matched.result.is_real() && matched.facematch && matched.overall);
        let other_person = decide(&signals(0.0), &Options::with_facematch_threshold(0.6));
        assert!(other_person.result.is_real());
        assert!(!other_person.facematch && !other_person.overall);
        assert!((other_person.overall_confidence - 1.0).abs() < 1e-6);
        // The client's threshold decides: 2 of 3 frames pass at 0.6, not at 0.7.
        assert!(decide(&signals(2.0 / 3.0), &Options::with_facematch_threshold(0.6)).facematch);
        assert!(!decide(&signals(2.0 / 3.0), &Options::with_facematch_threshold(0.7)).facematch);
        // Threshold 0 still asks for one matching frame.
        let none_matched = decide(&signals(0.0), &Options::with_facematch_threshold(0.0));
        assert!(!none_matched.facematch && !none_matched.overall);
        assert!(decide(&signals(1.0 / 3.0), &Options::with_facematch_threshold(0.0)).facematch);
    }

    #[test]
    fn legacy_mode_needs_both_a_real_still_and_a_blink() {
        let legacy = |pad, blink| {
            decide(
                &Signals {
                    still_pad: Some(Some(pad)),
                    video: video(0.1, blink),
                    legacy: true,
                    facematch: Some(FacematchMeasure {
                        tested: 3,
                        fraction: 1.0,
                    }),
                    challenge_passed: None,
                },
                &Options::with_facematch_threshold(0.6),
            )
        };
        assert!(legacy(0.9, true).result.is_real());
        assert!(!legacy(0.9, false).result.is_real(), "no blink");
        assert!(!legacy(0.2, true).result.is_real(), "fake still");
        // Legacy ignores the frames' PAD (0.1 here): only the still and the blink count.
        assert_eq!(legacy(0.9, true).video_alone, Some((Verdict::Real, 1.0)));
        assert_eq!(
            legacy(0.9, false).fused.unwrap().veto,
            Some(fusion::Veto::NoBlink)
        );
    }

    #[test]
    fn legacy_mode_says_when_the_video_had_no_face_to_blink() {
        let mut faceless = video(0.1, false).unwrap();
        faceless.face_seen = false;
        let d = decide(
            &Signals {
                still_pad: Some(Some(0.9)),
                video: Some(faceless),
                legacy: true,
                facematch: None,
                challenge_passed: None,
            },
            &Options::with_facematch_threshold(0.6),
        );
        assert!(!d.result.is_real());
        assert_eq!(
            d.fused.unwrap().veto,
            Some(fusion::Veto::NoUsableFaceInVideo)
        );
    }

    #[test]
    fn a_legacy_verdict_is_as_confident_as_the_still_it_rests_on() {
        let legacy = |pad| {
            decide(
                &Signals {
                    still_pad: Some(Some(pad)),
                    video: video(0.9, true),
                    legacy: true,
                    facematch: None,
                    challenge_passed: None,
                },
                &Options::with_facematch_threshold(0.6),
            )
        };
        // A blinking video beside a still just under its threshold: fake, and confidently so
        // in proportion to the still (a mean with the blink once read 0.68, "real", and so
        // answered fake with confidence 0.32).
        let below = legacy(0.36);
        assert!(!below.result.is_real());
        assert!(
            (below.confidence - 0.64).abs() < 1e-6,
            "{}",
            below.confidence
        );
        let fused = below.fused.as_ref().unwrap();
        assert!(fused.score < fused.threshold && !fused.real);
        let above = legacy(0.8);
        assert!(above.result.is_real());
        assert!((above.confidence - 0.8).abs() < 1e-6);
    }

    #[test]
    fn the_video_weight_dominates_blink_and_motion() {
        // Even with a blink and full depth, frames scored as attacks stay fake; a live face
        // that neither blinks nor moves passes on PAD alone.
        let mut strong_attack = video(0.05, true).unwrap();
        strong_attack.motion = 1.0;
        let attack = decide(
            &Signals {
                still_pad: None,
                video: Some(strong_attack),
                legacy: false,
                facematch: None,
                challenge_passed: None,
            },
            &Options::with_facematch_threshold(0.6),
        );
        assert_eq!(attack.result, Verdict::Fake);
        let still_live = decide(
            &Signals {
                still_pad: None,
                video: video(0.95, false),
                legacy: false,
                facematch: None,
                challenge_passed: None,
            },
            &Options::with_facematch_threshold(0.6),
        );
        assert_eq!(still_live.result, Verdict::Real);
    }

    #[test]
    fn changing_a_fusion_weight_changes_the_verdict() {
        // A blinking face whose frames score just under the still threshold, without depth:
        // 0.75 × 0.30 + 0.15 × 1 + 0.1 × 0.5 = 0.425 < 0.4475, so the policy says fake.
        let signals = Signals {
            still_pad: None,
            video: video(0.30, true),
            legacy: false,
            facematch: None,
            challenge_passed: None,
        };
        let policy_rules = Options::with_facematch_threshold(0.6);
        assert_eq!(decide(&signals, &policy_rules).result, Verdict::Fake);
        // Give the blink twice the weight (taken from the PAD term) and the same face passes.
        let mut blink_heavy = policy_rules;
        blink_heavy.fusion.blink = 0.3;
        blink_heavy.fusion.video_pad = 0.6;
        let d = decide(&signals, &blink_heavy);
        assert_eq!(d.result, Verdict::Real);
        let fused = d.fused.expect("a video is fused");
        assert!((fused.score - (0.6 * 0.30 + 0.3 + 0.1 * 0.5)).abs() < 1e-6);
        assert!(
            fused
                .signals
                .iter()
                .any(|s| s.name == "blink" && s.weight == 0.3)
        );
    }
}
