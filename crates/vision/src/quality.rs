//! Capture-quality measurements of a detected face: size, sharpness, exposure, head pose.
//!
//! These are measurements, not judgements: what counts as too small or too blurred is policy
//! and lives in the liveness crate. Sharpness and exposure are measured on the face box
//! resampled to a fixed size, so the numbers mean the same for a 100-px and a 1000-px face
//! (they describe the face as the networks will see it).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::face::{Face, kp};
use crate::sampling::{Region, sample};

/// Side of the resampled face on which sharpness and exposure are measured.
const PROBE: usize = 128;
/// Luma at or below which a pixel counts as crushed black, at or above which as blown out.
const DARK: f32 = 8.0;
const BRIGHT: f32 = 247.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceQuality {
    /// Shorter side of the face box, in pixels of the analysed image.
    pub face_px: f32,
    /// Face box area over image area (clipped to the image), 0..1.
    pub face_fraction: f32,
    /// Variance of the Laplacian of the face's luma at 128×128 (higher = sharper; a focused face
    /// is typically in the hundreds, a heavily blurred one below ~20).
    pub sharpness: f32,
    /// Mean luma of the face, 0..255.
    pub brightness: f32,
    /// Fraction of face pixels crushed to black / blown to white.
    pub dark_fraction: f32,
    pub bright_fraction: f32,
    /// Head yaw in degrees, + when the subject turns to their left (estimated from where the
    /// nose tip sits relative to the eyes), 0 = frontal.
    pub yaw_deg: f32,
    /// In-plane head roll in degrees (eye line against the horizontal), + clockwise in the image.
    pub roll_deg: f32,
    /// Fraction of the face box lying inside the image.
    pub visible_fraction: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameQuality {
    pub face_count: usize,
    /// Quality of the largest face, if any.
    pub primary: Option<FaceQuality>,
}

/// The largest face by box area.
pub fn primary_face(faces: &[Face]) -> Option<&Face> {
    faces
        .iter()
        .max_by(|a, b| (a.bbox.w * a.bbox.h).total_cmp(&(b.bbox.w * b.bbox.h)))
}

pub fn assess_frame(image: &RgbImage, faces: &[Face]) -> FrameQuality {
    FrameQuality {
        face_count: faces.len(),
        primary: primary_face(faces).map(|f| assess(image, f)),
    }
}

fn luma(rgb: &[f32]) -> Vec<f32> {
    rgb.chunks_exact(3)
        .map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])
        .collect()
}

fn laplacian_variance(gray: &[f32], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut sum = 0f64;
    let mut sum_sq = 0f64;
    let mut n = 0f64;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = gray[y * w + x];
            let v = gray[(y - 1) * w + x]
                + gray[(y + 1) * w + x]
                + gray[y * w + x - 1]
                + gray[y * w + x + 1]
                - 4.0 * c;
            sum += v as f64;
            sum_sq += (v as f64) * (v as f64);
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0) as f32
}

pub fn assess(image: &RgbImage, face: &Face) -> FaceQuality {
    let b = face.bbox;
    let (iw, ih) = (image.width() as f32, image.height() as f32);
    let (cx0, cy0) = (b.x.max(0.0), b.y.max(0.0));
    let (cx1, cy1) = ((b.x + b.w).min(iw), (b.y + b.h).min(ih));
    let visible_area = (cx1 - cx0).max(0.0) * (cy1 - cy0).max(0.0);
    let area = (b.w * b.h).max(f32::MIN_POSITIVE);

    // Only the visible part is sampled, so padding does not read as dark pixels.
    let visible = Region {
        x: cx0,
        y: cy0,
        w: (cx1 - cx0).max(1.0),
        h: (cy1 - cy0).max(1.0),
    };
    let gray = luma(&sample(image, visible, PROBE, PROBE, [0.0; 3]));
    let n = gray.len().max(1) as f32;
    let brightness = gray.iter().sum::<f32>() / n;
    let dark = gray.iter().filter(|&&v| v <= DARK).count() as f32 / n;
    let bright = gray.iter().filter(|&&v| v >= BRIGHT).count() as f32 / n;

    FaceQuality {
        face_px: b.w.min(b.h),
        face_fraction: (visible_area / (iw * ih).max(1.0)).clamp(0.0, 1.0),
        sharpness: laplacian_variance(&gray, PROBE, PROBE),
        brightness,
        dark_fraction: dark,
        bright_fraction: bright,
        yaw_deg: yaw_deg(face),
        roll_deg: roll_deg(face),
        visible_fraction: (visible_area / area).clamp(0.0, 1.0),
    }
}

