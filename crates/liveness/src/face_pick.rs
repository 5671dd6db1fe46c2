//! Which detected face the analysis is about.
//!
//! Rule (documented in the README): the dominant face is the largest box above the detection
//! score floor. No such face → `no_face`. A second face of at least
//! [`policy::SECOND_FACE_AREA_RATIO`] of its area → `multiple_faces` (the verdict is `fake`:
//! a liveness check is about one person in front of the camera). A dominant face narrower than
//! [`policy::MIN_FACE_PX`] → `face_too_small`. In each of these cases there is no usable face.
//!
//! Two faces of comparable size are first shown to a second opinion (the face mesh's face
//! flag, see [`policy::SECOND_OPINION_MIN_PRESENCE`]): the detector scores whole scenes and
//! now and then takes a pattern for a face (the White House emblem behind a press portrait),
//! which would otherwise turn a genuine selfie into `multiple_faces`. A single face is never
//! second-guessed, so the common case costs nothing extra.

use crate::findings::Finding;
use crate::models::Models;
use crate::policy;
use image::RgbImage;
use vision::Face;

/// The face mesh's opinion of a box found in `image`: a face when its face flag reaches
/// [`policy::SECOND_OPINION_MIN_PRESENCE`]. Without the mesh, or when it fails, every box is
/// taken at the detector's word (the rule as it was before the second opinion).
pub fn mesh_opinion<'a>(models: &'a Models, image: &'a RgbImage) -> impl FnMut(&Face) -> bool + 'a {
    move |face| match &models.mesh {
        Some(mesh) => match mesh.presence(image, face) {
            Ok(p) => p >= policy::SECOND_OPINION_MIN_PRESENCE,
            Err(e) => {
                tracing::warn!("face mesh could not judge a detection: {e}");
                true
            }
        },
        None => true,
    }
}

pub struct Picked {
    /// The dominant face, when there is one, even if unusable (evidence shows it).
    pub face: Option<Face>,
    /// Why it cannot be used; `None` when it can.
    pub unusable: Option<Finding>,
    pub face_count: usize,
}

pub fn pick(faces: Vec<Face>, confirm: &mut dyn FnMut(&Face) -> bool) -> Picked {
    pick_with(faces, policy::MIN_FACE_PX, confirm)
}

/// [`pick`] with the smallest usable face width given in pixels of the analysed image (a still
/// analysed below [`policy::STILL_LONG_SIDE`] scales [`policy::MIN_FACE_PX`] with it).
///
/// `confirm` is the second opinion on a face (true: it is one); it is asked only about the two
/// largest faces while they are of comparable size, and a face it rejects is dropped. When it
/// rejects both, both stay: it gives no grounds to prefer either.
pub fn pick_with(
    mut faces: Vec<Face>,
    min_face_px: f32,
    confirm: &mut dyn FnMut(&Face) -> bool,
) -> Picked {
    faces.retain(|f| f.score >= policy::MIN_DETECTION_SCORE);
    faces.sort_by(|a, b| area(b).total_cmp(&area(a)));
    // Verdicts of the second opinion, by position in `faces` (kept in step with removals).
    let mut verdicts: Vec<Option<bool>> = vec![None; faces.len()];
    let mut ask = |faces: &[Face], verdicts: &mut [Option<bool>], i: usize| {
        *verdicts[i].get_or_insert_with(|| confirm(&faces[i]))
    };
    while comparable_pair(&faces) {
        let first = ask(&faces, &mut verdicts, 0);
        let second = ask(&faces, &mut verdicts, 1);
        let drop = match (first, second) {
            (false, true) => 0,
            (true, false) => 1,
            // Two faces (or two doubtful boxes): another person in the frame.
            _ => break,
        };
        faces.remove(drop);
        verdicts.remove(drop);
    }
    let face_count = faces.len();
    let Some(first) = faces.first().cloned() else {
        return Picked {
            face: None,
            unusable: Some(Finding::NoFace),
            face_count,
        };
    };
    let unusable = if comparable_pair(&faces) {
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

/// The second face (largest first) is big enough beside the first to be another person.
fn comparable_pair(faces: &[Face]) -> bool {
    match faces {
        [first, second, ..] => area(second) >= policy::SECOND_FACE_AREA_RATIO * area(first),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use vision::BBox;

    fn face(x: f32, side: f32) -> Face {
        Face {
            bbox: BBox {
                x,
                y: 0.0,
                w: side,
                h: side,
            },
            keypoints: Default::default(),
            score: 0.9,
        }
    }

    /// A second opinion that calls the boxes at these x positions faces and records what it
    /// was asked.
    fn opinion<'a>(faces_at: &'a [f32], asked: &'a mut Vec<f32>) -> impl FnMut(&Face) -> bool + 'a {
        move |f| {
            asked.push(f.bbox.x);
            faces_at.contains(&f.bbox.x)
        }
    }

    #[test]
    fn a_single_face_or_a_small_second_one_is_not_second_guessed() {
        let mut asked = vec![];
        let one = pick(vec![face(0.0, 100.0)], &mut opinion(&[], &mut asked));
        assert_eq!(one.unusable, None);
        let small = pick(
            vec![face(0.0, 100.0), face(200.0, 50.0)],
            &mut opinion(&[], &mut asked),
        );
        assert_eq!((small.unusable, small.face_count), (None, 2));
        assert!(asked.is_empty(), "{asked:?}");
    }

    #[test]
    fn a_comparable_box_that_is_no_face_is_dropped() {
        let mut asked = vec![];
        let p = pick(
            vec![face(0.0, 100.0), face(200.0, 90.0)],
            &mut opinion(&[0.0], &mut asked),
        );
        assert_eq!((p.unusable, p.face_count), (None, 1));
        assert_eq!(p.face.unwrap().bbox.x, 0.0);

        // The false box is the larger one: the real face becomes the dominant face.
        let p = pick(
            vec![face(0.0, 100.0), face(200.0, 90.0)],
            &mut opinion(&[200.0], &mut vec![]),
        );
        assert_eq!(p.unusable, None);
        assert_eq!(p.face.unwrap().bbox.x, 200.0);
    }

    #[test]
    fn two_faces_or_two_doubtful_boxes_are_multiple_faces() {
        let both = pick(
            vec![face(0.0, 100.0), face(200.0, 90.0)],
            &mut opinion(&[0.0, 200.0], &mut vec![]),
        );
        assert_eq!(both.unusable, Some(Finding::MultipleFaces));
        let neither = pick(
            vec![face(0.0, 100.0), face(200.0, 90.0)],
            &mut opinion(&[], &mut vec![]),
        );
        assert_eq!(neither.unusable, Some(Finding::MultipleFaces));
    }

    #[test]
    fn dropping_a_false_dominant_box_lets_smaller_people_count() {
        // A false 100-px box, a real face of 70 px (49 % of its area) and another of 50 px
        // (20 % of the false box's area, 51 % of the real face's): two people.
        let mut asked = vec![];
        let p = pick(
            vec![face(0.0, 100.0), face(200.0, 70.0), face(400.0, 50.0)],
            &mut opinion(&[200.0, 400.0], &mut asked),
        );
        assert_eq!(p.unusable, Some(Finding::MultipleFaces));
        assert_eq!(p.face.unwrap().bbox.x, 200.0);
        assert_eq!(asked, vec![0.0, 200.0, 400.0], "each box asked once");
    }
}
