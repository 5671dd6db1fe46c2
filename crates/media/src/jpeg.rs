//! JPEG through libjpeg-turbo, decoding at a reduced size in the DCT (1/8 steps) when the caller
//! only needs a smaller image: a 12 MP photo wanted at 1280 px decodes at 3/8 or 1/2 scale for a
//! fraction of the work, then a small resize lands on the exact target.
//!
//! Also: a truncated file (no end-of-image marker after the scan data) is refused, where
//! decoders would otherwise hand back a half-grey picture with a warning.

use image::RgbImage;
use turbojpeg::{Colorspace, Decompressor, PixelFormat, ScalingFactor};

use crate::MediaError;
use crate::orientation::read_exif_orientation;
use crate::resize::{fit_long_side, resize_rgb};
use crate::sniff::StillFormat;
use crate::still::{Decoded, StillOptions, check_dimensions, decode_with_image};

/// Progressive scans allowed per JPEG (libjpeg-turbo's own guard against scan bombs).
const MAX_PROGRESSIVE_SCANS: u32 = 100;

/// DCT scale factors tried, smallest first, as eighths. The odd ones have no SIMD IDCT in
/// libjpeg-turbo, but the smaller intermediate makes the final resize cheaper: on a 2.8 MB
/// 12 MP photo to 1280 px, 3/8 + resize took 33 ms CPU against 39 ms for 4/8 + resize
/// (full-size decode: 50 ms).
const EIGHTHS: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

pub(crate) fn decode(bytes: &[u8], opts: &StillOptions) -> Result<Decoded, MediaError> {
    check_complete(bytes)?;
    let mut d =
        Decompressor::new().map_err(|e| MediaError::Internal(format!("libjpeg-turbo: {e}")))?;
    // A progressive JPEG with thousands of tiny scans is a CPU bomb; real ones have about 10.
    d.set_scan_limit(MAX_PROGRESSIVE_SCANS)
        .map_err(|e| MediaError::Internal(format!("libjpeg-turbo: {e}")))?;
    let header = d
        .read_header(bytes)
        .map_err(|e| MediaError::undecodable("the JPEG header", e))?;
    let (w, h) = (dim(header.width)?, dim(header.height)?);
    check_dimensions(w, h, &opts.limits)?;
    if matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
        // libjpeg-turbo only decodes these to CMYK; the `image` path converts to RGB.
        return decode_with_image(bytes, StillFormat::Jpeg, opts);
    }
    let (mut tw, mut th) = fit_long_side(w, h, opts.target_long_side);
    let reduced = match opts.jpeg_min_long_side {
        Some(min) if !header.is_lossless && (tw, th) != (w, h) => {
            eighths_at_least(w, h, min, tw.max(th))
        }
        _ => None,
    };
    let eighths = if let Some(e) = reduced {
        // The DCT's own output is the image: no resize after it.
        (tw, th) = (scaled_side(w, e), scaled_side(h, e));
        e
    } else if header.is_lossless {
        8
    } else {
        choose_eighths(w, h, tw, th)
    };
    let factor = ScalingFactor::new(eighths as usize, 8);
    d.set_scaling_factor(factor)
        .map_err(|e| MediaError::Internal(format!("libjpeg-turbo scaling: {e}")))?;
    let scaled = header.scaled(factor);
    let _memory = crate::budget::reserve((scaled.width * scaled.height * 3) as u64);
    let mut out = turbojpeg::Image {
        pixels: vec![0u8; scaled.width * scaled.height * 3],
        width: scaled.width,
        pitch: scaled.width * 3,
        height: scaled.height,
        format: PixelFormat::RGB,
    };
    if let Err(e) = d.decompress(bytes, out.as_deref_mut()) {
        // libjpeg-turbo also reports recoverable warnings (extraneous bytes, a bad restart
        // marker) as errors. Give the more lenient decoder a chance before refusing, and say
        // the picture was repaired: damaged scan data decodes to blocks of garbage that PAD
        // would otherwise judge as if the camera had seen them.
        tracing::debug!(error = %e, "libjpeg-turbo refused the JPEG; trying the image crate");
        return decode_with_image(bytes, StillFormat::Jpeg, opts)
            .map(|d| Decoded { damaged: true, ..d })
            .map_err(|_| MediaError::undecodable("the JPEG data", e));
    }
    let rgb = RgbImage::from_raw(dim(scaled.width)?, dim(scaled.height)?, out.pixels)
        .ok_or_else(|| MediaError::Internal("jpeg buffer size".into()))?;
    let image = resize_rgb(rgb, tw, th)?;
    Ok(Decoded {
        image,
        width: w,
        height: h,
        orientation: read_exif_orientation(bytes),
        had_alpha: false,
        jpeg_dct_eighths: Some(eighths),
        damaged: false,
    })
}

