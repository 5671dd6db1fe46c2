//! Still-image decoding on the real files in `shared/testdata/negative` (every format, every EXIF
//! orientation, grey, CMYK, RGBA, a truncated JPEG, bad EXIF) and on images made with ffmpeg
//! (12 MP JPEG, 16-bit PNG/TIFF), plus crafted decompression bombs and mutations.

mod common;

use common::*;
use media::{MediaError, StillLimits, StillOptions, decode_still};

fn full() -> StillOptions {
    StillOptions {
        target_long_side: None,
        ..StillOptions::default()
    }
}

fn decode_file(rel: &str) -> Option<media::Still> {
    let bytes = testfile(rel)?;
    Some(decode_still(&bytes, &full()).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn every_format_decodes_to_the_same_picture() {
    let Some(reference) = decode_file("negative/pillow/hopper.jpg") else {
        return;
    };
    assert_eq!(reference.image.dimensions(), (128, 128));
    assert_eq!(reference.info.format, "jpeg");
    let mut formats = vec![
        ("hopper.png", "png"),
        ("hopper.bmp", "bmp"),
        ("hopper.tif", "tiff"),
        ("hopper.gif", "gif"),
        ("hopper.webp", "webp"),
    ];
    if media::heif_supported() {
        formats.push(("hopper.avif", "avif"));
        formats.push(("hopper.heif", "heif"));
    }
    for (file, format) in formats {
        let s = decode_file(&format!("negative/pillow/{file}")).unwrap();
        assert_eq!(s.info.format, format, "{file}");
        assert_eq!(s.image.dimensions(), (128, 128), "{file}");
        assert_eq!(
            (s.info.width, s.info.height, s.info.orientation),
            (128, 128, 1),
            "{file}"
        );
        // Lossy codecs and a 256-colour GIF differ a little from the JPEG, never a lot.
        let d = mean_abs_diff(&reference.image, &s.image);
        assert!(d < 12.0, "{file}: mean difference {d:.1} from hopper.jpg");
    }
}

#[test]
fn heif_and_avif_are_supported_or_named() {
    for (file, name) in [("hopper.avif", "AVIF"), ("hopper.heif", "HEIF")] {
        let Some(bytes) = testfile(&format!("negative/pillow/{file}")) else {
            return;
        };
        match decode_still(&bytes, &full()) {
            Ok(s) => assert!(media::heif_supported() && s.image.width() == 128, "{file}"),
            Err(e) => {
                assert!(!media::heif_supported(), "{file}: {e}");
                assert!(
                    matches!(e, MediaError::UnsupportedFormat(_)) && e.to_string().contains(name),
                    "{e}"
                );
                assert_eq!(e.http_status(), 400);
            }
        }
    }
}

#[test]
fn every_exif_orientation_is_applied() {
    let Some(reference) = decode_file("negative/pillow/hopper.jpg") else {
        return;
    };
    for o in 2..=8u8 {
        let s = decode_file(&format!("negative/pillow/hopper_orientation_{o}.jpg")).unwrap();
        assert_eq!(s.info.orientation, o);
        let d = mean_abs_diff(&reference.image, &s.image);
        assert!(
            d < 6.0,
            "orientation {o}: mean difference {d:.1} from the upright reference"
        );
        // And it is not upright before orientation: the stored pixels really are transformed.
        let stored = media::apply_orientation(s.image.clone(), inverse(o));
        assert!(
            mean_abs_diff(&reference.image, &stored) > 20.0,
            "orientation {o} made no difference"
        );
    }
    let webp = decode_file("negative/pillow/hopper_orientation_6.webp").unwrap();
    assert_eq!(
        (webp.info.format.as_str(), webp.info.orientation),
        ("webp", 6)
    );
    let d = mean_abs_diff(&reference.image, &webp.image);
    assert!(d < 12.0, "webp orientation 6: mean difference {d:.1}");
}

/// The orientation value that undoes `o`.
fn inverse(o: u8) -> u8 {
    match o {
        6 => 8,
        8 => 6,
        x => x,
    }
}

#[test]
fn orientation_swaps_reported_size_and_reduced_decode_keeps_it() {
    let Some(bytes) = testfile("spoof/sfas_image_T1.jpg") else {
        return;
    };
    let s = decode_still(
        &bytes,
        &StillOptions {
            target_long_side: Some(320),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.info.orientation, 6);
    let full = decode_still(&bytes, &full()).unwrap();
    assert_eq!(
        (s.info.width, s.info.height),
        (full.info.width, full.info.height)
    );
    assert_eq!(full.image.dimensions(), (full.info.width, full.info.height));
    assert_eq!(s.image.width().max(s.image.height()), 320);
    // Upright: the decoded aspect matches the oriented size.
    assert_eq!(
        s.image.width() > s.image.height(),
        s.info.width > s.info.height
    );
}

#[test]
fn grey_cmyk_and_alpha_become_rgb() {
    let Some(grey) = decode_file("negative/pillow/hopper_gray.jpg") else {
        return;
    };
    assert!(
        grey.image.pixels().all(|p| p[0] == p[1] && p[1] == p[2]),
        "grey stays grey in RGB"
    );

    let cmyk = decode_file("negative/pillow/pil_sample_cmyk.jpg").unwrap();
    assert_eq!(cmyk.image.dimensions(), (100, 100));
    let red = cmyk
        .image
        .pixels()
        .filter(|p| p[0] > 180 && p[1] < 90 && p[2] < 90)
        .count();
    assert!(
        red > 50,
        "the CMYK sample says RED in red; found {red} red pixels"
    );

    let rgba = decode_file("negative/fr_32bit_rgba.png").unwrap();
    assert!(rgba.info.had_alpha);
    assert_eq!(rgba.info.format, "png");
}

#[test]
fn sixteen_bit_png_and_tiff() {
    for (name, args) in [
        ("rgb48.png", &["-pix_fmt", "rgb48be"][..]),
        ("gray16.png", &["-pix_fmt", "gray16be"][..]),
        ("rgba64.png", &["-pix_fmt", "rgba64be"][..]),
        ("rgb48.tif", &["-pix_fmt", "rgb48le"][..]),
    ] {
        let Some(bytes) = fixture(name, |p| {
            let mut a = vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=200x150",
                "-frames:v",
                "1",
            ];
            a.extend_from_slice(args);
            a.push(p);
            ffmpeg(&a);
        }) else {
            return;
        };
        let s = decode_still(&bytes, &full()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.image.dimensions(), (200, 150), "{name}");
        let bright = s
            .image
            .pixels()
            .filter(|p| p.0.iter().any(|&c| c > 150))
            .count();
        assert!(bright > 1000, "{name}: the test pattern is not black");
    }
}

#[test]
fn truncated_jpeg_is_corrupt() {
    let Some(bytes) = testfile("negative/pillow/truncated_jpeg.jpg") else {
        return;
    };
    let e = decode_still(&bytes, &full()).unwrap_err();
    assert!(matches!(e, MediaError::Corrupt(_)), "{e:?}");
    assert_eq!(e.http_status(), 400);
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn bad_exif_is_ignored() {
    let Some(s) = decode_file("negative/pillow/hopper_bad_exif.jpg") else {
        return;
    };
    assert_eq!(s.info.orientation, 1);
    assert!(s.image.width() > 0);
    // Its scan data is corrupt too (it decodes to a glitch pattern): repaired, and said.
    assert!(s.info.damaged);
}

/// A photo whose scan data was zeroed in transit (end-of-image marker kept, so it is not
/// "truncated") still decodes, but says it was repaired; the intact photo does not.
#[test]
fn damaged_scan_data_is_decoded_and_said() {
    let Some(dir) = testdata() else { return };
    let mut bytes = std::fs::read(dir.join("faces/fr_biden.jpg")).unwrap();
    assert!(!decode_still(&bytes, &full()).unwrap().info.damaged);
    let n = bytes.len();
    bytes[n * 2 / 5..n - 2].fill(0);
    let s = decode_still(&bytes, &full()).unwrap();
    assert!(s.info.damaged);
}

#[test]
fn format_comes_from_the_bytes_not_the_name() {
    let Some(dir) = testdata() else { return };
    let bytes = std::fs::read(dir.join("negative/pillow/hopper.webp")).unwrap();
    let renamed = fixture_dir().join("photo.jpg");
    std::fs::write(&renamed, &bytes).unwrap();
    let s = decode_still(&std::fs::read(&renamed).unwrap(), &full()).unwrap();
    assert_eq!(s.info.format, "webp");
    // And every image in the test data whose extension lies is still decoded by content.
    for entry in testkit::files_under(&dir.join("negative")) {
        let b = std::fs::read(&entry).unwrap();
        if let media::Kind::Still(f) = media::sniff(&b) {
            let ext = entry
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_lowercase();
            let named = match ext.as_str() {
                "jpg" | "jpeg" => "jpeg",
                "tif" => "tiff",
                other => other,
            };
            if named != f.as_str() {
                eprintln!("{} is {f} named .{ext}", entry.display());
            }
        }
    }
}

#[test]
fn every_real_image_in_negative_decodes_or_fails_cleanly() {
    let Some(dir) = testdata() else { return };
    let mut decoded = 0;
    for p in testkit::files_under(&dir.join("negative")) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&p).unwrap();
        let r = decode_still(&bytes, &StillOptions::default());
        match (name.as_str(), &r) {
            ("truncated_jpeg.jpg", Err(MediaError::Corrupt(_))) => {}
            (n, Err(MediaError::UnsupportedFormat(_))) if n.ends_with(".xml") => {}
            (n, Err(e))
                if (n.ends_with(".avif") || n.ends_with(".heif")) && !media::heif_supported() =>
            {
                assert!(matches!(e, MediaError::UnsupportedFormat(_)));
            }
            (_, Ok(s)) => {
                decoded += 1;
                assert!(s.image.width().max(s.image.height()) <= 1280, "{name}");
                assert!(s.info.scale > 0.0 && s.info.scale <= 1.0, "{name}");
            }
            (_, Err(e)) => panic!("{name}: {e}"),
        }
    }
    assert!(decoded >= 50, "only {decoded} images decoded");
}

/// 4032x3024 test pattern: a 12 MP photo's size.
pub fn jpeg_12mp() -> Option<Vec<u8>> {
    fixture("12mp.jpg", |p| {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=4032x3024",
            "-frames:v",
            "1",
            "-q:v",
            "3",
            "-pix_fmt",
            "yuvj420p",
            p,
        ])
    })
}

