//! Which detected face the analysis is about.
//!
//! Rule (documented in the README): the dominant face is the largest box above the detection
//! score floor. No such face → `no_face`. A second face of at least
//! [`policy::SECOND_FACE_AREA_RATIO`] of its area → `multiple_faces` (the verdict is `fake`:
//! a liveness check is about one person in front of the camera). A dominant face narrower than
//! [`policy::MIN_FACE_PX`] → `face_too_small`. In each of these cases there is no usable face.

use crate::findings::Finding;
use crate::policy;
use vision::Face;

pub struct Picked {
    /// The dominant face, when there is one, even if unusable (evidence shows it).
    pub face: Option<Face>,
    /// Why it cannot be used; `None` when it can.
    pub unusable: Option<Finding>,
    pub face_count: usize,
}

pub fn pick(faces: Vec<Face>) -> Picked {
    pick_with(faces, policy::MIN_FACE_PX)
}

/// [`pick`] with the smallest usable face width given in pixels of the analysed image (a still
/// analysed below [`policy::STILL_LONG_SIDE`] scales [`policy::MIN_FACE_PX`] with it).
pub fn pick_with(mut faces: Vec<Face>, min_face_px: f32) -> Picked {
    faces.retain(|f| f.score >= policy::MIN_DETECTION_SCORE);
    faces.sort_by(|a, b| area(b).total_cmp(&area(a)));
    let face_count = faces.len();
    let Some(first) = faces.first().cloned() else {
        return Picked {
            face: None,
            unusable: Some(Finding::NoFace),
            face_count,
        };
    };
    let unusable = if faces
        .get(1)
        .is_some_and(|f| area(f) >= policy::SECOND_FACE_AREA_RATIO * area(&first))
    {
        Some(Finding::MultipleFaces)
    } else if first.bbox.w < min_face_px {
        Some(Finding::FaceTooSmall)
    } else {
        None
    };
    Picked {
        face: Some(first),
        unusable,
        face_count,
    }
}

fn area(f: &Face) -> f32 {
    f.bbox.w.max(0.0) * f.bbox.h.max(0.0)
}

/// A face re-found by tracking: one face by construction, usable unless it shrank too far.
pub fn tracked(face: Face) -> Picked {
    let unusable = (face.bbox.w < policy::MIN_FACE_PX).then_some(Finding::FaceTooSmall);
    Picked {
        face: Some(face),
        unusable,
        face_count: 1,
    }
}
