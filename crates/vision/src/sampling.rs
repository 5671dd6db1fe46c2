//! Resampling a rectangle of an image into a small model input.
//!
//! Every model here wants a fixed-size crop of some region — a letterboxed frame, a scaled face
//! box — that may extend past the image edges. Sampling the region directly (rather than
//! cropping, then padding, then resizing) does it in one pass without intermediate images, and
//! averaging several bilinear taps per output pixel when shrinking avoids the aliasing that
//! plain bilinear gives when a 4000-px photo becomes a 128-px input.

use image::RgbImage;

/// A region of the source image, in pixels; may extend beyond the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Region {
    /// The square of side `max(w, h)` centred on the rectangle: a letterbox of it.
    pub fn letterbox(x: f32, y: f32, w: f32, h: f32) -> Region {
        let side = w.max(h);
        Region {
            x: x + (w - side) / 2.0,
            y: y + (h - side) / 2.0,
            w: side,
            h: side,
        }
    }

    /// Maps a point given in 0..1 units of this region to source pixels.
    pub fn to_image(&self, u: f32, v: f32) -> (f32, f32) {
        (self.x + u * self.w, self.y + v * self.h)
    }
}

/// The part of the rectangle `left..right` × `top..bottom` that lies inside `image`, widened to
/// whole pixels and at least one pixel wide and high, as a new image; with its top-left corner
/// in `image`'s pixels, to map what is found in the cut back.
pub fn cut(image: &RgbImage, left: f32, top: f32, right: f32, bottom: f32) -> (RgbImage, f32, f32) {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let x0 = left.clamp(0.0, (w - 1.0).max(0.0)).floor();
    let y0 = top.clamp(0.0, (h - 1.0).max(0.0)).floor();
    let x1 = right.clamp(x0 + 1.0, w).ceil();
    let y1 = bottom.clamp(y0 + 1.0, h).ceil();
    let crop = image::imageops::crop_imm(
        image,
        x0 as u32,
        y0 as u32,
        (x1 - x0) as u32,
        (y1 - y0) as u32,
    )
    .to_image();
    (crop, x0, y0)
}

/// Values blended per step of the vertical pass: enough to fill the vector registers, few
/// enough to stay in them.
const BLOCK: usize = 16;

/// Samples `region` into `out_w × out_h` RGB pixels (0..255, row-major, interleaved).
/// Points outside the image read as `fill`.
///
/// Separable: the taps of each output column (and row) are merged into one weight per source
/// pixel they touch. Each output row first blends the source rows its kernel weighs over the
/// span of columns any output reads (contiguous bytes, so the compiler vectorises it), then
/// each output pixel weighs that blended line. The same average of bilinear taps as sampling
/// every tap directly. Blending rows first reads the source bytes in order and in vector
/// registers, and leaves the gather-like horizontal pass only `out_h` short lines to weigh:
/// the resampling of a 640×480 still's three model inputs went from 2.1 to 0.8 ms
/// (`cargo bench -p vision --bench models -- sample_`). Its cost grows with the width of the
/// span, so callers hand it pictures already near the size they need (large JPEGs are decoded
/// DCT-reduced; video frames come scaled).
pub fn sample(
    image: &RgbImage,
    region: Region,
    out_w: usize,
    out_h: usize,
    fill: [f32; 3],
) -> Vec<f32> {
    let mut out = vec![0f32; out_w * out_h * 3];
    let (iw, ih) = (image.width() as usize, image.height() as usize);
    if out_w == 0 || out_h == 0 || !(region.w > 0.0 && region.h > 0.0) || iw == 0 || ih == 0 {
        return out;
    }
    let sx = region.w / out_w as f32;
    let sy = region.h / out_h as f32;
    // Taps per output pixel along each axis: enough to cover the source footprint, bounded.
    let tx = (sx.ceil() as usize).clamp(1, 4);
    let ty = (sy.ceil() as usize).clamp(1, 4);
    let cols = Kernel::new(&taps(region.x, sx, out_w, tx, iw), tx);
    let rows = Kernel::new(&taps(region.y, sy, out_h, ty, ih), ty);
    let raw = image.as_raw();
    let stride = iw * 3;
    // The source columns any output pixel reads; an empty span when every column is outside.
    let first = cols.weights.iter().map(|&(c, _)| c).min().unwrap_or(0);
    let last = cols.weights.iter().map(|&(c, _)| c + 1).max().unwrap_or(0);
    let span = first * 3..last * 3;
    let mut blended = vec![0f32; span.len()];

    for (oy, out_row) in out.chunks_exact_mut(out_w * 3).enumerate() {
        // Vertical: the rows this output row weighs, blended over the column span.
        let weighed = rows.of(oy);
        let inside: f32 = weighed.iter().map(|&(_, w)| w).sum();
        blend_rows(raw, stride, weighed, span.start, &mut blended);
        // Horizontal: each output pixel weighs the blended columns; taps outside the image —
        // whole rows (`rows.fill`) or columns of the rows inside — read the fill.
        let row_fill = rows.fill[oy];
        for (o, px) in out_row.chunks_exact_mut(3).enumerate() {
            let outside = row_fill + cols.fill[o] * inside;
            let mut acc = fill.map(|f| f * outside);
            for &(c, w) in cols.of(o) {
                let at = (c - first) * 3;
                let p = &blended[at..at + 3];
                for k in 0..3 {
                    acc[k] += w * p[k];
                }
            }
            px.copy_from_slice(&acc);
        }
    }
    out
}

