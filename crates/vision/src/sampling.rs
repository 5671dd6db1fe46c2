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
    let raw = image.as_raw();
    let pixel = |x: usize, y: usize| -> &[u8] {
        let i = (y * iw + x) * 3;
        &raw[i..i + 3]
    };
    for oy in 0..out_h {
        for ox in 0..out_w {
            let mut acc = [0f32; 3];
            for jy in 0..ty {
                let py = region.y + (oy as f32 + (jy as f32 + 0.5) / ty as f32) * sy - 0.5;
                for jx in 0..tx {
                    let px = region.x + (ox as f32 + (jx as f32 + 0.5) / tx as f32) * sx - 0.5;
                    let v = bilinear(px, py, iw, ih, fill, &pixel);
                    acc[0] += v[0];
                    acc[1] += v[1];
                    acc[2] += v[2];
                }
            }
            let o = (oy * out_w + ox) * 3;
            out[o] = acc[0] * weight;
            out[o + 1] = acc[1] * weight;
            out[o + 2] = acc[2] * weight;
        }
    }
    out
}

fn bilinear<'a>(
    px: f32,
    py: f32,
    iw: usize,
    ih: usize,
    fill: [f32; 3],
    pixel: &impl Fn(usize, usize) -> &'a [u8],
) -> [f32; 3] {
    // Half a pixel of grace at the border, so edges are clamped rather than blended with fill.
    if !(px > -0.5 && py > -0.5 && px < iw as f32 - 0.5 && py < ih as f32 - 0.5) {
        return fill;
    }
    let x = px.clamp(0.0, (iw - 1) as f32);
    let y = py.clamp(0.0, (ih - 1) as f32);
    let x0 = x.floor() as usize;
    let y0 = y.floor() as usize;
    let x1 = (x0 + 1).min(iw - 1);
    let y1 = (y0 + 1).min(ih - 1);
    let fx = x - x0 as f32;
    let fy = y - y0 as f32;
    let (a, b, c, d) = (pixel(x0, y0), pixel(x1, y0), pixel(x0, y1), pixel(x1, y1));
    let mut v = [0f32; 3];
    for k in 0..3 {
        let top = a[k] as f32 * (1.0 - fx) + b[k] as f32 * fx;
        let bottom = c[k] as f32 * (1.0 - fx) + d[k] as f32 * fx;
        v[k] = top * (1.0 - fy) + bottom * fy;
    }
    v
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
