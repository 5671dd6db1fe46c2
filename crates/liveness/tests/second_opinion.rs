//! The face mesh's second opinion on two faces of comparable size, on real photos: a pattern
//! the detector takes for a second face does not make a genuine portrait `multiple_faces`,
//! while two real people still do.

mod common;

use common::models;
use liveness::findings::Finding;
use liveness::{MediaField, policy, still};

fn comparable_detections(models: &liveness::Models, image: &image::RgbImage) -> usize {
    let mut faces = models.detector.detect(image).unwrap();
    faces.retain(|f| f.score >= policy::MIN_DETECTION_SCORE);
    let area = |f: &vision::Face| f.bbox.w * f.bbox.h;
    let largest = faces.iter().map(area).fold(0.0, f32::max);
    faces
        .iter()
        .filter(|f| area(f) >= policy::SECOND_FACE_AREA_RATIO * largest)
        .count()
}

#[test]
fn a_false_second_face_is_dropped_and_two_people_still_count() {
    let (Some(data), Some(models)) = (testkit::testdata(), models()) else {
        return;
    };
    let want = still::Want {
        pad: true,
        embedding: false,
    };
    let analyse = |file: &str| {
        let bytes = std::fs::read(data.join(file)).unwrap();
        let decoded = still::decode(&bytes, MediaField::Image).unwrap();
        let detections = comparable_detections(&models, &decoded.image);
        (detections, still::analyse(&models, decoded, want).unwrap())
    };

    // Obama before the White House emblem, which the detector scores 0.71 as a face lying on
    // its side: two comparable boxes, one portrait.
    let (detections, portrait) = analyse("faces/fr_obama_knn_test1.jpg");
    assert_eq!(
        detections, 2,
        "the detector still sees the emblem as a face"
    );
    assert_eq!(portrait.unusable, None, "{:?}", portrait.findings);
    assert_eq!(portrait.face_count, 1);
    assert!(portrait.pad.is_some());
    let face = portrait.face.as_ref().unwrap();
    assert!(
        face.bbox.x < 740.0,
        "the portrait's face, not the emblem: {face:?}"
    );

    for file in [
        "negative/fr_two_people_multiface.jpg",
        "negative/fr_obama_and_biden_multiface.jpg",
        "negative/fr_kit_with_rose_multiface.jpg",
    ] {
        let (_, two) = analyse(file);
        assert_eq!(two.unusable, Some(Finding::MultipleFaces), "{file}");
        assert!(two.pad.is_none(), "{file}");
    }
}
