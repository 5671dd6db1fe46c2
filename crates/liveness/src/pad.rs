//! The PAD ensemble: a weighted mean of the installed models' live scores.

use crate::models::Models;
use crate::policy;
use image::RgbImage;
use serde::Serialize;
use vision::{Face, VisionError};

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

/// Runs every installed model with a weight for `medium` (models without one are not run).
/// An installation whose models all lack a weight gets a plain mean of all of them rather than
/// no score at all.
pub fn score(
    models: &Models,
    image: &RgbImage,
    face: &Face,
    medium: Medium,
) -> Result<PadScores, VisionError> {
    let weight = |name: &str| match medium {
        Medium::Still => policy::pad_weight(name),
        Medium::VideoFrame => policy::video_pad_weight(name),
    };
    let weighted = models.pad.iter().any(|m| weight(m.name()) > 0.0);
    let mut per_model = Vec::with_capacity(models.pad.len());
    let (mut sum, mut wsum) = (0.0f32, 0.0f32);
    for m in &models.pad {
        let w = if weighted { weight(m.name()) } else { 1.0 };
        if w <= 0.0 {
            continue;
        }
        let s = m.live_score(image, face)?;
        sum += w * s;
        wsum += w;
        per_model.push((m.name().to_string(), s));
    }
    let fused = if wsum > 0.0 { sum / wsum } else { 0.0 };
    Ok(PadScores { fused, per_model })
}
