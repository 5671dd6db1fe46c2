//! Is the face a plane? Non-rigid landmark motion against the best planar homography.
//!
//! Every image of a flat object (a printed photo, a phone or monitor showing a still, a still
//! rendered into a video) is related to every other image of it by a homography, whatever the
//! zoom, rotation, translation or tilt. A live head is not flat: when it turns, the nose tip
//! moves against the cheeks and the ears (parallax), and expressions and blinks move parts of the
//! face against the rest. So between two frames of a face mesh, the residual of the best
//! homography fit is near the landmark model's jitter for a flat face and larger for a live one
//! *once the face has moved out of plane*.
//!
//! Pairs of frames whose meshes are related by a similarity (no change but translation, zoom and
//! in-plane rotation) cannot tell the two apart; each pair therefore also reports how much
//! non-similarity change there was (`deformation`), and the summary statistic looks only at
//! pairs that changed. Units are the inter-ocular distance, so the numbers are independent of
//! face size.
//!
//! The landmark sets are MediaPipe Face Mesh points (468, canonical order): the unit is taken
//! from the mesh's eye corners.

use serde::Serialize;
use vision::Point;
use vision::mesh::{LANDMARKS, idx};

/// Which frame pairs are compared and which count as having moved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanarityConfig {
    /// Frames closer in time than this (s) have barely moved; pairing them only adds jitter.
    pub min_gap_s: f64,
    /// Frames further apart than this (s) are not compared: pose changes within a couple of
    /// seconds carry the evidence, and the pair count stays linear in the video length.
    pub max_gap_s: f64,
    /// A pair counts as moving when the similarity-fit residual (inter-ocular units) is at least
    /// this: below it, a homography has nothing to explain beyond jitter.
    pub min_deformation: f64,
    /// The summary is this quantile of the moving pairs' residuals: live people move only some
    /// of the time, so a high quantile, not the median, carries their evidence.
    pub quantile: f64,
}

impl Default for PlanarityConfig {
    fn default() -> Self {
        PlanarityConfig {
            min_gap_s: 0.3,
            max_gap_s: 3.0,
            min_deformation: 0.02,
            quantile: 0.9,
        }
    }
}

/// One compared pair of frames.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairFit {
    pub t0: f64,
    pub t1: f64,
    /// RMS point error of the best homography, in inter-ocular distances.
    pub residual: f64,
    /// RMS point error of the best similarity: how much the face changed beyond moving, zooming
    /// and turning in the image plane.
    pub deformation: f64,
    /// RMS raw point displacement: how much the face moved at all.
    pub displacement: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PlanarityReport {
    /// Landmark sets that were usable (468 points, eyes apart).
    pub frames: usize,
    pub pairs: usize,
    /// Pairs with at least `min_deformation`.
    pub moving_pairs: usize,
    /// The configured quantile of the moving pairs' residuals; `None` without moving pairs (the
    /// face never changed enough to say anything).
    pub residual: Option<f64>,
    /// Median residual over all pairs: the jitter floor of this video.
    pub median_residual_all: Option<f64>,
    pub fits: Vec<PairFit>,
}

/// [`measure_with`] under the default configuration.
pub fn measure(track: &[(f64, Vec<Point>)]) -> PlanarityReport {
    measure_with(track, &PlanarityConfig::default())
}

/// Fits every pair of usable frames `min_gap_s..=max_gap_s` apart. `track` is in time order.
pub fn measure_with(track: &[(f64, Vec<Point>)], config: &PlanarityConfig) -> PlanarityReport {
    let usable: Vec<(f64, Vec<[f64; 2]>, f64)> = track
        .iter()
        .filter(|(_, points)| points.len() == LANDMARKS)
        .filter_map(|(t, points)| {
            let points: Vec<[f64; 2]> = points.iter().map(|p| [p.x as f64, p.y as f64]).collect();
            let unit = inter_ocular(&points);
            (unit.is_finite() && unit > 1.0 && points.iter().flatten().all(|v| v.is_finite()))
                .then_some((*t, points, unit))
        })
        .collect();
    let mut fits = Vec::new();
    for (i, (t0, a, unit_a)) in usable.iter().enumerate() {
        for (t1, b, unit_b) in &usable[i + 1..] {
            let gap = t1 - t0;
            if gap < config.min_gap_s {
                continue;
            }
            if gap > config.max_gap_s {
                break;
            }
            let unit = (unit_a + unit_b) / 2.0;
            let (Some(residual), Some(deformation)) = (
                fit_homography(a, b).map(|h| rms_error(a, b, |p| h.apply(p))),
                fit_similarity(a, b).map(|s| rms_error(a, b, |p| s.apply(p))),
            ) else {
                continue;
            };
            fits.push(PairFit {
                t0: *t0,
                t1: *t1,
                residual: residual / unit,
                deformation: deformation / unit,
                displacement: rms_error(a, b, |p| p) / unit,
            });
        }
    }
    let mut moving: Vec<f64> = fits
        .iter()
        .filter(|f| f.deformation >= config.min_deformation)
        .map(|f| f.residual)
        .collect();
    let mut all: Vec<f64> = fits.iter().map(|f| f.residual).collect();
    PlanarityReport {
        frames: usable.len(),
        pairs: fits.len(),
        moving_pairs: moving.len(),
        residual: quantile(&mut moving, config.quantile),
        median_residual_all: quantile(&mut all, 0.5),
        fits,
    }
}