/// `out[i] = Σ w · raw[r · stride + start + i]` over the weighed rows `(r, w)`: a block of
/// values at a time, held in registers while every row adds to it, so each block is written
/// once rather than once per row.
fn blend_rows(raw: &[u8], stride: usize, weighed: &[(usize, f32)], start: usize, out: &mut [f32]) {
    let whole = out.len() / BLOCK * BLOCK;
    let mut blocks = out.chunks_exact_mut(BLOCK);
    for (j, block) in (&mut blocks).enumerate() {
        let at = start + j * BLOCK;
        let mut acc = [0f32; BLOCK];
        for &(r, w) in weighed {
            let src = &raw[r * stride + at..r * stride + at + BLOCK];
            for (a, &s) in acc.iter_mut().zip(src) {
                *a += w * f32::from(s);
            }
        }
        block.copy_from_slice(&acc);
    }
    let tail = blocks.into_remainder();
    let at = start + whole;
    tail.fill(0.0);
    for &(r, w) in weighed {
        let src = &raw[r * stride + at..r * stride + at + tail.len()];
        for (a, &s) in tail.iter_mut().zip(src) {
            *a += w * f32::from(s);
        }
    }
}

/// Per output index along one axis: the source indices its taps touch with their summed
/// weights, and the weight of the taps that fall outside the image (they read the fill).
struct Kernel {
    weights: Vec<(usize, f32)>,
    starts: Vec<usize>,
    fill: Vec<f32>,
}

impl Kernel {
    fn new(taps: &[Option<Tap>], per: usize) -> Kernel {
        let share = 1.0 / per as f32;
        let mut k = Kernel {
            weights: Vec::with_capacity(taps.len() * 2),
            starts: Vec::with_capacity(taps.len() / per + 1),
            fill: Vec::with_capacity(taps.len() / per),
        };
        for group in taps.chunks_exact(per) {
            let start = k.weights.len();
            k.starts.push(start);
            let mut fill = 0.0;
            for tap in group {
                let Some(t) = tap else {
                    fill += share;
                    continue;
                };
                for (i, w) in [(t.i0, (1.0 - t.f) * share), (t.i1, t.f * share)] {
                    if w == 0.0 {
                        continue;
                    }
                    match k.weights[start..].iter_mut().find(|(j, _)| *j == i) {
                        Some(e) => e.1 += w,
                        None => k.weights.push((i, w)),
                    }
                }
            }
            k.fill.push(fill);
        }
        k.starts.push(k.weights.len());
        k
    }

    fn of(&self, o: usize) -> &[(usize, f32)] {
        &self.weights[self.starts[o]..self.starts[o + 1]]
    }
}

/// One bilinear tap along an axis: the two neighbouring source indices and the blend factor.
#[derive(Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    f: f32,
}

/// Tap positions along one axis; `None` where the tap falls outside the image. Half a pixel of
/// grace at the border clamps edges rather than blending them with the fill.
fn taps(origin: f32, step: f32, count: usize, per: usize, extent: usize) -> Vec<Option<Tap>> {
    let mut out = Vec::with_capacity(count * per);
    let last = (extent - 1) as f32;
    for o in 0..count {
        for j in 0..per {
            let p = origin + (o as f32 + (j as f32 + 0.5) / per as f32) * step - 0.5;
            if !(p > -0.5 && p < extent as f32 - 0.5) {
                out.push(None);
                continue;
            }
            let p = p.clamp(0.0, last);
            let i0 = p.floor() as usize;
            out.push(Some(Tap {
                i0,
                i1: (i0 + 1).min(extent - 1),
                f: p - i0 as f32,
            }));
        }
    }
    out
}

