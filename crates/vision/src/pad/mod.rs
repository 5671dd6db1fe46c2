//! Presentation-attack detection (anti-spoofing) on single frames.
//!
//! Every model here descends from minivision's Silent-Face-Anti-Spoofing and expects its crop:
//! the face box scaled about its centre, shifted (not clipped) to stay inside the image, then
//! resized to the network input without keeping the aspect ratio.

pub mod ensemble;
pub mod fr_liveness;
pub mod livegate;
pub mod minifasnet;

pub use ensemble::Ensemble;
pub use fr_liveness::FrLiveness;
pub use livegate::LivegatePad;
pub use minifasnet::MiniFasNet;

use image::RgbImage;

use crate::face::{BBox, VisionError};
use crate::runtime::OnnxModel;
use crate::sampling::{Region, sample, to_nchw};

/// Silent-Face's crop of `bbox` scaled by `scale`: the scale shrinks when the image is too small
/// for it, and the box slides back inside the image instead of being cut.
pub fn context_crop(width: u32, height: u32, bbox: &BBox, scale: f32) -> Region {
    let (sw, sh) = (width as f32, height as f32);
    let (bw, bh) = (bbox.w.max(1.0), bbox.h.max(1.0));
    let scale = scale.min((sh - 1.0) / bh).min((sw - 1.0) / bw).max(0.0);
    let (nw, nh) = (bw * scale, bh * scale);
    let (cx, cy) = (bbox.x + bw / 2.0, bbox.y + bh / 2.0);
    let (mut x0, mut y0) = (cx - nw / 2.0, cy - nh / 2.0);
    let (mut x1, mut y1) = (cx + nw / 2.0, cy + nh / 2.0);
    if x0 < 0.0 {
        x1 -= x0;
        x0 = 0.0;
    }
    if y0 < 0.0 {
        y1 -= y0;
        y0 = 0.0;
    }
    if x1 > sw - 1.0 {
        x0 -= x1 - sw + 1.0;
        x1 = sw - 1.0;
    }
    if y1 > sh - 1.0 {
        y0 -= y1 - sh + 1.0;
        y1 = sh - 1.0;
    }
    let (x0, y0) = (x0.max(0.0), y0.max(0.0));
    Region {
        x: x0,
        y: y0,
        w: (x1 - x0).max(1.0),
        h: (y1 - y0).max(1.0),
    }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Crops, runs a Silent-Face-style classifier on 0..255 pixels and returns the softmax
/// probability of class `live_index`.
fn classify(
    model: &OnnxModel,
    image: &RgbImage,
    bbox: &BBox,
    scale: f32,
    size: usize,
    bgr: bool,
    live_index: usize,
) -> Result<f32, VisionError> {
    let input = crop_input(model, image, bbox, scale, size, bgr)?;
    live_probability(model, &model.run_one(input)?, live_index)
}

/// The network input for the context crop of `bbox` at `scale`: NCHW `[1, 3, size, size]`,
/// 0..255, BGR when `bgr`.
fn crop_input(
    model: &OnnxModel,
    image: &RgbImage,
    bbox: &BBox,
    scale: f32,
    size: usize,
    bgr: bool,
) -> Result<ndarray::ArrayD<f32>, VisionError> {
    if !(bbox.w > 0.0 && bbox.h > 0.0 && bbox.x.is_finite() && bbox.y.is_finite()) {
        return Err(VisionError::Inference {
            model: model.name().into(),
            message: "empty face box".into(),
        });
    }
    let region = context_crop(image.width(), image.height(), bbox, scale);
    let rgb = sample(image, region, size, size, [0.0; 3]);
    Ok(to_nchw(&rgb, size, size, bgr, 0.0, 1.0))
}

/// Softmax of the first output's logits, at `live_index`.
fn live_probability(
    model: &OnnxModel,
    outputs: &[ndarray::ArrayD<f32>],
    live_index: usize,
) -> Result<f32, VisionError> {
    let logits: Vec<f32> = outputs
        .first()
        .map(|o| o.iter().copied().collect())
        .unwrap_or_default();
    let probs = softmax(&logits);
    let live = probs.get(live_index).copied().filter(|p| p.is_finite());
    live.ok_or_else(|| VisionError::Inference {
        model: model.name().into(),
        message: format!("expected class scores, got {} values", logits.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_slides_inside_and_shrinks_scale_when_needed() {
        let b = BBox {
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 100.0,
        };
        let r = context_crop(1000, 1000, &b, 2.7);
        assert_eq!((r.x, r.y), (0.0, 0.0));
        assert!((r.w - 270.0).abs() < 1e-3 && (r.h - 270.0).abs() < 1e-3);
        let r = context_crop(
            200,
            400,
            &BBox {
                x: 50.0,
                y: 150.0,
                w: 100.0,
                h: 100.0,
            },
            4.0,
        );
        assert!((r.w - 199.0).abs() < 1e-3, "{r:?}");
        assert!(r.x >= 0.0 && r.x + r.w <= 199.0 + 1e-3);
    }

    #[test]
    fn softmax_sums_to_one() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }
}
