//! [`Analysis`]: what one liveness analysis found, typed.
//!
//! The analysis returns this and nothing else. The contract's v1 body
//! ([`crate::LivenessReport`]) and the server's `/v2` blocks are `From<&Analysis>` views of it,
//! `details` is its evidence serialised ([`Analysis::details`]), and the evaluation harness reads
//! its fields: no verdict travels as a string between layers and nothing is read back by JSON
//! path.

use crate::blink::BlinkReport;
use crate::challenge::{ChallengeEvidence, Failure};
use crate::decide::Decision;
use crate::facematch::FacematchOutcome;
use crate::findings::Finding;
use crate::fusion::{Fused, FusionWeights, Veto};
use crate::models::PadWeights;
use crate::pad::PadScores;
use crate::planarity::PlanarityReport;
use crate::policy;
use crate::video::{FrameObservation, StageTimings};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use vision::Face;

/// How the media were judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A still alone: its PAD verdict.
    Image,
    /// `enhanced_detection=False` with a still and a video: the still's verdict AND a blink.
    Legacy,
    /// A video (with or without a still): the weighted fusion.
    Enhanced,
}

/// Why the verdict is `fake` regardless of any score, when a rule decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The still has no usable face (`no_face`, `multiple_faces`, `face_too_small`).
    Still(Finding),
    /// The fusion's veto (`no_usable_face_in_video`, `no_blink`, …).
    Fusion(Veto),
    /// The active challenge was not answered (`challenge_failed`, `challenge_expired`, …).
    Challenge(Failure),
}

impl Reason {
    /// The snake_case code of the `X-Livegate-Reason` header, `/v2`'s `overall.reason` and the
    /// batch results' `reason` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Still(f) => f.as_str(),
            Reason::Fusion(v) => v.as_str(),
            Reason::Challenge(f) => f.as_str(),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The client's settings the response echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    /// The video path that ran (the client's setting when there is no video).
    pub enhanced_detection: bool,
    pub frame_sampling_rate: u32,
    pub max_frames_analyzed: u32,
    /// Whether the client asked for the evidence in the response.
    pub details: bool,
}

/// Wall time per stage, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    pub image: f64,
    pub video: f64,
    pub facematch: f64,
    pub total: f64,
}

impl Timings {
    /// `(stage, ms)` pairs, for the stage histograms.
    pub fn stages(&self) -> [(&'static str, f64); 4] {
        [
            ("image", self.image),
            ("video", self.video),
            ("facematch", self.facematch),
            ("total", self.total),
        ]
    }
}

/// What the still showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StillEvidence {
    /// Format sniffed from the bytes (`jpeg`, `png`, `heic`, …).
    pub format: String,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation (1-8), already applied.
    pub orientation: u8,
    /// Scale at which the still was analysed (≤ 1: large stills are reduced first).
    pub analysed_scale: f32,
    pub face: Option<Face>,
    pub face_count: usize,
    /// A dominant face fit for judging was found and scored.
    pub usable: bool,
    pub findings: Vec<Finding>,
    pub pad: Option<PadScores>,
    pub quality: Option<vision::quality::FaceQuality>,
}

/// What the video showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VideoEvidence {
    pub info: media::VideoInfo,
    /// The analysed (sampled) frames, in order.
    pub frames: Vec<FrameObservation>,
    /// Frames looked at for blinks (the dense stream).
    pub dense_frames: usize,
    pub blinks: BlinkReport,
    pub motion: PlanarityReport,
    pub stage_ms: StageTimings,
}

/// The contract's frame counts: frames analysed and how many of them scored real.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounts {
    pub analyzed: u32,
    pub real: u32,
}

/// One liveness analysis: every verdict with the evidence behind it.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub mode: Mode,
    pub echo: Echo,
    pub decision: Decision,
    pub reason: Option<Reason>,
    /// `Some` exactly when a still was sent.
    pub still: Option<StillEvidence>,
    /// `Some` exactly when a video was sent.
    pub video: Option<VideoEvidence>,
    pub frames: FrameCounts,
    /// The still against the video's frames, when both were sent.
    pub facematch: Option<FacematchOutcome>,
    /// The active challenge, when one was given with a video.
    pub challenge: Option<ChallengeEvidence>,
    /// (file name, SHA-256) of each graph of the PAD model that scored: the shipped one or a
    /// deployment's own layer, so that a stored verdict names the weights behind it.
    pub pad_weights: PadWeights,
    pub timings: Timings,
}

/// The `details` object: the evidence, serialised as the API documents it.
#[derive(Debug, Serialize)]
pub struct Details<'a> {
    pub image: Option<&'a StillEvidence>,
    pub video: Option<&'a VideoEvidence>,
    pub facematch: Option<&'a FacematchOutcome>,
    pub fusion: Option<&'a Fused>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<&'a ChallengeEvidence>,
    pub mode: Mode,
    pub face_rule: String,
    /// The weights and thresholds the verdicts applied (`image_real_threshold`: a still is
    /// real at or above it; `result_real_threshold`: a video's fused score).
    pub rules: FusionWeights,
    pub review: Review,
    /// The PAD graphs that scored: file name → SHA-256.
    pub pad_weights: BTreeMap<&'a str, &'a str>,
    pub timings_ms: &'a Timings,
}

/// Whether a person should look: the still's live score against the band around its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Review {
    /// The still's live score lies within `margin` of `rules.image_real_threshold`.
    pub image_near_threshold: bool,
    /// [`policy::REVIEW_MARGIN`].
    pub margin: f32,
}

impl Analysis {
    pub fn image_input(&self) -> bool {
        self.still.is_some()
    }

    pub fn video_input(&self) -> bool {
        self.video.is_some()
    }

    /// Both inputs: the only mode that compares faces.
    pub fn both_inputs(&self) -> bool {
        self.image_input() && self.video_input()
    }

    pub fn blink_detected(&self) -> bool {
        self.video.as_ref().is_some_and(|v| v.blinks.detected())
    }

    /// No usable face where the verdict needed one: the still's (image only) or the video's.
    /// The evaluation counts these as non-responses.
    pub fn no_usable_face(&self) -> bool {
        match self.mode {
            Mode::Image => self.still.as_ref().is_some_and(|s| !s.usable),
            Mode::Legacy | Mode::Enhanced => {
                self.reason == Some(Reason::Fusion(Veto::NoUsableFaceInVideo))
            }
        }
    }

    pub fn details(&self) -> Details<'_> {
        Details {
            image: self.still.as_ref(),
            video: self.video.as_ref(),
            facematch: self.facematch.as_ref(),
            fusion: self.decision.fused.as_ref(),
            challenge: self.challenge.as_ref(),
            mode: self.mode,
            face_rule: policy::face_rule(),
            rules: self.decision.rules,
            review: Review {
                image_near_threshold: self.decision.image_near_threshold,
                margin: policy::REVIEW_MARGIN,
            },
            pad_weights: crate::models::by_file(&self.pad_weights),
            timings_ms: &self.timings,
        }
    }

    /// The evidence as JSON, when the client asked for it.
    pub fn details_json(&self) -> Option<serde_json::Value> {
        // Serialising plain structs of numbers and strings cannot fail; `null` if it ever did.
        self.echo
            .details
            .then(|| serde_json::to_value(self.details()).unwrap_or_default())
    }
}
