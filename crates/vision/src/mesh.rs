//! The MediaPipe Face Mesh: 468 face landmarks from one face crop.
//!
//! The crop follows MediaPipe's face-landmark pipeline: a square of 1.5 × the detection box's
//! long side around the box centre, rotated so the detector's eye keypoints are level, because
//! the network was trained on upright, loosely framed faces. The points come back in image
//! pixels. Only x and y are kept: the network's z is a relative depth on an arbitrary scale, and
//! what callers need (shape and motion in the image) is 2-D.

use std::path::Path;

use image::RgbImage;
use ndarray::{Array4, ArrayD};

use crate::embedder::align::{Affine, warp};
use crate::face::{Face, LandmarkModel, Point, VisionError, kp};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};

const NAME: &str = "face_landmark";
/// Side of the model's square input.
const INPUT: u32 = 192;
/// Crop side over the detection box's long side, as MediaPipe frames it.
const CROP_PER_BOX: f32 = 1.5;
/// Boxes smaller than this (pixels) carry too little detail to place 468 points.
const MIN_BOX: f32 = 8.0;
pub const LANDMARKS: usize = 468;

/// Indices of a few well-known mesh points, in the subject's frame of reference (the subject's
/// left eye is on the image's right in an unmirrored photo).
pub mod idx {
    pub const NOSE_TIP: usize = 1;
    pub const RIGHT_EYE_OUTER: usize = 33;
    pub const RIGHT_EYE_INNER: usize = 133;
    pub const LEFT_EYE_INNER: usize = 362;
    pub const LEFT_EYE_OUTER: usize = 263;
    pub const UPPER_LIP: usize = 13;
    pub const LOWER_LIP: usize = 14;
    pub const MOUTH_RIGHT: usize = 61;
    pub const MOUTH_LEFT: usize = 291;
    pub const CHIN: usize = 152;
    pub const FOREHEAD: usize = 10;
}

/// The mesh of one face.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshLandmarks {
    /// 468 points in image pixels, in MediaPipe's canonical order (see [`idx`]).
    pub points: Vec<Point>,
    /// Probability that the crop holds a face (sigmoid of the model's face-flag logit).
    pub presence: f32,
}

impl MeshLandmarks {
    /// Centre of an eye as the midpoint of its two corners.
    pub fn eye_centre(&self, left: bool) -> Point {
        let (a, b) = if left {
            (idx::LEFT_EYE_INNER, idx::LEFT_EYE_OUTER)
        } else {
            (idx::RIGHT_EYE_INNER, idx::RIGHT_EYE_OUTER)
        };
        let (a, b) = (self.points[a], self.points[b]);
        Point {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        }
    }

    /// Distance between the eye centres, the natural unit of face geometry.
    pub fn inter_ocular(&self) -> f32 {
        let (l, r) = (self.eye_centre(true), self.eye_centre(false));
        (l.x - r.x).hypot(l.y - r.y)
    }
}

/// `face_landmark.tflite` (converted to ONNX at fetch time).
pub struct FaceMesh {
    model: OnnxModel,
    points_output: usize,
    flag_output: usize,
}

impl std::fmt::Debug for FaceMesh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceMesh").finish_non_exhaustive()
    }
}

impl FaceMesh {
    /// Loads the converted model from the store (never fetches).
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, VisionError> {
        Self::from_model(runtime.load_stored(NAME, store, ModelId::FaceLandmark)?)
    }

    /// Loads an ONNX file converted from `face_landmark.tflite`.
    pub fn from_path(runtime: &Runtime, path: &Path) -> Result<Self, VisionError> {
        Self::from_model(runtime.load(NAME, path)?)
    }

    pub fn from_model(model: OnnxModel) -> Result<Self, VisionError> {
        // The names are the Keras layer names the published .tflite keeps.
        let points_output = model.output_position("conv2d_20")?;
        let flag_output = model.output_position("conv2d_30")?;
        Ok(FaceMesh {
            model,
            points_output,
            flag_output,
        })
    }

    /// The 468 landmarks of `face`, placed from its detection box and eye keypoints.
    pub fn landmarks(&self, image: &RgbImage, face: &Face) -> Result<MeshLandmarks, VisionError> {
        let crop = face_crop(face).ok_or_else(|| VisionError::Inference {
            model: NAME.into(),
            message: "face box too small or not finite".into(),
        })?;
        self.run(image, &crop)
    }

