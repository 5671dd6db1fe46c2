//! HEIC/HEIF and AVIF stills through the system libheif (feature `heif`; Debian's 1.15 decodes
//! HEVC with libde265 and AV1 with dav1d/aom). libheif applies the container's rotation and
//! mirroring (`irot`/`imir`) itself, and its handle reports the upright size, so no EXIF
//! orientation is applied on top (the HEIF rules say the EXIF tag is informative only).
//!
//! Without the feature both formats are refused with an error naming them.

use crate::MediaError;
use crate::sniff::StillFormat;
use crate::still::{Decoded, StillOptions};

#[cfg(feature = "heif")]
pub(crate) fn decode(
    bytes: &[u8],
    format: StillFormat,
    opts: &StillOptions,
) -> Result<Decoded, MediaError> {
    use libheif_rs::{ColorSpace, HeifContext, RgbChroma};

    use crate::resize::{fit_long_side, resize_rgb};
    use crate::still::check_dimensions;

    let corrupt =
        |e: libheif_rs::HeifError| MediaError::Corrupt(format!("{format}: {}", e.message));
    let ctx = HeifContext::read_from_bytes(bytes).map_err(|e| classify(e, format, (0, 0), opts))?;
    let handle = ctx.primary_image_handle().map_err(corrupt)?;
    let (w, h) = (handle.width(), handle.height());
    check_dimensions(w, h, &opts.limits)?;
    let had_alpha = handle.has_alpha_channel();
    // libheif's YCbCr planes plus the RGB plane it converts them into.
    let _memory = crate::budget::reserve(u64::from(w) * u64::from(h) * (3 + 3));
    let img = handle
        .decode(ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(|e| classify(e, format, (w, h), opts))?;
    let plane = img.planes().interleaved.ok_or_else(|| {
        MediaError::Corrupt(format!("{format}: the decoder returned no RGB plane"))
    })?;
    let (pw, ph) = (plane.width, plane.height);
    if pw == 0 || ph == 0 || plane.stride < pw as usize * 3 {
        return Err(MediaError::Corrupt(format!(
            "{format}: decoded plane of {pw}x{ph}"
        )));
    }
    let mut rgb = Vec::with_capacity(pw as usize * ph as usize * 3);
    for row in plane.data.chunks(plane.stride).take(ph as usize) {
        rgb.extend_from_slice(&row[..pw as usize * 3]);
    }
    let rgb = image::RgbImage::from_raw(pw, ph, rgb)
        .ok_or_else(|| MediaError::Internal("heif buffer size".into()))?;
    let (tw, th) = fit_long_side(pw, ph, opts.target_long_side);
    let image = resize_rgb(rgb, tw, th)?;
    Ok(Decoded {
        image,
        width: pw,
        height: ph,
        orientation: 1,
        had_alpha,
        jpeg_dct_eighths: None,
        damaged: false,
    })
}

/// libheif says "unsupported" when a plugin is missing (e.g. no HEVC decoder): that is a
/// format this build cannot read, not a broken file.
#[cfg(feature = "heif")]
fn classify(
    e: libheif_rs::HeifError,
    format: StillFormat,
    (width, height): (u32, u32),
    opts: &StillOptions,
) -> MediaError {
    use libheif_rs::HeifErrorCode;
    match e.code {
        HeifErrorCode::UnsupportedFeature | HeifErrorCode::UnsupportedFileType => {
            MediaError::UnsupportedFormat(format!("{format}: {}", e.message))
        }
        // libheif's own security limits (e.g. a huge grid of tiles) surface as this.
        HeifErrorCode::MemoryAllocationError => MediaError::TooManyPixels {
            what: "image",
            width,
            height,
            max_pixels: opts.limits.max_pixels,
            max_dimension: opts.limits.max_dimension,
        },
        _ => MediaError::Corrupt(format!("{format}: {}", e.message)),
    }
}

#[cfg(not(feature = "heif"))]
pub(crate) fn decode(
    _bytes: &[u8],
    format: StillFormat,
    _opts: &StillOptions,
) -> Result<Decoded, MediaError> {
    Err(MediaError::UnsupportedFormat(format!(
        "{} images are not supported by this build (built without libheif)",
        format.as_str().to_uppercase()
    )))
}
