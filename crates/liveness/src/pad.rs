//! The PAD ensemble: a weighted mean of every installed model's live score.

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

pub fn score(models: &Models, image: &RgbImage, face: &Face) -> Result<PadScores, VisionError> {
    let mut per_model = Vec::with_capacity(models.pad.len());
    let (mut sum, mut wsum) = (0.0f32, 0.0f32);
    for m in &models.pad {
        let s = m.live_score(image, face)?;
        let w = policy::pad_weight(m.name());
        sum += w * s;
        wsum += w;
        per_model.push((m.name().to_string(), s));
    }
    // An installation whose only models have no policy weight still gets a plain mean rather
    // than a division by zero.
    let fused = if wsum > 0.0 {
        sum / wsum
    } else if per_model.is_empty() {
        0.0
    } else {
        per_model.iter().map(|(_, s)| s).sum::<f32>() / per_model.len() as f32
    };
    Ok(PadScores { fused, per_model })
}