/// The `q` quantile (nearest rank); `None` for an empty slice.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * (values.len() - 1) as f64).round() as usize;
    Some(values[rank])
}

fn inter_ocular(points: &[[f64; 2]]) -> f64 {
    let mid = |a: usize, b: usize| {
        [
            (points[a][0] + points[b][0]) / 2.0,
            (points[a][1] + points[b][1]) / 2.0,
        ]
    };
    let l = mid(idx::LEFT_EYE_INNER, idx::LEFT_EYE_OUTER);
    let r = mid(idx::RIGHT_EYE_INNER, idx::RIGHT_EYE_OUTER);
    (l[0] - r[0]).hypot(l[1] - r[1])
}

fn rms_error(src: &[[f64; 2]], dst: &[[f64; 2]], map: impl Fn([f64; 2]) -> [f64; 2]) -> f64 {
    let sum: f64 = src
        .iter()
        .zip(dst)
        .map(|(s, d)| {
            let p = map(*s);
            (p[0] - d[0]).powi(2) + (p[1] - d[1]).powi(2)
        })
        .sum();
    (sum / src.len().max(1) as f64).sqrt()
}

/// A plane-to-plane projective map, row-major 3×3.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let h = &self.0;
        let w = h[6] * p[0] + h[7] * p[1] + h[8];
        [
            (h[0] * p[0] + h[1] * p[1] + h[2]) / w,
            (h[3] * p[0] + h[4] * p[1] + h[5]) / w,
        ]
    }

    fn mul(&self, o: &Homography) -> Homography {
        let (a, b) = (&self.0, &o.0);
        let mut m = [0.0; 9];
        for r in 0..3 {
            for c in 0..3 {
                m[r * 3 + c] = (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum();
            }
        }
        Homography(m)
    }
}

/// Isotropic conditioning (Hartley): centroid to the origin, mean distance √2. Returns the map
/// and its inverse.
fn conditioning(points: &[[f64; 2]]) -> Option<(Homography, Homography)> {
    let n = points.len() as f64;
    let cx = points.iter().map(|p| p[0]).sum::<f64>() / n;
    let cy = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let mean = points
        .iter()
        .map(|p| (p[0] - cx).hypot(p[1] - cy))
        .sum::<f64>()
        / n;
    if !mean.is_finite() || mean < 1e-9 {
        return None;
    }
    let s = std::f64::consts::SQRT_2 / mean;
    Some((
        Homography([s, 0.0, -s * cx, 0.0, s, -s * cy, 0.0, 0.0, 1.0]),
        Homography([1.0 / s, 0.0, cx, 0.0, 1.0 / s, cy, 0.0, 0.0, 1.0]),
    ))
}

