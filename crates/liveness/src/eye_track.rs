//! Following the eyes between model runs, for the price of a few thousand pixel reads.
//!
//! Running the eye model on every frame of the dense stream would cost more than decoding the
//! video. Instead, every frame with a detected face anchors the track: a luma template of the
//! face and, when the eyes are open, reference eye chips. On the dense frames in between, the
//! face's shift is found by normalised cross-correlation of the template (the eyes are a small
//! part of it, so a blink barely moves the match), eye chips are cut at the shifted eyes, and
//! their change from the open-eye reference is the frame's signal. A blink is a short, sharp
//! rise of that change; only those frames go to the eye model (see [`crate::blink`]).

use crate::policy;
use image::GrayImage;
use vision::{EyeChips, EyeModel, EyeOpenness, Face};

/// Side of the face template's sampling grid.
const GRID: usize = 12;
/// The central part of a 64-px eye chip that holds the eye (the chip is 2.3 eye widths wide),
/// lids and all: (x0, y0, x1, y1).
const EYE_REGION: (u32, u32, u32, u32) = (12, 18, 52, 46);

/// One dense frame as the tracker saw it.
pub struct Followed {
    /// 1 − correlation of the eye chips with the open-eye reference, averaged over both eyes:
    /// ~0 for the same open eyes, rising as the lids cover the iris.
    pub change: f32,
    pub chips: EyeChips,
}

#[derive(Default)]
pub struct EyeTracker {
    anchor: Option<Anchor>,
    /// Eye chips of the most recent anchor whose eyes were open, with their openness.
    reference: Option<(EyeChips, EyeOpenness)>,
}

struct Anchor {
    face: Face,
    template: Template,
    /// Shift of the face found on the latest followed frame, from the anchor.
    offset: (f32, f32),
    time_s: f64,
}

impl EyeTracker {
    /// The open-eye reference's openness, if `chips` show the same eyes (change below
    /// [`policy::EYES_UNCHANGED_BELOW`]): the eye model would read them the same.
    pub fn unchanged(&self, chips: &EyeChips) -> Option<EyeOpenness> {
        let (reference, openness) = self.reference.as_ref()?;
        (change(chips, reference) < policy::EYES_UNCHANGED_BELOW).then_some(*openness)
    }

    /// Restarts the track on a frame whose face came from the detector. `eyes` are the chips
    /// and their openness, with whether they may serve as the open-eye reference.
    pub fn anchor(
        &mut self,
        luma: &GrayImage,
        face: &Face,
        time_s: f64,
        eyes: Option<(&EyeChips, EyeOpenness)>,
        eyes_open: bool,
    ) {
        self.anchor = Template::sample(luma, face).map(|template| Anchor {
            face: face.clone(),
            template,
            offset: (0.0, 0.0),
            time_s,
        });
        if let (Some((c, o)), true) = (eyes, eyes_open) {
            self.reference = Some((c.clone(), o));
        }
    }

    /// Follows the face onto a later frame; `None` when there is no recent anchor, the face
    /// cannot be found near where it was, or there is no open-eye reference yet.
    pub fn follow(
        &mut self,
        luma: &GrayImage,
        time_s: f64,
        eyes: &dyn EyeModel,
    ) -> Option<Followed> {
        let anchor = self.anchor.as_mut()?;
        if time_s - anchor.time_s > policy::EYE_TRACK_MAX_AGE_S {
            self.anchor = None;
            return None;
        }
        let radius = (anchor.face.bbox.w * policy::EYE_TRACK_SEARCH_FRACTION).max(4.0);
        let (offset, score) = anchor.template.find(luma, anchor.offset, radius);
        if score < policy::EYE_TRACK_MIN_CORRELATION {
            // Lost (turned away, occluded, a cut): wait for the next detection.
            self.anchor = None;
            return None;
        }
        anchor.offset = offset;
        let face = anchor.face.translated(offset.0, offset.1);
        let chips = eyes.chips(luma, &face)?;
        let (reference, _) = self.reference.as_ref()?;
        let change = change(&chips, reference);
        Some(Followed { change, chips })
    }
}

/// Both eyes' [`chip_change`], averaged.
fn change(chips: &EyeChips, reference: &EyeChips) -> f32 {
    (chip_change(&chips.left, &reference.left) + chip_change(&chips.right, &reference.right)) / 2.0
}