#[test]
fn large_jpeg_is_decoded_at_reduced_size() {
    let Some(bytes) = jpeg_12mp() else { return };
    let reduced = decode_still(&bytes, &StillOptions::default()).unwrap();
    assert_eq!(reduced.image.dimensions(), (1280, 960));
    assert_eq!((reduced.info.width, reduced.info.height), (4032, 3024));
    assert_eq!(
        reduced.info.jpeg_dct_eighths,
        Some(3),
        "1/8 steps: 3/8 is the smallest covering 1280 px"
    );
    assert!((reduced.info.scale - 1280.0 / 4032.0).abs() < 1e-4);

    let full = decode_still(&bytes, &full()).unwrap();
    assert_eq!(full.image.dimensions(), (4032, 3024));
    assert_eq!(
        (full.info.jpeg_dct_eighths, full.info.scale),
        (Some(8), 1.0)
    );
    // The DCT-scaled picture is the same picture.
    let d = mean_abs_diff_resized(&reduced.image, &full.image);
    assert!(
        d < 6.0,
        "reduced vs full-then-resized: mean difference {d:.1}"
    );

    // Small images are never upscaled.
    let Some(small) = testfile("negative/pillow/hopper.jpg") else {
        return;
    };
    let s = decode_still(&small, &StillOptions::default()).unwrap();
    assert_eq!((s.image.dimensions(), s.info.scale), ((128, 128), 1.0));
}

