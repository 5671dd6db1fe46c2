//! Downscaling RGB images (SIMD convolution from `fast_image_resize`) and the arithmetic of
//! "fit the long side into N pixels, never upscale".

use fast_image_resize::{
    FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image, images::ImageRef,
};
use image::RgbImage;

use crate::MediaError;

/// The size that fits `(w, h)` into a long side of `target`, keeping the aspect ratio; the input
/// size when it already fits (or when there is no target). Never returns a zero side.
pub fn fit_long_side(w: u32, h: u32, target: Option<u32>) -> (u32, u32) {
    let Some(t) = target else { return (w, h) };
    let long = w.max(h);
    if t == 0 || long <= t {
        return (w, h);
    }
    let s = t as f64 / long as f64;
    let nw = ((w as f64 * s).round() as u32).clamp(1, t);
    let nh = ((h as f64 * s).round() as u32).clamp(1, t);
    (nw, nh)
}

/// Resizes an RGB image to exactly `(w, h)` with a bilinear convolution (area-aware when
/// shrinking, so no aliasing). Returns the input untouched when the size already matches.
pub fn resize_rgb(src: RgbImage, w: u32, h: u32) -> Result<RgbImage, MediaError> {
    if src.dimensions() == (w, h) {
        return Ok(src);
    }
    let (sw, sh) = src.dimensions();
    let src_view = ImageRef::new(sw, sh, src.as_raw(), PixelType::U8x3)
        .map_err(|e| MediaError::Internal(format!("resize source: {e}")))?;
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(&src_view, &mut dst, &opts)
        .map_err(|e| MediaError::Internal(format!("resize: {e}")))?;
    RgbImage::from_raw(w, h, dst.into_vec())
        .ok_or_else(|| MediaError::Internal("resize buffer size".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit() {
        assert_eq!(fit_long_side(4032, 3024, Some(1280)), (1280, 960));
        assert_eq!(fit_long_side(3024, 4032, Some(1280)), (960, 1280));
        assert_eq!(fit_long_side(640, 480, Some(1280)), (640, 480));
        assert_eq!(fit_long_side(640, 480, None), (640, 480));
        assert_eq!(fit_long_side(10000, 1, Some(100)), (100, 1));
    }

    #[test]
    fn resize_shape() {
        let img = RgbImage::from_pixel(400, 300, image::Rgb([10, 200, 30]));
        let out = resize_rgb(img, 100, 75).unwrap();
        assert_eq!(out.dimensions(), (100, 75));
        assert_eq!(out.get_pixel(50, 40).0, [10, 200, 30]);
    }
}
