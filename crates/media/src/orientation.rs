//! EXIF orientation (tag 0x0112, values 1–8): reading it from any container kamadak-exif
//! understands (JPEG, PNG, WebP, TIFF) and applying it to pixels. `image` applies none of this by
//! itself. Apply it to the *reduced* image: rotating 1280 px is cheaper than rotating 12 MP.

use image::RgbImage;
use image::imageops;

/// The EXIF orientation of the image, 1 (upright) when absent, malformed or out of range. A
/// broken EXIF block is not a reason to refuse a photo.
pub fn read_exif_orientation(bytes: &[u8]) -> u8 {
    let mut cursor = std::io::Cursor::new(bytes);
    let Ok(exif) = exif::Reader::new().read_from_container(&mut cursor) else {
        return 1;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|v| (1..=8).contains(v))
        .map(|v| v as u8)
        .unwrap_or(1)
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
        let expect = [(1, (0, 0)), (2, (2, 0)), (3, (2, 1)), (4, (0, 1)), (5, (0, 0)), (6, (1, 0)), (7, (1, 2)), (8, (0, 2))];
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
        assert_eq!(read_exif_orientation(&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, b'E', b'x', b'i', b'f', 0, 0]), 1);
    }
}
