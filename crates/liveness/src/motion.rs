//! Non-rigid face motion: evidence that a flat photo cannot fake.
//!
//! A printed photo or a still on a screen moves as one plane: between two frames its keypoints
//! are related by an affine map up to the detector's jitter. A live face does not: eyes close,
//! the mouth moves, and when the head turns the nose shifts against the eyes and ears
//! (parallax). The residual of the best affine fit between keypoint sets, relative to the
//! inter-ocular distance, measures that.

use serde::Serialize;
use vision::{Face, Point, face::kp};

#[derive(Debug, Clone, Serialize, Default)]
pub struct MotionReport {
    pub pairs: usize,
    /// Median affine-fit residual over frame pairs, as a fraction of the inter-ocular distance.
    pub median_residual: f32,
}

/// Frames further apart than this are not compared (a face lost and found again).
const MAX_GAP_S: f64 = 1.0;

pub fn measure(track: &[(f64, Face)], step: usize) -> MotionReport {
    let step = step.max(1);
    let mut residuals = Vec::new();
    for w in 0..track.len().saturating_sub(step) {
        let (t0, a) = &track[w];
        let (t1, b) = &track[w + step];
        if t1 - t0 > MAX_GAP_S {
            continue;
        }
        if let Some(r) = affine_residual(&a.keypoints, &b.keypoints) {
            let iod = dist(a.keypoints[kp::LEFT_EYE], a.keypoints[kp::RIGHT_EYE]);
            if iod > 1.0 {
                residuals.push(r / iod);
            }
        }
    }
    if residuals.is_empty() {
        return MotionReport::default();
    }
    residuals.sort_by(f32::total_cmp);
    MotionReport {
        pairs: residuals.len(),
        median_residual: residuals[residuals.len() / 2],
    }
}

fn dist(a: Point, b: Point) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// RMS residual of the least-squares affine map from `src` to `dst`; `None` when degenerate.
fn affine_residual(src: &[Point], dst: &[Point]) -> Option<f32> {
    // Normal equations of [x y 1]·u = x' (and = y'), centred for conditioning.
    let n = src.len() as f64;
    let (mx, my) = (
        src.iter().map(|p| p.x as f64).sum::<f64>() / n,
        src.iter().map(|p| p.y as f64).sum::<f64>() / n,
    );
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in src {
        let (x, y) = (p.x as f64 - mx, p.y as f64 - my);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    let det = sxx * syy - sxy * sxy;
    if det.abs() < 1e-9 {
        return None;
    }
    let mut sq = 0.0;
    for coord in 0..2 {
        let val = |p: &Point| if coord == 0 { p.x as f64 } else { p.y as f64 };
        let mt = dst.iter().map(val).sum::<f64>() / n;
        let (mut sxt, mut syt) = (0.0, 0.0);
        for (p, q) in src.iter().zip(dst) {
            let (x, y, t) = (p.x as f64 - mx, p.y as f64 - my, val(q) - mt);
            sxt += x * t;
            syt += y * t;
        }
        let a = (syy * sxt - sxy * syt) / det;
        let b = (sxx * syt - sxy * sxt) / det;
        for (p, q) in src.iter().zip(dst) {
            let pred = a * (p.x as f64 - mx) + b * (p.y as f64 - my) + mt;
            sq += (pred - val(q)).powi(2);
        }
    }
    Some((sq / n).sqrt() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vision::BBox;

    fn face(points: [(f32, f32); 6]) -> Face {
        Face {
            bbox: BBox {
                x: 0.0,
                y: 0.0,
                w: 100.0,
                h: 100.0,
            },
            score: 1.0,
            keypoints: points.map(|(x, y)| Point { x, y }),
        }
    }

    const BASE: [(f32, f32); 6] = [
        (30.0, 40.0),
        (70.0, 40.0),
        (50.0, 60.0),
        (50.0, 80.0),
        (10.0, 45.0),
        (90.0, 45.0),
    ];

    #[test]
    fn an_affinely_moved_plane_has_no_residual() {
        let moved = BASE.map(|(x, y)| (1.1 * x + 0.2 * y + 5.0, -0.1 * x + 0.95 * y + 3.0));
        let r = measure(&[(0.0, face(BASE)), (0.1, face(moved))], 1);
        assert_eq!(r.pairs, 1);
        assert!(r.median_residual < 1e-4, "{r:?}");
    }

    #[test]
    fn a_nose_moving_against_the_face_is_non_rigid() {
        let mut turned = BASE;
        turned[kp::NOSE].0 += 6.0;
        let r = measure(&[(0.0, face(BASE)), (0.1, face(turned))], 1);
        assert!(r.median_residual > 0.03, "{r:?}");
    }
}
