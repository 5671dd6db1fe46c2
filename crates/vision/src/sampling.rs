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

/// Samples `region` into `out_w × out_h` RGB pixels (0..255, row-major, interleaved).
/// Points outside the image read as `fill`.
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
    let weight = 1.0 / (tx * ty) as f32;
    // Tap positions are separable: compute them once per column and once per row.
    let cols = taps(region.x, sx, out_w, tx, iw);
    let rows = taps(region.y, sy, out_h, ty, ih);
    let raw = image.as_raw();
    let stride = iw * 3;
    let fill = fill.map(|v| v * weight);
    for (oy, out_row) in out.chunks_exact_mut(out_w * 3).enumerate() {
        for row in &rows[oy * ty..(oy + 1) * ty] {
            let Some(row) = row else {
                for o in out_row.chunks_exact_mut(3) {
                    o.iter_mut().zip(&fill).for_each(|(o, f)| *o += f);
                }
                continue;
            };
            let top = &raw[row.i0 * stride..(row.i0 + 1) * stride];
            let bottom = &raw[row.i1 * stride..(row.i1 + 1) * stride];
            let fy = row.f;
            for (ox, o) in out_row.chunks_exact_mut(3).enumerate() {
                for col in &cols[ox * tx..(ox + 1) * tx] {
                    let Some(col) = col else {
                        o.iter_mut().zip(&fill).for_each(|(o, f)| *o += f);
                        continue;
                    };
                    let (a, b) = (col.i0 * 3, col.i1 * 3);
                    let fx = col.f;
                    for k in 0..3 {
                        let (ta, tb) = (top[a + k] as f32, top[b + k] as f32);
                        let (ba, bb) = (bottom[a + k] as f32, bottom[b + k] as f32);
                        let t = ta + (tb - ta) * fx;
                        let u = ba + (bb - ba) * fx;
                        o[k] += (t + (u - t) * fy) * weight;
                    }
                }
            }
        }
    }
    out
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
