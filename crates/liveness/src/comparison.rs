//! [`Comparison`]: whether two stills show the same person, typed (`POST /facematch`).

use crate::analysis::StillEvidence;
use crate::findings::Finding;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Both stills have a usable face and their embeddings are closer than `max_distance`.
    pub same: bool,
    /// Confidence that they are the same person (0 without two usable faces).
    pub confidence: f32,
    /// Embedding distance; `None` when either still has no usable face.
    pub distance: Option<f32>,
    pub max_distance: f32,
    pub embedder: &'static str,
    pub image1: StillEvidence,
    pub image2: StillEvidence,
    /// Why there was nothing to compare: why `image1`'s face (else `image2`'s) is unusable
    /// (`no_face`, `multiple_faces`, `face_too_small`); `None` when both faces were compared.
    pub unusable: Option<Finding>,
}

/// The `details` object of `POST /facematch`.
#[derive(Debug, Serialize)]
pub struct ComparisonDetails<'a> {
    pub image1: &'a StillEvidence,
    pub image2: &'a StillEvidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f32>,
    pub max_distance: f32,
    pub embedder: &'static str,
    /// Why there was nothing to compare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

impl Comparison {
    pub fn details(&self) -> ComparisonDetails<'_> {
        ComparisonDetails {
            image1: &self.image1,
            image2: &self.image2,
            distance: self.distance,
            max_distance: self.max_distance,
            embedder: self.embedder,
            reason: self.unusable.map(Finding::as_str),
        }
    }
}