/// The subject's right eye is on the image's left in an upright, unmirrored photo.
pub fn roll_deg(face: &Face) -> f32 {
    let (r, l) = (face.keypoints[kp::RIGHT_EYE], face.keypoints[kp::LEFT_EYE]);
    (l.y - r.y).atan2(l.x - r.x).to_degrees()
}

/// Depth of the nose tip in front of the eyes, over the distance between the eyes (an average
/// adult face: ~35 mm over ~63 mm).
const NOSE_DEPTH: f32 = 0.55;

/// From how far the nose tip sits off the midpoint of the eyes, measured along the eye line (so
/// roll does not read as yaw): turning by θ moves it by `NOSE_DEPTH · tan θ` eye distances.
/// The ear points are not used: the far ear is hidden on turned heads, and its point wanders.
pub fn yaw_deg(face: &Face) -> f32 {
    let k = &face.keypoints;
    let (r, l) = (k[kp::RIGHT_EYE], k[kp::LEFT_EYE]);
    let len = ((l.x - r.x).powi(2) + (l.y - r.y).powi(2)).sqrt();
    if len <= f32::EPSILON || !len.is_finite() {
        return 0.0;
    }
    let (ux, uy) = ((l.x - r.x) / len, (l.y - r.y) / len);
    let (mx, my) = ((r.x + l.x) / 2.0, (r.y + l.y) / 2.0);
    let offset = ((k[kp::NOSE].x - mx) * ux + (k[kp::NOSE].y - my) * uy) / len;
    // Turning to their left moves the nose towards the subject's left eye (image right).
    (offset / NOSE_DEPTH).atan().to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{BBox, Point};

    fn face(points: [(f32, f32); 6]) -> Face {
        Face {
            bbox: BBox {
                x: 10.0,
                y: 10.0,
                w: 100.0,
                h: 100.0,
            },
            score: 0.9,
            keypoints: points.map(|(x, y)| Point { x, y }),
        }
    }

    #[test]
    fn frontal_level_face_has_zero_pose() {
        let f = face([
            (40.0, 40.0),
            (80.0, 40.0),
            (60.0, 60.0),
            (60.0, 80.0),
            (20.0, 50.0),
            (100.0, 50.0),
        ]);
        assert!(yaw_deg(&f).abs() < 1e-3);
        assert!(roll_deg(&f).abs() < 1e-3);
    }

    #[test]
    fn turned_and_tilted_faces_are_measured() {
        // Nose shifted towards the image-right ear: the subject looks to their left.
        let f = face([
            (40.0, 40.0),
            (80.0, 40.0),
            (90.0, 60.0),
            (60.0, 80.0),
            (20.0, 50.0),
            (100.0, 50.0),
        ]);
        assert!(yaw_deg(&f) > 30.0, "{}", yaw_deg(&f));
        let f = face([
            (40.0, 40.0),
            (80.0, 80.0),
            (60.0, 60.0),
            (60.0, 80.0),
            (20.0, 50.0),
            (100.0, 50.0),
        ]);
        assert!((roll_deg(&f) - 45.0).abs() < 1e-3);
    }

    #[test]
    fn blur_lowers_sharpness_and_exposure_is_measured() {
        let mut img = RgbImage::new(200, 200);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let v = if (x / 4 + y / 4) % 2 == 0 { 30 } else { 220 };
            *p = image::Rgb([v, v, v]);
        }
        let f = face([
            (40.0, 40.0),
            (80.0, 40.0),
            (60.0, 60.0),
            (60.0, 80.0),
            (20.0, 50.0),
            (100.0, 50.0),
        ]);
        let sharp = assess(&img, &f);
        let blurred = assess(&image::imageops::blur(&img, 4.0), &f);
        assert!(
            sharp.sharpness > 10.0 * blurred.sharpness,
            "{} vs {}",
            sharp.sharpness,
            blurred.sharpness
        );
        assert!((sharp.brightness - 125.0).abs() < 10.0);
        assert_eq!(sharp.visible_fraction, 1.0);
        let dark = assess(&RgbImage::new(200, 200), &f);
        assert_eq!(dark.dark_fraction, 1.0);
    }
}
