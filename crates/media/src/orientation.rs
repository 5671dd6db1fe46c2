//! EXIF orientation (tag 0x0112, values 1–8): reading it from any container kamadak-exif
//! understands (JPEG, PNG, WebP, TIFF) and applying it to pixels. `image` applies none of this by
//! itself. Apply it to the *reduced* image: rotating 1280 px is cheaper than rotating 12 MP.

use image::RgbImage;
use image::imageops;

/// The EXIF orientation of the image, 1 (upright) when absent, malformed or out of range. A
/// broken EXIF block is not a reason to refuse a photo.
pub fn read_exif_orientation(bytes: &[u8]) -> u8 {
    let reader = exif::Reader::new();
    let parsed = match webp_exif_chunk(bytes) {
        // Some writers (Pillow among them) start the WebP EXIF chunk with the JPEG-style
        // "Exif\0\0" prefix, which kamadak-exif's WebP reader does not expect.
        Some(payload) => reader.read_raw(
            payload
                .strip_prefix(b"Exif\0\0")
                .unwrap_or(payload)
                .to_vec(),
        ),
        None => reader.read_from_container(&mut std::io::Cursor::new(bytes)),
    };
    let Ok(exif) = parsed else {
        return 1;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|v| (1..=8).contains(v))
        .map(|v| v as u8)
        .unwrap_or(1)
}

/// The payload of a WebP file's `EXIF` chunk, if it has one.
fn webp_exif_chunk(b: &[u8]) -> Option<&[u8]> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return None;
    }
    let mut i = 12;
    while i + 8 <= b.len() {
        let size = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let start = i + 8;
        let end = start.checked_add(size)?;
        if &b[i..i + 4] == b"EXIF" {
            return b.get(start..end);
        }
        i = end + (size & 1);
    }
    None
}

/// True when the orientation swaps width and height (5–8).
pub fn swaps_axes(orientation: u8) -> bool {
    (5..=8).contains(&orientation)
}

/// Turns the stored pixels into the upright image the orientation describes.
///
/// | value | stored as | applied |
/// |---|---|---|
/// | 2 | mirrored | flip horizontally |
/// | 3 | upside down | rotate 180° |
/// | 4 | mirrored upside down | flip vertically |
/// | 5 | transposed | rotate 90° clockwise, flip horizontally |
/// | 6 | rotated 90° counter-clockwise | rotate 90° clockwise |
/// | 7 | transversed | rotate 270° clockwise, flip horizontally |
/// | 8 | rotated 90° clockwise | rotate 270° clockwise |
pub fn apply_orientation(img: RgbImage, orientation: u8) -> RgbImage {
    match orientation {
        2 => imageops::flip_horizontal(&img),
        3 => imageops::rotate180(&img),
        4 => imageops::flip_vertical(&img),
        5 => imageops::flip_horizontal(&imageops::rotate90(&img)),
        6 => imageops::rotate90(&img),
        7 => imageops::flip_horizontal(&imageops::rotate270(&img)),
        8 => imageops::rotate270(&img),
        _ => img,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 image whose pixel values encode their stored position.
    fn probe() -> RgbImage {
        RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8, y as u8, 0]))
    }

    #[test]
    fn corner_mapping() {
        // Where the stored top-left pixel ends up in the upright image.
        let expect = [
            (1, (0, 0)),
            (2, (2, 0)),
            (3, (2, 1)),
            (4, (0, 1)),
            (5, (0, 0)),
            (6, (1, 0)),
            (7, (1, 2)),
            (8, (0, 2)),
        ];
        for (o, (x, y)) in expect {
            let out = apply_orientation(probe(), o);
            let dims = if swaps_axes(o) { (2, 3) } else { (3, 2) };
            assert_eq!(out.dimensions(), dims, "orientation {o}");
            assert_eq!(out.get_pixel(x, y).0[..2], [0, 0], "orientation {o}");
        }
    }

    #[test]
    fn garbage_exif_is_upright() {
        assert_eq!(read_exif_orientation(b"not an image"), 1);
        assert_eq!(
            read_exif_orientation(&[
                0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, b'E', b'x', b'i', b'f', 0, 0
            ]),
            1
        );
    }
}