/// 1 − normalised cross-correlation of the eye region of `reference` with the best-aligned
/// region of `chip` within [`EYE_ALIGN_REACH`] chip pixels. The face template places the chips
/// to within a few pixels; the last pixels of eye motion (a head turning, a face coming
/// closer) would otherwise read as change. No shift makes shut lids look like an open eye.
fn chip_change(chip: &GrayImage, reference: &GrayImage) -> f32 {
    let mut reference_region = region(reference, (0, 0));
    normalise(&mut reference_region);
    let score = |o: (i32, i32)| {
        let mut v = region(chip, o);
        normalise(&mut v);
        dot(&v, &reference_region)
    };
    let mut best = ((0, 0), score((0, 0)));
    for step in [2, 1] {
        let centre = best.0;
        let n = if step == 2 { EYE_ALIGN_REACH / 2 } else { 1 };
        for j in -n..=n {
            for i in -n..=n {
                let o = (centre.0 + i * step, centre.1 + j * step);
                if (i, j) == (0, 0) || o.0.abs() > EYE_ALIGN_REACH || o.1.abs() > EYE_ALIGN_REACH {
                    continue;
                }
                let s = score(o);
                if s > best.1 {
                    best = (o, s);
                }
            }
        }
    }
    1.0 - best.1
}

/// How far (chip pixels) an eye region may shift to match the reference.
const EYE_ALIGN_REACH: i32 = 4;

/// The eye region of a chip, shifted by `(dx, dy)` (within the chip: the region leaves a
/// margin of more than [`EYE_ALIGN_REACH`]).
fn region(chip: &GrayImage, (dx, dy): (i32, i32)) -> Vec<f32> {
    let (x0, y0, x1, y1) = EYE_REGION;
    let mut v = Vec::with_capacity(((x1 - x0) * (y1 - y0) / 4) as usize);
    // Every other pixel: 20×14 samples still resolve lids over an iris, at a quarter of the
    // cost (the blink video's excursions and checks are unchanged by it).
    for y in (y0..y1).step_by(2) {
        for x in (x0..x1).step_by(2) {
            let (sx, sy) = (x as i32 + dx, y as i32 + dy);
            let p = u32::try_from(sx)
                .ok()
                .zip(u32::try_from(sy).ok())
                .and_then(|(sx, sy)| chip.get_pixel_checked(sx, sy));
            v.push(p.map_or(0.0, |p| p.0[0] as f32));
        }
    }
    v
}

