//! Still images: bytes → upright RGB, with limits checked from the header before any pixel
//! buffer is allocated, and a reduced-size decode when the caller only needs a smaller image.
//!
//! Route by sniffed format: JPEG through libjpeg-turbo (DCT-scaled decode), HEIF/AVIF through
//! libheif (feature `heif`), everything else (PNG, GIF first frame, BMP, TIFF, WebP) through the
//! `image` crate. All paths end the same way: RGB8 (grey, CMYK, 16-bit and alpha normalised;
//! alpha is dropped, as OpenCV and Pillow's `convert("RGB")` do), resized to fit the target,
//! then EXIF orientation applied to the small image.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use serde::Serialize;

use crate::orientation::{apply_orientation, read_exif_orientation, swaps_axes};
use crate::resize::{fit_long_side, resize_rgb};
use crate::sniff::{Kind, StillFormat, sniff};
use crate::{MediaError, jpeg};

/// Hard limits for one still image. Checked before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillLimits {
    /// Size of the encoded file.
    pub max_bytes: usize,
    /// Width × height as stored in the header.
    pub max_pixels: u64,
    /// Longest side as stored in the header.
    pub max_dimension: u32,
}

impl Default for StillLimits {
    /// 30 MiB, 100 megapixels, 20 000 px per side.
    fn default() -> Self {
        Self {
            max_bytes: 30 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_dimension: 20_000,
        }
    }
}

/// How to decode a still.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillOptions {
    pub limits: StillLimits,
    /// Fit the decoded image into this long side (never upscales). `None` = full size.
    pub target_long_side: Option<u32>,
    /// A JPEG bigger than the target may stop at the smallest DCT scale whose long side is at
    /// least this (and at most the target), with no resize after it: the reduced IDCT is where
    /// a big photo's decode is cheap, the resize of a larger intermediate is not. `None` =
    /// always land exactly on the target.
    pub jpeg_min_long_side: Option<u32>,
}

impl Default for StillOptions {
    fn default() -> Self {
        Self {
            limits: StillLimits::default(),
            target_long_side: Some(1280),
            jpeg_min_long_side: None,
        }
    }
}

/// What was decoded, for logs, the `probe` command and the report's evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StillInfo {
    /// `jpeg`, `png`, `gif`, `bmp`, `tiff`, `webp`, `avif`, `heif`: from the bytes, not the name.
    pub format: String,
    /// Original size, upright (after the orientation is applied).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation found (1–8; 1 when absent). HEIF/AVIF carry their rotation in the
    /// container, which libheif applies: reported as 1.
    pub orientation: u8,
    /// Decoded pixels per original pixel (1.0 = full size).
    pub scale: f32,
    /// The source had an alpha channel (dropped in the RGB output).
    pub had_alpha: bool,
    /// DCT scaling used by the JPEG decoder as `num/8` (8 = none), `None` for other formats.
    pub jpeg_dct_eighths: Option<u8>,
    /// The compressed data is damaged: libjpeg-turbo found corrupt data and a lenient decoder
    /// filled in what it could, so parts of the picture may not be what the camera saw.
    pub damaged: bool,
}

/// A decoded, upright RGB image and what it was.
#[derive(Debug, Clone)]
pub struct Still {
    pub image: RgbImage,
    pub info: StillInfo,
}

/// Decodes an uploaded still image. See the module documentation for the pipeline.
pub fn decode_still(bytes: &[u8], opts: &StillOptions) -> Result<Still, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty { what: "image" });
    }
    if bytes.len() > opts.limits.max_bytes {
        return Err(MediaError::TooLarge {
            what: "image",
            size: bytes.len(),
            limit: opts.limits.max_bytes,
        });
    }
    let format = match sniff(bytes) {
        Kind::Still(f) => f,
        Kind::Video(c) => {
            return Err(MediaError::UnsupportedFormat(format!(
                "{c} is a video container, not a still image"
            )));
        }
        Kind::Other(name) => {
            return Err(MediaError::UnsupportedFormat(format!(
                "{name} is not a supported image format"
            )));
        }
        Kind::Unknown => {
            return Err(MediaError::UnsupportedFormat(
                "unrecognised image data (expected JPEG, PNG, WebP, BMP, TIFF, GIF, AVIF or HEIC)"
                    .into(),
            ));
        }
    };
    let decoded = match format {
        StillFormat::Jpeg => jpeg::decode(bytes, opts)?,
        StillFormat::Heif | StillFormat::Avif => crate::heif::decode(bytes, format, opts)?,
        _ => decode_with_image(bytes, format, opts)?,
    };
    Ok(finish(decoded, format))
}

/// A decoder's result before orientation: pixels fitted to the target in stored orientation.
pub(crate) struct Decoded {
    pub image: RgbImage,
    /// Stored (not yet oriented) size of the original.
    pub width: u32,
    pub height: u32,
    /// The orientation still to apply (1 when the decoder already applied it).
    pub orientation: u8,
    pub had_alpha: bool,
    pub jpeg_dct_eighths: Option<u8>,
    pub damaged: bool,
}