fn dim(v: usize) -> Result<u32, MediaError> {
    u32::try_from(v).map_err(|_| MediaError::Corrupt(format!("jpeg dimension {v} out of range")))
}

/// A side scaled by `e`/8 as libjpeg does it (rounding up).
fn scaled_side(v: u32, e: u8) -> u32 {
    (v as u64 * e as u64).div_ceil(8) as u32
}

/// The smallest DCT scale (in eighths) whose long side lies within `min..=max`, if any.
pub(crate) fn eighths_at_least(w: u32, h: u32, min: u32, max: u32) -> Option<u8> {
    EIGHTHS.into_iter().find(|&e| {
        let long = scaled_side(w, e).max(scaled_side(h, e));
        long >= min && long <= max
    })
}

/// The smallest DCT scale (in eighths) whose output still covers `(tw, th)`: never decode
/// below the target, so the final resize only ever shrinks.
pub(crate) fn choose_eighths(w: u32, h: u32, tw: u32, th: u32) -> u8 {
    for e in EIGHTHS {
        // libjpeg rounds scaled sizes up.
        let sw = (w as u64 * e as u64).div_ceil(8);
        let sh = (h as u64 * e as u64).div_ceil(8);
        if sw >= tw as u64 && sh >= th as u64 {
            return e;
        }
    }
    8
}

/// Refuses a JPEG whose entropy-coded data never reaches an end-of-image marker (`FF D9`).
/// Walks the marker segments to the first start-of-scan, then looks for `FF D9` after it (inside
/// scan data `FF` is always followed by `00` or a restart marker, so the pair is unambiguous).
/// A marker structure this walk does not understand is left to the decoder to judge.
pub(crate) fn check_complete(b: &[u8]) -> Result<(), MediaError> {
    let truncated = || {
        MediaError::Corrupt("truncated JPEG: the data ends before the end-of-image marker".into())
    };
    let mut i = 2; // after SOI
    loop {
        if i + 1 >= b.len() {
            return Err(truncated());
        }
        if b[i] != 0xFF {
            return Ok(()); // not a marker where one should be: let the decoder decide
        }
        let marker = b[i + 1];
        match marker {
            0xFF => i += 1, // fill byte
            0xD9 => {
                return Err(MediaError::Corrupt(
                    "JPEG ends before any image data".into(),
                ));
            }
            0xDA => break,
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                if i + 3 >= b.len() {
                    return Err(truncated());
                }
                let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
                i += 2 + len;
            }
        }
    }
    let scan = &b[i..];
    let found = scan.iter().rposition(|&x| x == 0xD9).is_some_and(|p| {
        // Most files end at their EOI; search backwards, and past stray D9 bytes.
        let mut p = p;
        loop {
            if p > 0 && scan[p - 1] == 0xFF {
                return true;
            }
            match scan[..p].iter().rposition(|&x| x == 0xD9) {
                Some(q) => p = q,
                None => return false,
            }
        }
    });
    if found { Ok(()) } else { Err(truncated()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighths() {
        // 12 MP to 1280 px: 3/8 gives 1512x1134, the smallest that covers 1280x960.
        assert_eq!(choose_eighths(4032, 3024, 1280, 960), 3);
        assert_eq!(choose_eighths(640, 480, 640, 480), 8);
        assert_eq!(choose_eighths(10240, 7680, 1280, 960), 1);
        assert_eq!(choose_eighths(2560, 1920, 1280, 960), 4);
    }

    #[test]
    fn reduced_eighths_stay_within_bounds() {
        // 12 MP to 640..=1280: 2/8 gives 1008x756 (1/8 would be 504 px).
        assert_eq!(eighths_at_least(4032, 3024, 640, 1280), Some(2));
        assert_eq!(eighths_at_least(3000, 4000, 640, 1280), Some(2));
        // 48 MP: 1/8 is already 1000 px.
        assert_eq!(eighths_at_least(8000, 6000, 640, 1280), Some(1));
        // Just above the target: 4/8.
        assert_eq!(eighths_at_least(1300, 975, 640, 1280), Some(4));
        // No scale lands inside a band this narrow.
        assert_eq!(eighths_at_least(1300, 975, 1200, 1280), None);
    }

    #[test]
    fn completeness() {
        let ok = [
            0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0x00, 0xFF, 0xD9,
        ];
        assert!(check_complete(&ok).is_ok());
        assert!(check_complete(&ok[..10]).is_err());
        let trailing = [&ok[..], b"trailer with \xD9 byte"].concat();
        assert!(check_complete(&trailing).is_ok());
        assert!(check_complete(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]).is_err());
    }
}