/// Interleaved RGB (from [`sample`]) to planar NCHW `[1, 3, h, w]`, optionally as BGR, with
/// `(v - mean) * scale` applied.
pub fn to_nchw(
    rgb: &[f32],
    w: usize,
    h: usize,
    bgr: bool,
    mean: f32,
    scale: f32,
) -> ndarray::ArrayD<f32> {
    let mut planes = vec![0f32; 3 * w * h];
    let plane = w * h;
    for i in 0..plane {
        for c in 0..3 {
            let src = if bgr { 2 - c } else { c };
            planes[c * plane + i] = (rgb[i * 3 + src] - mean) * scale;
        }
    }
    ndarray::Array4::from_shape_vec((1, 3, h, w), planes)
        .map(|a| a.into_dyn())
        .unwrap_or_else(|_| ndarray::ArrayD::zeros(ndarray::IxDyn(&[1, 3, h, w])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_pixels_inside_the_image() {
        let mut img = RgbImage::new(10, 8);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([x as u8, y as u8, 0]);
        }
        // Inside, fractional edges widened outwards to whole pixels.
        let (c, x0, y0) = cut(&img, 2.5, 1.2, 5.5, 4.0);
        assert_eq!((c.dimensions(), x0, y0), ((4, 3), 2.0, 1.0));
        assert_eq!(c.get_pixel(0, 0).0, [2, 1, 0]);
        // Past the edges: only the part inside, its corner where it starts in the image.
        let (c, x0, y0) = cut(&img, -5.0, 6.0, 20.0, 30.0);
        assert_eq!((c.dimensions(), x0, y0), ((10, 2), 0.0, 6.0));
        assert_eq!(c.get_pixel(3, 1).0, [3, 7, 0]);
        // Wholly outside: still one pixel, at the nearest corner, so callers need no case.
        let (c, x0, y0) = cut(&img, 30.0, 30.0, 40.0, 40.0);
        assert_eq!((c.dimensions(), x0, y0), ((1, 1), 9.0, 7.0));
    }

    #[test]
    fn identity_region_reproduces_pixels_and_outside_is_fill() {
        let mut img = RgbImage::new(4, 2);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([(x * 10) as u8, (y * 100) as u8, 7]);
        }
        let out = sample(
            &img,
            Region {
                x: 0.0,
                y: 0.0,
                w: 4.0,
                h: 2.0,
            },
            4,
            2,
            [0.0; 3],
        );
        assert_eq!(&out[0..3], &[0.0, 0.0, 7.0]);
        assert_eq!(&out[(4 + 3) * 3..(4 + 3) * 3 + 3], &[30.0, 100.0, 7.0]);
        let out = sample(
            &img,
            Region {
                x: -8.0,
                y: 0.0,
                w: 4.0,
                h: 2.0,
            },
            2,
            1,
            [9.0; 3],
        );
        assert_eq!(out, vec![9.0; 6]);
    }

    /// Every tap sampled directly: what the separable passes must equal.
    fn direct(image: &RgbImage, region: Region, w: usize, h: usize, fill: [f32; 3]) -> Vec<f32> {
        let (iw, ih) = (image.width() as usize, image.height() as usize);
        let (sx, sy) = (region.w / w as f32, region.h / h as f32);
        let (tx, ty) = (
            (sx.ceil() as usize).clamp(1, 4),
            (sy.ceil() as usize).clamp(1, 4),
        );
        let (cols, rows) = (taps(region.x, sx, w, tx, iw), taps(region.y, sy, h, ty, ih));
        let mut out = vec![0f32; w * h * 3];
        let weight = 1.0 / (tx * ty) as f32;
        for oy in 0..h {
            for ox in 0..w {
                for row in &rows[oy * ty..(oy + 1) * ty] {
                    for col in &cols[ox * tx..(ox + 1) * tx] {
                        for k in 0..3 {
                            let v = match (row, col) {
                                (Some(r), Some(c)) => {
                                    let p = |x: usize, y: usize| {
                                        image.get_pixel(x as u32, y as u32).0[k] as f32
                                    };
                                    let t = p(c.i0, r.i0) + (p(c.i1, r.i0) - p(c.i0, r.i0)) * c.f;
                                    let b = p(c.i0, r.i1) + (p(c.i1, r.i1) - p(c.i0, r.i1)) * c.f;
                                    t + (b - t) * r.f
                                }
                                _ => fill[k],
                            };
                            out[(oy * w + ox) * 3 + k] += v * weight;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn separable_passes_equal_direct_taps() {
        let img = RgbImage::from_fn(97, 61, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 13 % 256) as u8,
                ((x * y) % 256) as u8,
            ])
        });
        let regions = [
            Region {
                x: 3.3,
                y: 5.1,
                w: 80.0,
                h: 50.0,
            },
            Region {
                x: -20.0,
                y: -10.0,
                w: 140.0,
                h: 140.0,
            },
            Region {
                x: 10.0,
                y: 10.0,
                w: 9.0,
                h: 7.0,
            },
            Region {
                x: 90.0,
                y: 50.0,
                w: 30.0,
                h: 30.0,
            },
        ];
        for r in regions {
            for (w, h) in [(16, 16), (33, 20), (40, 40)] {
                let a = sample(&img, r, w, h, [5.0, 6.0, 7.0]);
                let b = direct(&img, r, w, h, [5.0, 6.0, 7.0]);
                let worst = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f32::max);
                assert!(worst < 1e-3, "{r:?} → {w}×{h}: differs by {worst}");
            }
        }
    }

    #[test]
    fn shrinking_averages() {
        let mut img = RgbImage::new(8, 8);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = if x % 2 == 0 {
                image::Rgb([0, 0, 0])
            } else {
                image::Rgb([200, 200, 200])
            };
        }
        let out = sample(
            &img,
            Region {
                x: 0.0,
                y: 0.0,
                w: 8.0,
                h: 8.0,
            },
            2,
            2,
            [0.0; 3],
        );
        for v in out {
            assert!((v - 100.0).abs() < 1.0, "{v}");
        }
    }
}