#[test]
fn limits_are_checked_before_decoding() {
    let Some(jpeg) = testfile("negative/pillow/hopper.jpg") else {
        return;
    };
    let tight = |l: StillLimits| StillOptions {
        limits: l,
        target_long_side: None,
        jpeg_min_long_side: None,
    };
    let d = StillLimits::default();

    let e = decode_still(
        &jpeg,
        &tight(StillLimits {
            max_bytes: 100,
            ..d
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, MediaError::TooLarge { .. }) && e.is_too_large() && e.http_status() == 413,
        "{e}"
    );

    let e = decode_still(
        &jpeg,
        &tight(StillLimits {
            max_pixels: 128 * 127,
            ..d
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            MediaError::TooManyPixels {
                width: 128,
                height: 128,
                ..
            }
        ) && e.http_status() == 413,
        "{e}"
    );

    let e = decode_still(
        &jpeg,
        &tight(StillLimits {
            max_dimension: 100,
            ..d
        }),
    )
    .unwrap_err();
    assert!(matches!(e, MediaError::TooManyPixels { .. }), "{e}");

    let e = decode_still(&[], &StillOptions::default()).unwrap_err();
    assert!(
        matches!(e, MediaError::Empty { .. }) && e.http_status() == 400,
        "{e}"
    );
}

/// A PNG whose header says 60000x60000 (3.6 gigapixels) over a few hundred bytes.
fn png_bomb() -> Vec<u8> {
    let mut img = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut img), image::ImageFormat::Png)
        .unwrap();
    // IHDR data starts at 16: width, height (big-endian); then fix the chunk CRC.
    img[16..20].copy_from_slice(&60000u32.to_be_bytes());
    img[20..24].copy_from_slice(&60000u32.to_be_bytes());
    let crc = crc32(&img[12..29]);
    img[29..33].copy_from_slice(&crc.to_be_bytes());
    img
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// hopper.jpg with its SOF header patched to 65000x65000.
fn jpeg_bomb(jpeg: &[u8]) -> Vec<u8> {
    let mut v = jpeg.to_vec();
    let sof = v
        .windows(2)
        .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0 | 0xC2))
        .expect("SOF marker");
    v[sof + 5..sof + 7].copy_from_slice(&65000u16.to_be_bytes());
    v[sof + 7..sof + 9].copy_from_slice(&65000u16.to_be_bytes());
    v
}