/// Least-squares homography taking `src` onto `dst` (at least 4 points, not degenerate).
///
/// A linear fit on conditioned points starts a Gauss–Newton refinement of the geometric error
/// (distance in `dst`), which is the error the residual reports. `h33` is fixed to 1 in the
/// conditioned frame: it vanishes only when the centroid maps to infinity, which a face in view
/// never does.
pub fn fit_homography(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Homography> {
    if src.len() != dst.len() || src.len() < 4 {
        return None;
    }
    let (ts, _) = conditioning(src)?;
    let (td, td_inv) = conditioning(dst)?;
    let s: Vec<[f64; 2]> = src.iter().map(|p| ts.apply(*p)).collect();
    let d: Vec<[f64; 2]> = dst.iter().map(|p| td.apply(*p)).collect();

    // Linear start: u·(h7 x + h8 y + 1) = h1 x + h2 y + h3, likewise v.
    let mut ata = [[0.0; 8]; 8];
    let mut atb = [0.0; 8];
    for (p, q) in s.iter().zip(&d) {
        let (x, y, u, v) = (p[0], p[1], q[0], q[1]);
        for (row, rhs) in [
            ([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], u),
            ([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y], v),
        ] {
            accumulate(&mut ata, &mut atb, &row, rhs);
        }
    }
    let mut h = solve8(ata, atb)?;

    let cost = |h: &[f64; 8]| -> f64 {
        let m = Homography([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]);
        s.iter()
            .zip(&d)
            .map(|(p, q)| {
                let r = m.apply(*p);
                (r[0] - q[0]).powi(2) + (r[1] - q[1]).powi(2)
            })
            .sum()
    };
    let mut current = cost(&h);
    for _ in 0..5 {
        let mut jtj = [[0.0; 8]; 8];
        let mut jtr = [0.0; 8];
        for (p, q) in s.iter().zip(&d) {
            let (x, y) = (p[0], p[1]);
            let w = h[6] * x + h[7] * y + 1.0;
            let u = (h[0] * x + h[1] * y + h[2]) / w;
            let v = (h[3] * x + h[4] * y + h[5]) / w;
            let ju = [x / w, y / w, 1.0 / w, 0.0, 0.0, 0.0, -u * x / w, -u * y / w];
            let jv = [0.0, 0.0, 0.0, x / w, y / w, 1.0 / w, -v * x / w, -v * y / w];
            accumulate(&mut jtj, &mut jtr, &ju, q[0] - u);
            accumulate(&mut jtj, &mut jtr, &jv, q[1] - v);
        }
        let Some(step) = solve8(jtj, jtr) else { break };
        let candidate: [f64; 8] = std::array::from_fn(|i| h[i] + step[i]);
        let next = cost(&candidate);
        if next.is_nan() || next >= current {
            break;
        }
        let converged = current - next < 1e-12 * current.max(1e-30);
        h = candidate;
        current = next;
        if converged {
            break;
        }
    }
    let conditioned = Homography([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]);
    let m = td_inv.mul(&conditioned).mul(&ts);
    m.0.iter().all(|v| v.is_finite()).then_some(m)
}

/// Least-squares similarity (translation, uniform scale, in-plane rotation).
fn fit_similarity(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Option<Homography> {
    let n = src.len() as f64;
    let centroid = |ps: &[[f64; 2]]| {
        let (x, y) = ps.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        (x / n, y / n)
    };
    let (sx, sy) = centroid(src);
    let (dx, dy) = centroid(dst);
    let (mut a, mut b, mut den) = (0.0, 0.0, 0.0);
    for (p, q) in src.iter().zip(dst) {
        let (x, y) = (p[0] - sx, p[1] - sy);
        let (u, v) = (q[0] - dx, q[1] - dy);
        a += x * u + y * v;
        b += x * v - y * u;
        den += x * x + y * y;
    }
    if !den.is_finite() || den < 1e-12 {
        return None;
    }
    let (a, b) = (a / den, b / den);
    Some(Homography([
        a,
        -b,
        dx - (a * sx - b * sy),
        b,
        a,
        dy - (b * sx + a * sy),
        0.0,
        0.0,
        1.0,
    ]))
}

fn accumulate(ata: &mut [[f64; 8]; 8], atb: &mut [f64; 8], row: &[f64; 8], rhs: f64) {
    for i in 0..8 {
        for j in 0..8 {
            ata[i][j] += row[i] * row[j];
        }
        atb[i] += row[i] * rhs;
    }
}

/// Gaussian elimination with partial pivoting; `None` when (numerically) singular.
fn solve8(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-300);
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        let magnitude = a[pivot][col].abs();
        if magnitude.is_nan() || magnitude <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..8 {
            let f = a[row][col] / pivot_row[col];
            for (v, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 8];
    for row in (0..8).rev() {
        let tail: f64 = (row + 1..8).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so the tests need no dependency.
    struct Rng(u64);
    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.uniform()
        }
    }

    /// A face-sized 3-D cloud (units of ~inter-ocular distance 1, depth up to 0.6), with the
    /// mesh's eye-corner indices placed where eyes are.
    fn face_cloud(rng: &mut Rng, depth: f64) -> Vec<[f64; 3]> {
        let mut cloud: Vec<[f64; 3]> = (0..LANDMARKS)
            .map(|_| {
                let (x, y) = (rng.range(-0.9, 0.9), rng.range(-1.0, 1.3));
                // A rounded face: nearer the camera at the centre.
                let z = -depth * (1.0 - (x * x + y * y * 0.5).min(1.0));
                [x, y, z]
            })
            .collect();
        cloud[idx::RIGHT_EYE_OUTER] = [-0.7, 0.0, 0.0];
        cloud[idx::RIGHT_EYE_INNER] = [-0.3, 0.0, 0.0];
        cloud[idx::LEFT_EYE_INNER] = [0.3, 0.0, 0.0];
        cloud[idx::LEFT_EYE_OUTER] = [0.7, 0.0, 0.0];
        cloud
    }

    /// Pinhole view: yaw about the vertical axis, then the face `distance` IODs in front of a
    /// camera of focal length `focal` pixels, centred at (320, 240).
    fn project(cloud: &[[f64; 3]], yaw: f64, distance: f64, focal: f64) -> Vec<Point> {
        let (s, c) = yaw.sin_cos();
        cloud
            .iter()
            .map(|p| {
                let x = c * p[0] + s * p[2];
                let z = -s * p[0] + c * p[2] + distance;
                Point {
                    x: (320.0 + focal * x / z) as f32,
                    y: (240.0 + focal * p[1] / z) as f32,
                }
            })
            .collect()
    }

    fn random_homography(rng: &mut Rng) -> Homography {
        let angle = rng.range(-0.5, 0.5);
        let scale = rng.range(0.7, 1.4);
        let (s, c) = angle.sin_cos();
        Homography([
            scale * c + rng.range(-0.1, 0.1),
            -scale * s + rng.range(-0.1, 0.1),
            rng.range(-50.0, 50.0),
            scale * s + rng.range(-0.1, 0.1),
            scale * c + rng.range(-0.1, 0.1),
            rng.range(-50.0, 50.0),
            rng.range(-4e-4, 4e-4),
            rng.range(-4e-4, 4e-4),
            1.0,
        ])
    }

    #[test]
    fn homography_fit_recovers_a_known_map() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20 {
            let truth = random_homography(&mut rng);
            let src: Vec<[f64; 2]> = (0..50)
                .map(|_| [rng.range(100.0, 500.0), rng.range(50.0, 450.0)])
                .collect();
            let dst: Vec<[f64; 2]> = src.iter().map(|p| truth.apply(*p)).collect();
            let fit = fit_homography(&src, &dst).expect("fit");
            assert!(rms_error(&src, &dst, |p| fit.apply(p)) < 1e-6);
        }
        let line: Vec<[f64; 2]> = (0..10).map(|i| [i as f64, 2.0 * i as f64]).collect();
        assert!(fit_homography(&line, &line).is_none());
    }

    #[test]
    fn a_plane_under_any_homography_has_no_residual() {
        let mut rng = Rng(42);
        let flat = face_cloud(&mut rng, 0.0);
        let base = project(&flat, 0.0, 6.0, 600.0);
        // A flat photo moved about: each frame is the first under a random homography, plus
        // a little landmark jitter (0.1 px on an IOD of ~100 px).
        let track: Vec<(f64, Vec<Point>)> = (0..20)
            .map(|i| {
                let h = random_homography(&mut rng);
                let points = base
                    .iter()
                    .map(|p| {
                        let q = h.apply([p.x as f64, p.y as f64]);
                        Point {
                            x: (q[0] + rng.range(-0.1, 0.1)) as f32,
                            y: (q[1] + rng.range(-0.1, 0.1)) as f32,
                        }
                    })
                    .collect();
                (i as f64 * 0.2, points)
            })
            .collect();
        let report = measure(&track);
        assert_eq!(report.frames, 20);
        assert!(report.moving_pairs > 10, "{report:?}");
        let worst = report.fits.iter().map(|f| f.residual).fold(0.0, f64::max);
        assert!(worst < 0.003, "worst planar residual {worst}");
        assert!(report.residual.unwrap() < 0.003);
    }

    #[test]
    fn a_turning_head_leaves_a_residual() {
        let mut rng = Rng(7);
        let head = face_cloud(&mut rng, 0.6);
        // Yaw sweeping ±20° over 4 s.
        let track: Vec<(f64, Vec<Point>)> = (0..40)
            .map(|i| {
                let t = i as f64 * 0.1;
                let yaw = 0.35 * (t * std::f64::consts::PI / 2.0).sin();
                (t, project(&head, yaw, 6.0, 600.0))
            })
            .collect();
        let report = measure(&track);
        let residual = report.residual.expect("the head moved");
        assert!(residual > 0.02, "{report:?}");
        // The same head not moving says nothing.
        let still: Vec<(f64, Vec<Point>)> = (0..40)
            .map(|i| (i as f64 * 0.1, project(&head, 0.1, 6.0, 600.0)))
            .collect();
        let report = measure(&still);
        assert_eq!(report.moving_pairs, 0);
        assert_eq!(report.residual, None);
        assert!(report.median_residual_all.unwrap() < 1e-4);
    }

    #[test]
    fn unusable_frames_and_gaps_are_skipped() {
        let mut rng = Rng(3);
        let head = face_cloud(&mut rng, 0.6);
        let track = vec![
            (0.0, project(&head, 0.0, 6.0, 600.0)),
            (0.1, vec![Point::default(); 5]),
            (0.5, project(&head, 0.2, 6.0, 600.0)),
            (9.0, project(&head, -0.2, 6.0, 600.0)),
        ];
        let report = measure(&track);
        assert_eq!(report.frames, 3);
        assert_eq!(report.pairs, 1);
        assert_eq!(measure(&[]), PlanarityReport::default());
    }
}
