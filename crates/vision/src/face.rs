//! The types every model shares: a detected face and the narrow traits in front of models.

use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// Axis-aligned box in pixels of the image the face was found in.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// Keypoint order as BlazeFace emits it, in the subject's frame of reference.
pub mod kp {
    pub const RIGHT_EYE: usize = 0;
    pub const LEFT_EYE: usize = 1;
    pub const NOSE: usize = 2;
    pub const MOUTH: usize = 3;
    pub const RIGHT_EAR: usize = 4;
    pub const LEFT_EAR: usize = 5;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub bbox: BBox,
    /// Detector confidence, 0..1.
    pub score: f32,
    /// Six keypoints in pixels, indexed by [`kp`].
    pub keypoints: [Point; 6],
}

impl Face {
    /// The same face with every coordinate moved by `(dx, dy)`: into a crop's frame, out of
    /// a window's, or after the face moved.
    pub fn translated(&self, dx: f32, dy: f32) -> Face {
        let mut f = self.clone();
        f.bbox.x += dx;
        f.bbox.y += dy;
        for p in f.keypoints.iter_mut() {
            p.x += dx;
            p.y += dy;
        }
        f
    }

    /// The face's in-plane rotation in degrees, from its keypoints: the angle between straight
    /// down and the line from between the eyes to the mouth, positive when the mouth lies to
    /// the left of that line (the head leaning towards the picture's right), in (-180, 180].
    /// Near 0 for an upright face, ±90 for a face on its side, 180 upside down.
    pub fn roll(&self) -> f32 {
        let k = &self.keypoints;
        let eyes_x = (k[kp::RIGHT_EYE].x + k[kp::LEFT_EYE].x) / 2.0;
        let eyes_y = (k[kp::RIGHT_EYE].y + k[kp::LEFT_EYE].y) / 2.0;
        let (dx, dy) = (k[kp::MOUTH].x - eyes_x, k[kp::MOUTH].y - eyes_y);
        (-dx).atan2(dy).to_degrees()
    }

    /// The same face with every coordinate multiplied by `(sx, sy)`: between a frame and a
    /// smaller copy of it.
    pub fn scaled(&self, sx: f32, sy: f32) -> Face {
        let mut f = self.clone();
        f.bbox.x *= sx;
        f.bbox.y *= sy;
        f.bbox.w *= sx;
        f.bbox.h *= sy;
        for p in f.keypoints.iter_mut() {
            p.x *= sx;
            p.y *= sy;
        }
        f
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error("model {model} is not available: {message}")]
    ModelMissing { model: String, message: String },
    #[error("inference failed in {model}: {message}")]
    Inference { model: String, message: String },
    /// The weights were found but could not be converted or loaded into a network.
    #[error("model {model} could not be converted: {message}")]
    Conversion { model: String, message: String },
}

pub trait FaceDetector: Send + Sync {
    /// Faces sorted by descending score.
    fn detect(&self, image: &RgbImage) -> Result<Vec<Face>, VisionError>;

    /// Re-finds a face near where it was a moment ago (the previous video frame): a search of
    /// a window of twice its size instead of the whole frame, which is what makes a dense
    /// per-frame stream affordable. `None` when it is no longer there.
    fn track(&self, image: &RgbImage, previous: &Face) -> Result<Option<Face>, VisionError> {
        let side = previous.bbox.w.max(previous.bbox.h) * 2.0;
        let (cx, cy) = (
            previous.bbox.x + previous.bbox.w / 2.0,
            previous.bbox.y + previous.bbox.h / 2.0,
        );
        let (window, x0, y0) = crate::sampling::cut(
            image,
            cx - side / 2.0,
            cy - side / 2.0,
            cx + side / 2.0,
            cy + side / 2.0,
        );
        let found = self.detect(&window)?;
        let near = |f: &Face| {
            let (fx, fy) = (
                f.bbox.x + x0 + f.bbox.w / 2.0,
                f.bbox.y + y0 + f.bbox.h / 2.0,
            );
            (fx - cx).powi(2) + (fy - cy).powi(2)
        };
        Ok(found
            .into_iter()
            .min_by(|a, b| near(a).total_cmp(&near(b)))
            .map(|f| f.translated(x0, y0)))
    }
}