fn finish(d: Decoded, format: StillFormat) -> Still {
    let scale = if d.width > 0 {
        d.image.width() as f32 / d.width as f32
    } else {
        1.0
    };
    let (w, h) = if swaps_axes(d.orientation) {
        (d.height, d.width)
    } else {
        (d.width, d.height)
    };
    let image = apply_orientation(d.image, d.orientation);
    Still {
        image,
        info: StillInfo {
            format: format.as_str().to_string(),
            width: w,
            height: h,
            orientation: d.orientation,
            scale,
            had_alpha: d.had_alpha,
            jpeg_dct_eighths: d.jpeg_dct_eighths,
            damaged: d.damaged,
        },
    }
}

/// Refuses sizes over the limits. Called with header dimensions, before pixels are allocated.
pub(crate) fn check_dimensions(w: u32, h: u32, limits: &StillLimits) -> Result<(), MediaError> {
    if w == 0 || h == 0 {
        return Err(MediaError::Corrupt(format!(
            "the image header gives a size of {w}x{h}"
        )));
    }
    if w > limits.max_dimension
        || h > limits.max_dimension
        || (w as u64) * (h as u64) > limits.max_pixels
    {
        return Err(MediaError::TooManyPixels {
            what: "image",
            width: w,
            height: h,
            max_pixels: limits.max_pixels,
            max_dimension: limits.max_dimension,
        });
    }
    Ok(())
}

fn image_format(f: StillFormat) -> Option<ImageFormat> {
    Some(match f {
        StillFormat::Jpeg => ImageFormat::Jpeg,
        StillFormat::Png => ImageFormat::Png,
        StillFormat::Gif => ImageFormat::Gif,
        StillFormat::Bmp => ImageFormat::Bmp,
        StillFormat::Tiff => ImageFormat::Tiff,
        StillFormat::WebP => ImageFormat::WebP,
        StillFormat::Avif | StillFormat::Heif => return None,
    })
}

/// The `image`-crate path: PNG, GIF (first frame), BMP, TIFF, WebP, and JPEGs libjpeg-turbo
/// cannot turn into RGB (CMYK/YCCK) or refuses.
pub(crate) fn decode_with_image(
    bytes: &[u8],
    format: StillFormat,
    opts: &StillOptions,
) -> Result<Decoded, MediaError> {
    let fmt =
        image_format(format).ok_or_else(|| MediaError::UnsupportedFormat(format.to_string()))?;
    let lim = &opts.limits;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), fmt);
    let mut il = image::Limits::default();
    // Width and height are checked by `check_dimensions` below, with a better message.
    il.max_image_width = None;
    il.max_image_height = None;
    // Enough for the largest allowed image at 16-bit RGBA; the pixel limit is the real gate.
    il.max_alloc = Some(lim.max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(il);
    let decoder = reader
        .into_decoder()
        .map_err(|e| image_error(e, format, lim, (0, 0)))?;
    let (w, h) = decoder.dimensions();
    check_dimensions(w, h, lim)?;
    let had_alpha = decoder.color_type().has_alpha();
    // The decoder's buffer plus the RGB8 copy `into_rgb8` makes of anything that is not RGB8.
    let native = u64::from(decoder.color_type().bytes_per_pixel());
    let copy = if decoder.color_type() == image::ColorType::Rgb8 {
        0
    } else {
        3
    };
    let _memory = crate::budget::reserve(u64::from(w) * u64::from(h) * (native + copy));
    let img =
        DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, format, lim, (w, h)))?;
    let rgb = img.into_rgb8();
    let (tw, th) = fit_long_side(w, h, opts.target_long_side);
    let image = resize_rgb(rgb, tw, th)?;
    let orientation = match format {
        StillFormat::Jpeg | StillFormat::Png | StillFormat::WebP | StillFormat::Tiff => {
            read_exif_orientation(bytes)
        }
        _ => 1,
    };
    Ok(Decoded {
        image,
        width: w,
        height: h,
        orientation,
        had_alpha,
        jpeg_dct_eighths: None,
        damaged: false,
    })
}

fn image_error(
    e: image::ImageError,
    format: StillFormat,
    lim: &StillLimits,
    (w, h): (u32, u32),
) -> MediaError {
    use image::ImageError as E;
    match e {
        E::Limits(l) => {
            tracing::debug!(%l, "image decoder limit hit");
            MediaError::TooManyPixels {
                what: "image",
                width: w,
                height: h,
                max_pixels: lim.max_pixels,
                max_dimension: lim.max_dimension,
            }
        }
        E::Unsupported(u) => MediaError::UnsupportedFormat(format!("{format}: {u}")),
        other => MediaError::undecodable(
            &format!("the {} data", format.as_str().to_uppercase()),
            other,
        ),
    }
}