    /// The landmarks again, with the crop placed from a mesh of the same face (this frame's
    /// first pass, or the previous frame's, as MediaPipe tracks): the mesh's own box and eye line
    /// follow the face more closely than the detector's box, whose jitter otherwise changes the
    /// crop and with it the shape of the mesh.
    pub fn landmarks_from(
        &self,
        image: &RgbImage,
        mesh: &MeshLandmarks,
    ) -> Result<MeshLandmarks, VisionError> {
        let crop = mesh_crop(mesh).ok_or_else(|| VisionError::Inference {
            model: NAME.into(),
            message: "mesh too small or not finite".into(),
        })?;
        self.run(image, &crop)
    }

    fn run(&self, image: &RgbImage, crop: &Affine) -> Result<MeshLandmarks, VisionError> {
        let chip = warp(image, crop, INPUT, INPUT);
        let n = INPUT as usize;
        let input = Array4::from_shape_fn((1, n, n, 3), |(_, y, x, c)| {
            chip.get_pixel(x as u32, y as u32).0[c] as f32 / 255.0
        });
        let outputs = self.model.run_one(input.into_dyn())?;
        let points = points(outputs.get(self.points_output))?;
        let logit = outputs
            .get(self.flag_output)
            .and_then(|o| o.iter().next().copied())
            .ok_or_else(|| VisionError::Inference {
                model: NAME.into(),
                message: "no face-flag output".into(),
            })?;
        Ok(MeshLandmarks {
            points: points.into_iter().map(|p| crop.apply(p)).collect(),
            presence: 1.0 / (1.0 + (-logit).exp()),
        })
    }
}

/// The map from the 192-px chip to the image.
fn face_crop(face: &Face) -> Option<Affine> {
    let b = face.bbox;
    let side = CROP_PER_BOX * b.w.max(b.h);
    if !side.is_finite() || side < CROP_PER_BOX * MIN_BOX {
        return None;
    }
    let centre = Point {
        x: b.x + b.w / 2.0,
        y: b.y + b.h / 2.0,
    };
    let right = face.keypoints[kp::RIGHT_EYE];
    let left = face.keypoints[kp::LEFT_EYE];
    let angle = (left.y - right.y).atan2(left.x - right.x);
    // Without usable eye keypoints an upright crop is still a fair guess.
    let angle = if angle.is_finite() { angle } else { 0.0 };
    if !centre.x.is_finite() || !centre.y.is_finite() {
        return None;
    }
    Some(Affine::square_crop(centre, side, angle, INPUT, false))
}

/// The map from the 192-px chip to the image, from a mesh: its bounding box measured along the
/// eye line, centred, at [`CROP_PER_BOX`].
fn mesh_crop(mesh: &MeshLandmarks) -> Option<Affine> {
    if mesh.points.len() != LANDMARKS {
        return None;
    }
    let (r, l) = (
        mesh.points[idx::RIGHT_EYE_OUTER],
        mesh.points[idx::LEFT_EYE_OUTER],
    );
    let angle = (l.y - r.y).atan2(l.x - r.x);
    let (s, c) = angle.sin_cos();
    // Extent in the face's own (levelled) axes.
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for p in &mesh.points {
        let (u, v) = (c * p.x + s * p.y, -s * p.x + c * p.y);
        lo = [lo[0].min(u), lo[1].min(v)];
        hi = [hi[0].max(u), hi[1].max(v)];
    }
    let side = CROP_PER_BOX * (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let (u, v) = ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0);
    let centre = Point {
        x: c * u - s * v,
        y: s * u + c * v,
    };
    let finite = side.is_finite() && centre.x.is_finite() && centre.y.is_finite();
    (finite && side >= CROP_PER_BOX * MIN_BOX)
        .then(|| Affine::square_crop(centre, side, angle, INPUT, false))
}

fn points(output: Option<&ArrayD<f32>>) -> Result<Vec<Point>, VisionError> {
    let bad = || VisionError::Inference {
        model: NAME.into(),
        message: "unexpected output shape".into(),
    };
    let output = output.ok_or_else(bad)?;
    if output.len() != LANDMARKS * 3 {
        return Err(bad());
    }
    let flat: Vec<f32> = output.iter().copied().collect();
    Ok(flat
        .chunks_exact(3)
        .map(|p| Point { x: p[0], y: p[1] })
        .collect())
}

