//! Finding the face of a still that may lie on its side.
//!
//! Rule: the face is looked for in the picture as decoded (EXIF orientation already applied).
//! - A face is found: its keypoints say which way is up (the line from between the eyes to the
//!   mouth, [`roll`]). When that line is nearer a quarter, half or three-quarter turn than
//!   straight down, the picture is turned by that quarter and the face picked again; it is kept
//!   when the face found there is upright.
//! - No face is found ([`crate::findings::Finding::NoFace`]): the picture is turned 90°, 180° and 270° clockwise
//!   and the face picked again at each turn. A face found so counts only when the face mesh
//!   confirms it ([`policy::TURNED_FACE_MIN_PRESENCE`]) and it is upright there; of those, the
//!   turn whose face the detector is most confident of is kept.
//!
//! Everything after (PAD crops, quality, embedding) reads the turned picture; the evidence
//! reports the turn and the face box in the picture the client sent. Without the face mesh no
//! still is turned, and a still whose face is upright costs nothing extra.
//!
//! Why: some phones and web views save a portrait capture on its side without an orientation
//! tag. The detector still finds many such faces, and the PAD model then judged a sideways
//! crop: 36 live stills of `AksultanMukhanbet` in `../shared/testdata` lie on their side (the
//! eyes-to-mouth line 48–96° from straight down, no attack among them), and 17 of them were
//! refused. Three more were refused as `no_face`. On those three, the detector found
//! upside-down faces too, less surely (0.72–0.75 against 0.85 for the right turn).

use crate::face_pick::{self, Picked};
use crate::models::Models;
use crate::policy;
use image::RgbImage;
use image::imageops;
use vision::face::kp;
use vision::{BBox, Face, Point, VisionError};

/// A clockwise quarter turn applied to the picture before the face was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Quarter,
    Half,
    ThreeQuarters,
}

impl Turn {
    pub const ALL: [Turn; 3] = [Turn::Quarter, Turn::Half, Turn::ThreeQuarters];

    pub fn degrees(self) -> u16 {
        match self {
            Turn::Quarter => 90,
            Turn::Half => 180,
            Turn::ThreeQuarters => 270,
        }
    }

    pub fn apply(self, image: &RgbImage) -> RgbImage {
        match self {
            Turn::Quarter => imageops::rotate90(image),
            Turn::Half => imageops::rotate180(image),
            Turn::ThreeQuarters => imageops::rotate270(image),
        }
    }

    /// `face`, found in the turned picture, in the coordinates of the picture before the turn
    /// (`width` × `height`): what the evidence reports, so a face box drawn on the client's
    /// own picture lands on the face.
    pub fn undo(self, face: &Face, width: u32, height: u32) -> Face {
        let (w, h) = (width as f32, height as f32);
        let point = |p: Point| match self {
            // turned (x', y') = (h - y, x)
            Turn::Quarter => Point { x: p.y, y: h - p.x },
            Turn::Half => Point {
                x: w - p.x,
                y: h - p.y,
            },
            // turned (x', y') = (y, w - x)
            Turn::ThreeQuarters => Point { x: w - p.y, y: p.x },
        };
        let b = face.bbox;
        let (a, c) = (
            point(Point { x: b.x, y: b.y }),
            point(Point {
                x: b.x + b.w,
                y: b.y + b.h,
            }),
        );
        Face {
            bbox: BBox {
                x: a.x.min(c.x),
                y: a.y.min(c.y),
                w: (a.x - c.x).abs(),
                h: (a.y - c.y).abs(),
            },
            score: face.score,
            keypoints: face.keypoints.map(point),
        }
    }
}

/// The picture the face was found in, the pick, and the turn that made it upright.
pub struct Found {
    pub image: RgbImage,
    pub picked: Picked,
    pub turn: Option<Turn>,
}

/// The module's rule: the dominant face of `image`, turned upright when it lies on its side.
/// `min_face_px` is [`face_pick::pick_with`]'s floor.
pub fn find_face(models: &Models, image: RgbImage, min_face_px: f32) -> Result<Found, VisionError> {
    let picked = pick(models, &image, min_face_px)?;
    let as_is = |image, picked| Found {
        image,
        picked,
        turn: None,
    };
    // Without the mesh there is no second opinion, and a turned picture only adds chances of a
    // false face.
    let Some(mesh) = &models.mesh else {
        return Ok(as_is(image, picked));
    };
    if let Some(face) = &picked.face {
        let Some(turn) = upright_turn(face) else {
            return Ok(as_is(image, picked));
        };
        let turned = turn.apply(&image);
        let again = pick(models, &turned, min_face_px)?;
        return Ok(match &again.face {
            Some(f) if upright_turn(f).is_none() => Found {
                image: turned,
                picked: again,
                turn: Some(turn),
            },
            _ => as_is(image, picked),
        });
    }
    let mut best: Option<Found> = None;
    for turn in Turn::ALL {
        let turned = turn.apply(&image);
        let p = pick(models, &turned, min_face_px)?;
        let Some(face) = &p.face else { continue };
        if upright_turn(face).is_some()
            || mesh.presence(&turned, face)? < policy::TURNED_FACE_MIN_PRESENCE
        {
            continue;
        }
        let score = face.score;
        if best
            .as_ref()
            .and_then(|b| b.picked.face.as_ref())
            .is_none_or(|f| score > f.score)
        {
            best = Some(Found {
                image: turned,
                picked: p,
                turn: Some(turn),
            });
        }
    }
    Ok(best.unwrap_or(as_is(image, picked)))
}

