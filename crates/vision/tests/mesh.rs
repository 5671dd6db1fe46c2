//! The 468-point face mesh on real photos, placed by the real detector.

mod common;

use vision::blazeface::BlazeFace;
use vision::mesh::{FaceMesh, LANDMARKS, idx};
use vision::{FaceDetector, Point, face::kp};

fn dist(a: Point, b: Point) -> f32 {
    (a.x - b.x).hypot(a.y - b.y)
}

#[test]
fn mesh_agrees_with_the_detector_on_portraits() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let rt = common::runtime();
    let store = common::store();
    let detector = BlazeFace::load(&rt, store).unwrap();
    let mesh = FaceMesh::load(&rt, store).unwrap();
    let photos = [
        "fr_obama.jpg",
        "fr_biden.jpg",
        "fr_rose_leslie_img1.jpg",
        "fr_kit_harington_john1.jpeg",
        "skimage_astronaut.png",
        "lestari15_dataset_real_0.png",
    ];
    for name in photos {
        let image = common::load_rgb(&testdata.join("faces").join(name));
        let face = detector
            .detect(&image)
            .unwrap()
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{name}: no face"));
        let m = mesh.landmarks(&image, &face).unwrap();
        assert_eq!(m.points.len(), LANDMARKS);
        // A second pass on the crop the mesh itself places lands on the same face.
        let refined = mesh.landmarks_from(&image, &m).unwrap();
        assert!(refined.presence > 0.9, "{name}: refined presence");
        for left in [true, false] {
            let moved = dist(refined.eye_centre(left), m.eye_centre(left));
            assert!(
                moved < 0.1 * m.inter_ocular(),
                "{name}: refining moved an eye by {moved}"
            );
        }
        assert!(m.presence > 0.9, "{name}: presence {}", m.presence);
        let iod = dist(face.keypoints[kp::LEFT_EYE], face.keypoints[kp::RIGHT_EYE]);
        // The detector's eye keypoint is roughly the eye's centre; the mesh's corner midpoint
        // must land near it, on the same side of the face (a swapped side is off by a full IOD).
        for (left, keypoint) in [
            (true, face.keypoints[kp::LEFT_EYE]),
            (false, face.keypoints[kp::RIGHT_EYE]),
        ] {
            let centre = m.eye_centre(left);
            assert!(
                dist(centre, keypoint) < 0.25 * iod,
                "{name}: mesh eye centre {centre:?} vs keypoint {keypoint:?} (IOD {iod})"
            );
        }
        assert!(
            (m.inter_ocular() / iod - 1.0).abs() < 0.2,
            "{name}: mesh IOD {} vs detector {iod}",
            m.inter_ocular()
        );
        // Along the face's vertical axis (eyes → mouth), the nose tip lies between the eye line
        // and the lips, and the chin below the lips.
        let eyes_mid = Point {
            x: (m.eye_centre(true).x + m.eye_centre(false).x) / 2.0,
            y: (m.eye_centre(true).y + m.eye_centre(false).y) / 2.0,
        };
        let lips = m.points[idx::UPPER_LIP];
        let (ax, ay) = (lips.x - eyes_mid.x, lips.y - eyes_mid.y);
        let len2 = ax * ax + ay * ay;
        let along = |p: Point| ((p.x - eyes_mid.x) * ax + (p.y - eyes_mid.y) * ay) / len2;
        let nose = along(m.points[idx::NOSE_TIP]);
        assert!(
            nose > 0.3 && nose < 0.9,
            "{name}: nose at {nose} of eyes→lips"
        );
        assert!(
            along(m.points[idx::CHIN]) > 1.2,
            "{name}: chin above the lips"
        );
        assert!(
            dist(m.points[idx::NOSE_TIP], face.keypoints[kp::NOSE]) < 0.3 * iod,
            "{name}: nose tip far from the detector's nose keypoint"
        );
    }
}
