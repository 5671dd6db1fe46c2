//! Eye openness from the MediaPipe Iris landmark model.
//!
//! The face detector's eye keypoints place a square crop on each eye, rotated so the eyes are
//! level; the model returns a 16-point eyelid contour per eye, and the eye aspect ratio (mean lid
//! opening over corner-to-corner width) is the openness. The mesh's own eyelid points barely move
//! on a closed eye, which is why this model, not the mesh, measures openness.

use std::path::Path;

use image::{GrayImage, RgbImage};
use ndarray::{Array4, ArrayD};
use serde::{Deserialize, Serialize};

use crate::embedder::align::{Affine, warp, warp_luma};
use crate::face::{EyeChips, EyeModel, EyeOpenness, Face, Point, VisionError, kp};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};

const NAME: &str = "iris_landmark";
/// Side of the model's square input.
const INPUT: u32 = 64;
/// Corner-to-corner eye width as a fraction of the distance between the eye centres (adult face
/// proportions; dlib's mean face shape gives 0.40).
const EYE_WIDTH_PER_EYE_DISTANCE: f32 = 0.40;
/// Crop side over eye width, as MediaPipe's iris pipeline places it.
const CROP_PER_EYE_WIDTH: f32 = 2.3;
/// Faces whose eye centres are closer than this (pixels) are too small to judge eyelids.
const MIN_EYE_DISTANCE: f32 = 6.0;
const CONTOUR_POINTS: usize = 16;
const LANDMARKS: usize = 71;

/// One eye as the model saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EyeDetail {
    /// Eye aspect ratio: mean lid opening over eye width (~0.3 open, < 0.15 shut).
    pub openness: f32,
    /// Eyelid contour in image pixels: 0 and 8 the corners, 1–7 lower lid, 9–15 upper lid.
    pub contour: Vec<Point>,
    /// Centre of the iris in image pixels.
    pub iris: Point,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EyesDetail {
    /// The subject's left eye.
    pub left: EyeDetail,
    /// The subject's right eye.
    pub right: EyeDetail,
}

/// [`EyeModel`] backed by `iris_landmark.tflite` (converted to ONNX at fetch time).
pub struct IrisEyes {
    model: OnnxModel,
    contour_output: usize,
    iris_output: usize,
}

impl std::fmt::Debug for IrisEyes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IrisEyes").finish_non_exhaustive()
    }
}

impl IrisEyes {
    /// Loads the converted model from the store (never fetches).
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, VisionError> {
        Self::from_model(runtime.load_stored(NAME, store, ModelId::IrisLandmark)?)
    }

    /// Loads an ONNX file converted from `iris_landmark.tflite`.
    pub fn from_path(runtime: &Runtime, path: &Path) -> Result<Self, VisionError> {
        Self::from_model(runtime.load(NAME, path)?)
    }

    pub fn from_model(model: OnnxModel) -> Result<Self, VisionError> {
        let contour_output = model.output_position("output_eyes_contours_and_brows")?;
        let iris_output = model.output_position("output_iris")?;
        Ok(IrisEyes {
            model,
            contour_output,
            iris_output,
        })
    }

    /// Both eyes with their contours, from the face's detector keypoints.
    pub fn eyes(&self, image: &RgbImage, face: &Face) -> Result<EyesDetail, VisionError> {
        let [left_crop, right_crop] = eye_crops(face).ok_or_else(|| VisionError::Inference {
            model: NAME.into(),
            message: "eye keypoints too close together or not finite".into(),
        })?;
        Ok(EyesDetail {
            left: self.eye(image, &left_crop)?,
            right: self.eye(image, &right_crop)?,
        })
    }

    fn eye(&self, image: &RgbImage, crop: &Affine) -> Result<EyeDetail, VisionError> {
        let chip = warp(image, crop, INPUT, INPUT);
        let n = INPUT as usize;
        let input = Array4::from_shape_fn((1, n, n, 3), |(_, y, x, c)| {
            chip.get_pixel(x as u32, y as u32).0[c] as f32 / 255.0
        });
        let (contour, iris) = self.infer(input)?;
        Ok(EyeDetail {
            openness: aspect_ratio(&contour),
            contour: contour.iter().map(|p| crop.apply(*p)).collect(),
            iris: crop.apply(iris),
        })
    }

    /// Eyelid contour and iris centre, in chip pixels.
    fn infer(&self, input: Array4<f32>) -> Result<(Vec<Point>, Point), VisionError> {
        let outputs = self.model.run_one(input.into_dyn())?;
        let contour = points(outputs.get(self.contour_output), LANDMARKS)?;
        let iris = points(outputs.get(self.iris_output), 5)?;
        Ok((contour[..CONTOUR_POINTS].to_vec(), iris[0]))
    }