/// Zero mean, unit norm (a flat patch stays all zeros, and correlates as 0 with anything).
fn normalise(v: &mut [f32]) {
    let mean = v.iter().sum::<f32>() / v.len().max(1) as f32;
    v.iter_mut().for_each(|x| *x -= mean);
    let norm = dot(v, v).sqrt();
    if norm > 1e-3 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The face box sampled on a regular grid, normalised.
struct Template {
    points: Vec<(f32, f32)>,
    values: Vec<f32>,
}

impl Template {
    fn sample(luma: &GrayImage, face: &Face) -> Option<Template> {
        let b = face.bbox;
        if !(b.w.is_finite() && b.h.is_finite()) || b.w < 8.0 || b.h < 8.0 {
            return None;
        }
        let points: Vec<(f32, f32)> = (0..GRID)
            .flat_map(|j| (0..GRID).map(move |i| (i, j)))
            .map(|(i, j)| {
                (
                    b.x + b.w * (i as f32 + 0.5) / GRID as f32,
                    b.y + b.h * (j as f32 + 0.5) / GRID as f32,
                )
            })
            .collect();
        let mut values: Vec<f32> = read(luma, &points, (0.0, 0.0)).collect();
        normalise(&mut values);
        if dot(&values, &values) < 0.5 {
            return None; // a flat field: nothing to follow
        }
        Some(Template { points, values })
    }

    /// Best shift within `radius` of `start`, coarse to fine; with its correlation.
    fn find(&self, luma: &GrayImage, start: (f32, f32), radius: f32) -> ((f32, f32), f32) {
        let mut best = (start, self.correlation(luma, start));
        // A 7×7 coarse grid, then 3×3 refinements at half the step down to half a pixel.
        let mut step = radius / 3.0;
        let mut n = 3;
        while step >= 0.5 {
            let centre = best.0;
            for j in -n..=n {
                for i in -n..=n {
                    if i == 0 && j == 0 {
                        continue;
                    }
                    let o = (centre.0 + i as f32 * step, centre.1 + j as f32 * step);
                    let s = self.correlation(luma, o);
                    if s > best.1 {
                        best = (o, s);
                    }
                }
            }
            step /= 2.0;
            n = 1;
        }
        best
    }

    /// Normalised cross-correlation with the frame shifted by `offset`, in one pass: the
    /// template is zero-mean, so the frame's mean drops out of the numerator.
    fn correlation(&self, luma: &GrayImage, offset: (f32, f32)) -> f32 {
        let (mut cross, mut sum, mut sq) = (0.0f32, 0.0f32, 0.0f32);
        for (v, t) in read(luma, &self.points, offset).zip(&self.values) {
            cross += v * t;
            sum += v;
            sq += v * v;
        }
        let n = self.values.len() as f32;
        let var = sq - sum * sum / n;
        if var <= 1e-3 { 0.0 } else { cross / var.sqrt() }
    }
}

/// Bilinear luma at each point shifted by `offset`; outside the image reads as black.
fn read<'a>(
    luma: &'a GrayImage,
    points: &'a [(f32, f32)],
    (dx, dy): (f32, f32),
) -> impl Iterator<Item = f32> + 'a {
    let (w, h) = (luma.width() as i64, luma.height() as i64);
    let raw = luma.as_raw();
    let px = move |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= w || y >= h {
            0.0
        } else {
            raw[(y * w + x) as usize] as f32
        }
    };
    points.iter().map(move |&(x, y)| {
        let (x, y) = (x + dx, y + dy);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (xi, yi) = (x0 as i64, y0 as i64);
        let top = px(xi, yi) + (px(xi + 1, yi) - px(xi, yi)) * fx;
        let bottom = px(xi, yi + 1) + (px(xi + 1, yi + 1) - px(xi, yi + 1)) * fx;
        top + (bottom - top) * fy
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vision::{BBox, Point};

    /// A smooth, textured test picture (no flat regions, no repeats within the search).
    fn scene(w: u32, h: u32, dx: f32, dy: f32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let (x, y) = (x as f32 - dx, y as f32 - dy);
            let v = 128.0
                + 60.0 * (x / 9.0).sin() * (y / 13.0).cos()
                + 40.0 * ((x + 2.0 * y) / 23.0).sin();
            image::Luma([v.clamp(0.0, 255.0) as u8])
        })
    }

    fn face() -> Face {
        Face {
            bbox: BBox {
                x: 60.0,
                y: 50.0,
                w: 80.0,
                h: 80.0,
            },
            score: 1.0,
            keypoints: [Point { x: 100.0, y: 90.0 }; 6],
        }
    }

    #[test]
    fn the_template_finds_a_shifted_face() {
        let t = Template::sample(&scene(200, 200, 0.0, 0.0), &face()).unwrap();
        for (dx, dy) in [(0.0, 0.0), (5.0, -3.0), (-9.0, 7.0), (12.0, 12.0)] {
            let ((fx, fy), s) = t.find(&scene(200, 200, dx, dy), (0.0, 0.0), 16.0);
            assert!(
                (fx - dx).abs() <= 1.0 && (fy - dy).abs() <= 1.0,
                "moved ({dx},{dy}), found ({fx},{fy})"
            );
            assert!(s > 0.95, "correlation {s}");
        }
    }

    #[test]
    fn a_flat_field_gives_no_template() {
        let flat = GrayImage::from_pixel(200, 200, image::Luma([90]));
        assert!(Template::sample(&flat, &face()).is_none());
    }

    #[test]
    fn chip_change_is_zero_for_the_same_chip_and_large_for_another() {
        let a = scene(64, 64, 0.0, 0.0);
        assert!(chip_change(&a, &a).abs() < 1e-4);
        let b = scene(64, 64, 17.0, 9.0);
        assert!(chip_change(&a, &b) > 0.3, "{}", chip_change(&a, &b));
    }
}