impl LandmarkModel for FaceMesh {
    /// One pass from the detector's box: across frames 1 s apart the box's jitter stays below
    /// the geometry the motion measure looks for (see `liveness::policy::MOTION_RESIDUAL_LOW`).
    fn landmarks(&self, image: &RgbImage, face: &Face) -> Result<Vec<Point>, VisionError> {
        Ok(FaceMesh::landmarks(self, image, face)?.points)
    }

    /// The face flag of the same pass. The crop is levelled on the detection's eye keypoints,
    /// so a face lying on its side is judged upright.
    fn presence(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError> {
        Ok(FaceMesh::landmarks(self, image, face)?.presence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BBox;

    fn face(bbox: BBox, right_eye: Point, left_eye: Point) -> Face {
        let mut keypoints = [Point::default(); 6];
        keypoints[kp::RIGHT_EYE] = right_eye;
        keypoints[kp::LEFT_EYE] = left_eye;
        Face {
            bbox,
            score: 1.0,
            keypoints,
        }
    }

    #[test]
    fn crop_is_centred_scaled_and_levelled() {
        let bbox = BBox {
            x: 100.0,
            y: 50.0,
            w: 80.0,
            h: 100.0,
        };
        let p = |x, y| Point { x, y };
        let upright = face_crop(&face(bbox, p(120.0, 90.0), p(160.0, 90.0))).unwrap();
        let centre = upright.apply(p(95.5, 95.5));
        assert!((centre.x - 140.0).abs() < 1e-3 && (centre.y - 100.0).abs() < 1e-3);
        // Chip corners span 1.5 × the long side.
        let span = upright.apply(p(191.0, 0.0)).x - upright.apply(p(0.0, 0.0)).x;
        assert!((span - 150.0 * 191.0 / 192.0).abs() < 1e-2, "{span}");
        // Eyes on a 45° slope (left eye lower in the image): the chip's x axis follows them.
        let tilted = face_crop(&face(bbox, p(120.0, 90.0), p(160.0, 130.0))).unwrap();
        let dir = {
            let (a, b) = (tilted.apply(p(0.0, 0.0)), tilted.apply(p(1.0, 0.0)));
            (b.y - a.y).atan2(b.x - a.x)
        };
        assert!((dir - std::f32::consts::FRAC_PI_4).abs() < 1e-4, "{dir}");
    }

    #[test]
    fn mesh_crop_frames_the_points_along_the_eye_line() {
        // A 100 × 120 box of points rotated by 30°, eye corners on its horizontal axis.
        let angle = 30f32.to_radians();
        let (s, c) = angle.sin_cos();
        let place = |u: f32, v: f32| Point {
            x: 200.0 + c * u - s * v,
            y: 150.0 + s * u + c * v,
        };
        let mut points: Vec<Point> = (0..LANDMARKS)
            .map(|i| place((i % 11) as f32 * 10.0 - 50.0, (i % 13) as f32 * 10.0 - 60.0))
            .collect();
        points[idx::RIGHT_EYE_OUTER] = place(-30.0, 0.0);
        points[idx::LEFT_EYE_OUTER] = place(30.0, 0.0);
        let mesh = MeshLandmarks {
            points,
            presence: 1.0,
        };
        let crop = mesh_crop(&mesh).unwrap();
        let centre = crop.apply(Point { x: 95.5, y: 95.5 });
        assert!((centre.x - 200.0).abs() < 1e-2 && (centre.y - 150.0).abs() < 1e-2);
        let (a, b) = (
            crop.apply(Point { x: 0.0, y: 0.0 }),
            crop.apply(Point { x: 192.0, y: 0.0 }),
        );
        assert!(((b.y - a.y).atan2(b.x - a.x) - angle).abs() < 1e-4);
        assert!(((b.x - a.x).hypot(b.y - a.y) - 180.0).abs() < 1e-2);
    }

    #[test]
    fn degenerate_boxes_are_rejected() {
        let tiny = BBox {
            x: 0.0,
            y: 0.0,
            w: 2.0,
            h: 3.0,
        };
        assert!(face_crop(&face(tiny, Point::default(), Point::default())).is_none());
        let nan = BBox {
            x: f32::NAN,
            y: 0.0,
            w: 50.0,
            h: 50.0,
        };
        assert!(face_crop(&face(nan, Point::default(), Point::default())).is_none());
    }
}