/// The face's in-plane rotation in degrees, from its keypoints: the angle of the line from
/// between the eyes to the mouth against straight down, positive when the face has fallen
/// towards the picture's right (its mouth to the left), in (-180, 180].
pub fn roll(face: &Face) -> f32 {
    let k = &face.keypoints;
    let (eyes_x, eyes_y) = (
        (k[kp::RIGHT_EYE].x + k[kp::LEFT_EYE].x) / 2.0,
        (k[kp::RIGHT_EYE].y + k[kp::LEFT_EYE].y) / 2.0,
    );
    let (dx, dy) = (k[kp::MOUTH].x - eyes_x, k[kp::MOUTH].y - eyes_y);
    (-dx).atan2(dy).to_degrees()
}

/// The clockwise turn that brings `face` nearest to upright, when that is not no turn at all.
fn upright_turn(face: &Face) -> Option<Turn> {
    // a face rolled by r degrees is set upright by turning the picture -r: the nearest quarter
    match ((-roll(face) / 90.0).round() as i32).rem_euclid(4) {
        1 => Some(Turn::Quarter),
        2 => Some(Turn::Half),
        3 => Some(Turn::ThreeQuarters),
        _ => None,
    }
}

fn pick(models: &Models, image: &RgbImage, min_face_px: f32) -> Result<Picked, VisionError> {
    Ok(face_pick::pick_with(
        models.detector.detect(image)?,
        min_face_px,
        &mut face_pick::mesh_opinion(models, image),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A picture whose every pixel is unique, so a pixel's value says where it came from.
    fn numbered(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| Rgb([x as u8, y as u8, 7]))
    }

    fn point_face(x: f32, y: f32) -> Face {
        Face {
            bbox: BBox {
                x,
                y,
                w: 1.0,
                h: 1.0,
            },
            score: 0.9,
            keypoints: [Point { x, y }; 6],
        }
    }

    #[test]
    fn undo_takes_a_pixel_of_the_turned_picture_back_to_where_it_came_from() {
        let (w, h) = (7u32, 4u32);
        let image = numbered(w, h);
        for turn in Turn::ALL {
            let turned = turn.apply(&image);
            for (tx, ty, px) in turned.enumerate_pixels() {
                // the pixel's square [tx, tx + 1) × [ty, ty + 1) maps to the source pixel's
                let back = turn.undo(&point_face(tx as f32, ty as f32), w, h);
                let (sx, sy) = (back.bbox.x as u32, back.bbox.y as u32);
                assert_eq!((back.bbox.w, back.bbox.h), (1.0, 1.0));
                assert_eq!(image.get_pixel(sx, sy), px, "{turn:?} at ({tx}, {ty})");
            }
        }
    }

    /// A face with its eyes at (40, 40) and (60, 40) and its mouth at `mouth`.
    fn with_mouth(mouth: Point) -> Face {
        let mut k = [Point { x: 50.0, y: 50.0 }; 6];
        k[kp::RIGHT_EYE] = Point { x: 40.0, y: 40.0 };
        k[kp::LEFT_EYE] = Point { x: 60.0, y: 40.0 };
        k[kp::MOUTH] = mouth;
        Face {
            bbox: BBox {
                x: 0.0,
                y: 0.0,
                w: 100.0,
                h: 100.0,
            },
            score: 0.9,
            keypoints: k,
        }
    }

    #[test]
    fn the_turn_that_sets_a_face_upright_follows_where_its_mouth_is() {
        let p = |x, y| Point { x, y };
        // mouth below the eyes, also leaning 40°: upright enough
        assert_eq!(upright_turn(&with_mouth(p(50.0, 70.0))), None);
        assert_eq!(upright_turn(&with_mouth(p(35.0, 58.0))), None);
        // mouth to the left: the head lies towards the right, turn back three quarters
        let left = with_mouth(p(20.0, 40.0));
        assert!((roll(&left) - 90.0).abs() < 1e-3);
        assert_eq!(upright_turn(&left), Some(Turn::ThreeQuarters));
        assert_eq!(
            upright_turn(&with_mouth(p(80.0, 45.0))),
            Some(Turn::Quarter)
        );
        assert_eq!(upright_turn(&with_mouth(p(52.0, 10.0))), Some(Turn::Half));
    }

    #[test]
    fn undo_keeps_a_box_the_same_size_with_sides_swapped_on_a_quarter_turn() {
        let face = Face {
            bbox: BBox {
                x: 10.0,
                y: 20.0,
                w: 30.0,
                h: 50.0,
            },
            score: 0.8,
            keypoints: [Point { x: 15.0, y: 25.0 }; 6],
        };
        // original 200 × 100: turned a quarter it is 100 × 200
        let q = Turn::Quarter.undo(&face, 200, 100);
        assert_eq!(
            q.bbox,
            BBox {
                x: 20.0,
                y: 60.0,
                w: 50.0,
                h: 30.0
            }
        );
        assert_eq!(q.keypoints[0], Point { x: 25.0, y: 85.0 });
        let half = Turn::Half.undo(&face, 100, 200);
        assert_eq!(
            half.bbox,
            BBox {
                x: 60.0,
                y: 130.0,
                w: 30.0,
                h: 50.0
            }
        );
        assert_eq!(q.score, 0.8);
    }
}
