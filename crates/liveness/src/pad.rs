//! The PAD score of a face: the policy's weights over the installed models, combined by
//! vision's ensemble.

use crate::models::Models;
use crate::policy;
use image::RgbImage;
use serde::Serialize;
use std::sync::Arc;
use vision::pad::Ensemble;
use vision::{Face, PadId, VisionError};

#[derive(Debug, Clone, Serialize)]
pub struct PadScores {
    /// Weighted live score, 0..1.
    pub fused: f32,
    /// Each model's own score, for the evidence.
    pub per_model: Vec<(String, f32)>,
}

/// Which weights: a still, or a video frame (see [`policy::pad_weight`] and
/// [`policy::video_pad_weight`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Still,
    VideoFrame,
}

/// Runs every installed model with a weight for `medium` through vision's one [`Ensemble`]
/// (models without a weight are not run). An installation whose models all lack a weight gets
/// a plain mean of all of them rather than no score at all.
pub fn score(
    models: &Models,
    image: &RgbImage,
    face: &Face,
    medium: Medium,
) -> Result<PadScores, VisionError> {
    let weight = |id: PadId| match medium {
        Medium::Still => policy::pad_weight(id),
        Medium::VideoFrame => policy::video_pad_weight(id),
    };
    let weighted = models.pad.iter().any(|m| weight(m.id()) > 0.0);
    let members = models
        .pad
        .iter()
        .map(|m| (Arc::clone(m), if weighted { weight(m.id()) } else { 1.0 }))
        .collect();
    let scored = Ensemble::new(members)?.score(image, face)?;
    Ok(PadScores {
        fused: scored.combined,
        per_model: scored
            .members
            .into_iter()
            .map(|(name, s)| (name.to_owned(), s))
            .collect(),
    })
}
