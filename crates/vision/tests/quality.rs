//! Quality measurements on real faces respond to the capture problems they are meant to catch.

mod common;

use vision::FaceDetector;
use vision::blazeface::BlazeFace;
use vision::quality::{assess, assess_frame, primary_face};

#[test]
fn blur_darkness_and_face_count_are_measured_on_real_photos() {
    let Some(data) = common::testdata() else {
        return;
    };
    let detector = BlazeFace::load(&common::runtime(), common::store()).unwrap();

    let image = common::load_rgb(&data.join("faces/fr_obama.jpg"));
    let faces = detector.detect(&image).unwrap();
    let face = primary_face(&faces).unwrap().clone();
    let sharp = assess(&image, &face);
    eprintln!("obama: {sharp:?}");
    assert!(
        sharp.yaw_deg.abs() < 20.0 && sharp.roll_deg.abs() < 10.0,
        "{sharp:?}"
    );
    assert!(sharp.face_px > 150.0 && sharp.visible_fraction > 0.99);
    assert!(sharp.brightness > 60.0 && sharp.brightness < 200.0);

    // The same frame blurred: same face box, much lower sharpness.
    let blurred = assess(&image::imageops::blur(&image, 3.0), &face);
    eprintln!("blurred: {blurred:?}");
    assert!(blurred.sharpness < sharp.sharpness / 4.0);

    // The same frame under-exposed: darker, with crushed blacks.
    let mut dark = image.clone();
    dark.pixels_mut().for_each(|p| p.0 = p.0.map(|v| v / 16));
    let dim = assess(&dark, &face);
    eprintln!("dark: {dim:?}");
    assert!(dim.brightness < sharp.brightness / 4.0);
    assert!(dim.dark_fraction > sharp.dark_fraction + 0.2);

    let group = common::load_rgb(&data.join("negative/fr_obama_and_biden_multiface.jpg"));
    let frame = assess_frame(&group, &detector.detect(&group).unwrap());
    assert_eq!(frame.face_count, 3);
    assert!(frame.primary.is_some());
}

#[test]
fn a_turned_head_reads_as_yaw() {
    let Some(data) = common::testdata() else {
        return;
    };
    let detector = BlazeFace::load(&common::runtime(), common::store()).unwrap();
    // Mirroring the photo flips the sign of yaw and roll (and keeps their size).
    let image = common::load_rgb(&data.join("faces/fr_kit_harington_john2.jpeg"));
    let mirrored = image::imageops::flip_horizontal(&image);
    let a = assess(&image, &detector.detect(&image).unwrap()[0]);
    let b = assess(&mirrored, &detector.detect(&mirrored).unwrap()[0]);
    eprintln!("{a:?}\n{b:?}");
    assert!(
        (a.yaw_deg + b.yaw_deg).abs() < 5.0 + 0.2 * a.yaw_deg.abs(),
        "{} vs {}",
        a.yaw_deg,
        b.yaw_deg
    );
    assert!(
        a.yaw_deg.abs() > 20.0 && b.yaw_deg.abs() > 20.0,
        "the head is clearly turned: {} / {}",
        a.yaw_deg,
        b.yaw_deg
    );
    assert!(a.yaw_deg.signum() != b.yaw_deg.signum());
    assert!(
        (a.roll_deg + b.roll_deg).abs() < 6.0,
        "{} vs {}",
        a.roll_deg,
        b.roll_deg
    );
}