/// A GIF whose logical screen and first frame claim 65535x65535.
fn gif_bomb() -> Vec<u8> {
    let mut v = b"GIF89a".to_vec();
    v.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00]);
    v.extend_from_slice(&[
        0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]);
    v
}

#[test]
fn decompression_bombs_are_refused_cheaply() {
    let Some(jpeg) = testfile("negative/pillow/hopper.jpg") else {
        return;
    };
    for (name, bomb) in [
        ("png", png_bomb()),
        ("jpeg", jpeg_bomb(&jpeg)),
        ("gif", gif_bomb()),
    ] {
        let t = std::time::Instant::now();
        let e = decode_still(&bomb, &StillOptions::default()).unwrap_err();
        assert!(
            matches!(e, MediaError::TooManyPixels { .. }),
            "{name}: {e:?}"
        );
        assert!(
            // Refused from the header: far below what allocating the pixels would take.
            t.elapsed().as_millis() < 1000,
            "{name} took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn not_an_image() {
    let opts = StillOptions::default();
    for bytes in [
        &b"hello, world, this is not an image at all"[..],
        b"%PDF-1.7\n...",
        &[0u8; 64],
    ] {
        let e = decode_still(bytes, &opts).unwrap_err();
        assert!(
            matches!(e, MediaError::UnsupportedFormat(_)) && e.http_status() == 400,
            "{e}"
        );
    }
    if let Some(mp4) = h264_baseline() {
        let e = decode_still(&mp4, &opts).unwrap_err();
        assert!(e.to_string().contains("video"), "{e}");
    }
    // A PNG signature followed by garbage is corrupt, not a panic.
    let e = decode_still(b"\x89PNG\r\n\x1a\ngarbage garbage garbage", &opts).unwrap_err();
    assert!(matches!(e, MediaError::Corrupt(_)), "{e}");
    // A chunk with a wrong checksum: the client reads which format broke, not the decoder's
    // debug dump of the chunk (`ChunkType { type: IHDR, critical: true, … }`).
    let mut bad_crc = png_bomb();
    bad_crc[32] ^= 0xff;
    let e = decode_still(&bad_crc, &opts).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the file is corrupt or truncated: the PNG data cannot be decoded"
    );
}

#[test]
fn mutated_images_never_panic() {
    let Some(jpeg) = testfile("negative/pillow/hopper.jpg") else {
        return;
    };
    let png = testfile("negative/pillow/hopper.png").unwrap();
    let webp = testfile("negative/pillow/hopper.webp").unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut outcomes = std::collections::BTreeMap::<&str, u32>::new();
    for i in 0..200 {
        let src = match i % 4 {
            0 | 1 => &jpeg,
            2 => &png,
            _ => &webp,
        };
        let m = mutate(&mut rng, src);
        let r = std::panic::catch_unwind(|| decode_still(&m, &StillOptions::default()));
        let r = r.unwrap_or_else(|_| panic!("mutation {i} panicked"));
        *outcomes
            .entry(r.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()))
            .or_default() += 1;
    }
    eprintln!("image mutations: {outcomes:?}");
    // Both paths were exercised (a mutator that breaks everything, or nothing, tests little),
    // and every refusal is the client's fault in words a client can act on: no mutation may
    // surface as an internal error (a 500).
    let ok = outcomes.get("ok").copied().unwrap_or(0);
    assert!(ok > 0 && ok < 200, "{outcomes:?}");
    assert!(!outcomes.contains_key("internal"), "{outcomes:?}");
}
