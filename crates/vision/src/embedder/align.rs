//! Geometry shared by the crops the networks see: similarity transforms fitted to keypoints and
//! bilinear warping into fixed-size chips.
//!
//! Coordinates are pixel-index coordinates (pixel `i` has its centre at `i`), the convention the
//! published alignment templates use.

use image::{GrayImage, RgbImage};

use crate::face::Point;

/// 2×3 affine map `[a, b, c, d, e, f]`: `x' = a·x + b·y + c`, `y' = d·x + e·y + f`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f32; 6]);

impl Affine {
    pub fn apply(&self, p: Point) -> Point {
        let [a, b, c, d, e, f] = self.0;
        Point {
            x: a * p.x + b * p.y + c,
            y: d * p.x + e * p.y + f,
        }
    }

    pub fn invert(&self) -> Option<Affine> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * e - b * d;
        if !det.is_finite() || det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine([
            ia,
            ib,
            -(ia * c + ib * f),
            id,
            ie,
            -(id * c + ie * f),
        ]))
    }

    /// The map taking a `size`-pixel square chip onto a square of side `side` centred on
    /// `centre` and rotated by `angle` radians; `mirror` flips the chip left-right.
    pub fn square_crop(centre: Point, side: f32, angle: f32, size: u32, mirror: bool) -> Affine {
        let k = side / size as f32;
        let (s, c) = angle.sin_cos();
        let sx = if mirror { -k } else { k };
        // chip (u, v) → offset from the chip centre, scaled, mirrored, rotated, then translated.
        let half = (size as f32 - 1.0) / 2.0;
        let (a, b, d, e) = (c * sx, -s * k, s * sx, c * k);
        Affine([
            a,
            b,
            centre.x - a * half - b * half,
            d,
            e,
            centre.y - d * half - e * half,
        ])
    }
}

/// Least-squares similarity transform (rotation, uniform scale, translation) taking `src` onto
/// `dst`. `None` when the points are degenerate (coincident or not finite).
pub fn similarity(src: &[Point], dst: &[Point]) -> Option<Affine> {
    if src.len() != dst.len() || src.len() < 2 {
        return None;
    }
    let n = src.len() as f64;
    let mean = |ps: &[Point]| {
        let (sx, sy) = ps.iter().fold((0.0f64, 0.0f64), |(x, y), p| {
            (x + p.x as f64, y + p.y as f64)
        });
        (sx / n, sy / n)
    };
    let (msx, msy) = mean(src);
    let (mdx, mdy) = mean(dst);
    let (mut num_a, mut num_b, mut den) = (0.0f64, 0.0f64, 0.0f64);
    for (s, d) in src.iter().zip(dst) {
        let (xs, ys) = (s.x as f64 - msx, s.y as f64 - msy);
        let (xd, yd) = (d.x as f64 - mdx, d.y as f64 - mdy);
        num_a += xs * xd + ys * yd;
        num_b += xs * yd - ys * xd;
        den += xs * xs + ys * ys;
    }
    if !den.is_finite() || den < 1e-9 {
        return None;
    }
    let (a, b) = (num_a / den, num_b / den);
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    let m = [a, -b, tx, b, a, ty].map(|v| v as f32);
    m.iter().all(|v| v.is_finite()).then_some(Affine(m))
}

/// Renders a `width`×`height` chip whose pixel `(u, v)` samples `image` at `chip_to_image(u, v)`
/// bilinearly; outside the image is black.
pub fn warp(image: &RgbImage, chip_to_image: &Affine, width: u32, height: u32) -> RgbImage {
    let raw = warp_raw::<3>(
        image.as_raw(),
        image.dimensions(),
        chip_to_image,
        width,
        height,
    );
    RgbImage::from_raw(width, height, raw).expect("chip buffer has width × height × 3 bytes")
}

/// [`warp`] for a luma image.
pub fn warp_luma(image: &GrayImage, chip_to_image: &Affine, width: u32, height: u32) -> GrayImage {
    let raw = warp_raw::<1>(
        image.as_raw(),
        image.dimensions(),
        chip_to_image,
        width,
        height,
    );
    GrayImage::from_raw(width, height, raw).expect("chip buffer has width × height bytes")
}

fn warp_raw<const C: usize>(
    raw: &[u8],
    (iw, ih): (u32, u32),
    chip_to_image: &Affine,
    width: u32,
    height: u32,
) -> Vec<u8> {
    let (iw, ih) = (iw as i64, ih as i64);
    let px = |x: i64, y: i64| -> [f32; C] {
        let mut p = [0.0; C];
        if x < 0 || y < 0 || x >= iw || y >= ih {
            return p;
        }
        let i = ((y * iw + x) as usize) * C;
        for (k, v) in p.iter_mut().enumerate() {
            *v = raw[i + k] as f32;
        }
        p
    };
    let [a, b, c, d, e, f] = chip_to_image.0;
    let mut out = vec![0u8; width as usize * height as usize * C];
    for v in 0..height {
        for u in 0..width {
            let (uf, vf) = (u as f32, v as f32);
            let x = a * uf + b * vf + c;
            let y = d * uf + e * vf + f;
            if !x.is_finite() || !y.is_finite() {
                continue;
            }
            let (x0, y0) = (x.floor(), y.floor());
            let (fx, fy) = (x - x0, y - y0);
            // Far outside the image the f32 → i64 cast saturates, and px() returns black.
            let (x0, y0) = (x0 as i64, y0 as i64);
            let p00 = px(x0, y0);
            let p10 = px(x0 + 1, y0);
            let p01 = px(x0, y0 + 1);
            let p11 = px(x0 + 1, y0 + 1);
            let o = (v as usize * width as usize + u as usize) * C;
            for k in 0..C {
                let top = p00[k] + (p10[k] - p00[k]) * fx;
                let bottom = p01[k] + (p11[k] - p01[k]) * fx;
                out[o + k] = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(x: f32, y: f32) -> Point {
        Point { x, y }
    }

    #[test]
    fn similarity_recovers_a_known_transform() {
        let truth = Affine([0.0, -2.0, 10.0, 2.0, 0.0, 5.0]); // scale 2, rotate 90°
        let src = [pt(0.0, 0.0), pt(1.0, 0.0), pt(0.0, 3.0), pt(4.0, 1.0)];
        let dst: Vec<Point> = src.iter().map(|p| truth.apply(*p)).collect();
        let fit = similarity(&src, &dst).expect("fit");
        for (x, y) in fit.0.iter().zip(truth.0) {
            assert!((x - y).abs() < 1e-4, "{fit:?}");
        }
        let back = fit.invert().expect("invertible");
        let p = back.apply(fit.apply(pt(3.0, -7.0)));
        assert!((p.x - 3.0).abs() < 1e-4 && (p.y + 7.0).abs() < 1e-4);
        assert!(similarity(&[pt(1.0, 1.0), pt(1.0, 1.0)], &[pt(0.0, 0.0), pt(1.0, 0.0)]).is_none());
    }

    #[test]
    fn square_crop_centres_and_mirrors() {
        let m = Affine::square_crop(pt(50.0, 40.0), 20.0, 0.0, 64, false);
        let c = m.apply(pt(31.5, 31.5));
        assert!((c.x - 50.0).abs() < 1e-4 && (c.y - 40.0).abs() < 1e-4);
        let left = m.apply(pt(0.0, 31.5)).x;
        let mirrored = Affine::square_crop(pt(50.0, 40.0), 20.0, 0.0, 64, true);
        assert!(left < 50.0 && mirrored.apply(pt(0.0, 31.5)).x > 50.0);
    }
}