/// Eye aspect ratio per eye (eyelid opening over eye width): ~0.3 open, < 0.15 shut.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EyeOpenness {
    pub left: f32,
    pub right: f32,
}

/// What the eye model looks at, cut out ahead of inference: one square luma chip per eye,
/// scaled and levelled so both eyes sit the same way. Cheap to make, so a video can cut chips
/// on every frame, compare them, and spend inference only where they change.
#[derive(Debug, Clone, PartialEq)]
pub struct EyeChips {
    /// The subject's left eye.
    pub left: GrayImage,
    /// The subject's right eye.
    pub right: GrayImage,
}

pub trait EyeModel: Send + Sync {
    /// The chips [`EyeModel::chips_openness`] reads, placed by the face's eye keypoints;
    /// `None` when the eyes are too close together to judge.
    fn chips(&self, luma: &GrayImage, face: &Face) -> Option<EyeChips>;
    fn chips_openness(&self, chips: &EyeChips) -> Result<EyeOpenness, VisionError>;

    /// Both steps on a colour picture (stills; a video has its luma already).
    fn openness(&self, image: &RgbImage, face: &Face) -> Result<EyeOpenness, VisionError> {
        let chips = self
            .chips(&image::imageops::grayscale(image), face)
            .ok_or_else(|| VisionError::Inference {
                model: "eyes".into(),
                message: "eye keypoints too close together or not finite".into(),
            })?;
        self.chips_openness(&chips)
    }
}

/// Dense landmarks of a face (the 468-point mesh), in image pixels and a fixed order, so the
/// same point can be followed from frame to frame.
pub trait LandmarkModel: Send + Sync {
    fn landmarks(&self, image: &RgbImage, face: &Face) -> Result<Vec<Point>, VisionError>;
    /// Probability that the detection's crop holds a face at all, by the landmark model's own
    /// judgement: a second opinion on a detection, from a network trained on face crops rather
    /// than whole scenes.
    fn presence(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError>;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding(pub Vec<f32>);

pub trait Embedder: Send + Sync {
    fn id(&self) -> crate::identity::EmbedderId;
    fn name(&self) -> &'static str {
        self.id().name()
    }
    fn embed(&self, image: &RgbImage, face: &Face) -> Result<Embedding, VisionError>;
    /// Smaller is more alike; the scale is the embedder's own.
    fn distance(&self, a: &Embedding, b: &Embedding) -> f32;
}

pub trait PadModel: Send + Sync {
    fn id(&self) -> crate::identity::PadId;
    fn name(&self) -> &'static str {
        self.id().name()
    }
    /// Probability-like score that the face is a live presentation, 0..1.
    fn live_score(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face with its eyes at (40, 40) and (60, 40) and its mouth at `(x, y)`.
    fn with_mouth(x: f32, y: f32) -> Face {
        let mut keypoints = [Point { x: 50.0, y: 50.0 }; 6];
        keypoints[kp::RIGHT_EYE] = Point { x: 40.0, y: 40.0 };
        keypoints[kp::LEFT_EYE] = Point { x: 60.0, y: 40.0 };
        keypoints[kp::MOUTH] = Point { x, y };
        Face {
            bbox: BBox::default(),
            score: 0.9,
            keypoints,
        }
    }

    #[test]
    fn roll_follows_where_the_mouth_lies_from_the_eyes() {
        let close = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(close(with_mouth(50.0, 70.0).roll(), 0.0));
        assert!(close(with_mouth(20.0, 40.0).roll(), 90.0));
        assert!(close(with_mouth(80.0, 40.0).roll(), -90.0));
        assert!(close(with_mouth(50.0, 10.0).roll().abs(), 180.0));
        assert!(close(with_mouth(30.0, 60.0).roll(), 45.0));
    }
}