    /// Eye aspect ratio of one luma chip. Grey goes into all three input channels: eyelids
    /// and irises are told apart by brightness. Over the 334 frames of the blink video the
    /// ratio differs from the colour chips' by 0.005 (median), 0.016 (95th percentile)
    /// against 0.27 open / 0.05 shut (`cargo test --release -p vision --test eyes`).
    fn chip_openness(&self, chip: &GrayImage) -> Result<f32, VisionError> {
        let n = INPUT as usize;
        if chip.dimensions() != (INPUT, INPUT) {
            return Err(VisionError::Inference {
                model: NAME.into(),
                message: format!("eye chips must be {INPUT}×{INPUT}"),
            });
        }
        let raw = chip.as_raw();
        let input =
            Array4::from_shape_fn((1, n, n, 3), |(_, y, x, _)| raw[y * n + x] as f32 / 255.0);
        Ok(aspect_ratio(&self.infer(input)?.0))
    }
}

impl EyeModel for IrisEyes {
    fn chips(&self, luma: &GrayImage, face: &Face) -> Option<EyeChips> {
        let [left, right] = eye_crops(face)?;
        Some(EyeChips {
            left: warp_luma(luma, &left, INPUT, INPUT),
            right: warp_luma(luma, &right, INPUT, INPUT),
        })
    }

    fn chips_openness(&self, chips: &EyeChips) -> Result<EyeOpenness, VisionError> {
        Ok(EyeOpenness {
            left: self.chip_openness(&chips.left)?,
            right: self.chip_openness(&chips.right)?,
        })
    }
}

/// Crop maps (64-px chip → image) for the subject's left and right eye.
///
/// The model was trained on one eye orientation; the subject's left eye is mirrored to match it.
fn eye_crops(face: &Face) -> Option<[Affine; 2]> {
    let right = face.keypoints[kp::RIGHT_EYE];
    let left = face.keypoints[kp::LEFT_EYE];
    let (dx, dy) = (left.x - right.x, left.y - right.y);
    let distance = dx.hypot(dy);
    if !distance.is_finite() || distance < MIN_EYE_DISTANCE {
        return None;
    }
    let angle = dy.atan2(dx);
    let side = CROP_PER_EYE_WIDTH * EYE_WIDTH_PER_EYE_DISTANCE * distance;
    Some([
        Affine::square_crop(left, side, angle, INPUT, true),
        Affine::square_crop(right, side, angle, INPUT, false),
    ])
}

fn points(output: Option<&ArrayD<f32>>, count: usize) -> Result<Vec<Point>, VisionError> {
    let bad = || VisionError::Inference {
        model: NAME.into(),
        message: "unexpected output shape".into(),
    };
    let output = output.ok_or_else(bad)?;
    let flat: Vec<f32> = output.iter().copied().collect();
    if flat.len() != count * 3 {
        return Err(bad());
    }
    Ok(flat
        .chunks_exact(3)
        .map(|p| Point { x: p[0], y: p[1] })
        .collect())
}

/// Mean distance between facing lid points over the corner distance. Lower lid point `i` (1–7)
/// faces upper lid point `i + 8`: both lids run from corner 0 towards corner 8.
pub fn aspect_ratio(contour: &[Point]) -> f32 {
    if contour.len() < CONTOUR_POINTS {
        return 0.0;
    }
    let dist = |a: Point, b: Point| (a.x - b.x).hypot(a.y - b.y);
    let width = dist(contour[0], contour[8]);
    if width.is_nan() || width <= 1e-6 {
        return 0.0;
    }
    let opening: f32 = (1..=7)
        .map(|i| dist(contour[i], contour[i + 8]))
        .sum::<f32>()
        / 7.0;
    opening / width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aspect_ratio_of_an_ellipse() {
        // Corners at x = ±10; lids on an ellipse of half-height 3 → EAR ≈ mean(2·3·sin) / 20.
        let mut contour = vec![Point::default(); 16];
        for i in 0..=8 {
            let t = std::f32::consts::PI * i as f32 / 8.0;
            contour[i] = Point {
                x: -10.0 * t.cos(),
                y: 3.0 * t.sin(),
            };
            if (1..8).contains(&i) {
                contour[i + 8] = Point {
                    x: contour[i].x,
                    y: -contour[i].y,
                };
            }
        }
        let expected: f32 = (1..=7)
            .map(|i| 6.0 * (std::f32::consts::PI * i as f32 / 8.0).sin())
            .sum::<f32>()
            / 7.0
            / 20.0;
        assert!((aspect_ratio(&contour) - expected).abs() < 1e-5);
        assert_eq!(aspect_ratio(&contour[..3]), 0.0);
    }

    #[test]
    fn tiny_or_broken_faces_are_rejected() {
        let mut face = Face {
            bbox: Default::default(),
            score: 1.0,
            keypoints: [Point::default(); 6],
        };
        assert!(eye_crops(&face).is_none());
        face.keypoints[kp::LEFT_EYE] = Point {
            x: f32::NAN,
            y: 0.0,
        };
        assert!(eye_crops(&face).is_none());
        face.keypoints[kp::LEFT_EYE] = Point { x: 60.0, y: 0.0 };
        assert!(eye_crops(&face).is_some());
    }
}
