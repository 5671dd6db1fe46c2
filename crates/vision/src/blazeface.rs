//! MediaPipe BlazeFace face detection: short range (128×128) for close-ups and, when available,
//! full range (192×192) over the whole frame plus overlapping tiles for small faces in big
//! images.
//!
//! Both networks regress, per SSD anchor, a box (cx, cy, w, h) and six keypoints relative to the
//! anchor centre in input-pixel units, plus a face logit. One pass over a letterboxed frame
//! only sees faces that cover a fair share of it (the full-range model needs roughly 1/12 of its
//! input side), so a 40-px face in a 2000-px photo needs tiles: each tile level halves the side
//! and overlaps its neighbours by a quarter, so every face small enough to need that level lies
//! wholly inside some tile. Detections from every pass are merged with MediaPipe's weighted
//! non-maximum suppression.

use image::RgbImage;

use crate::face::{BBox, Face, FaceDetector, Point, VisionError};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};
use crate::sampling::{Region, sample};

/// Detection knobs. Defaults follow MediaPipe (score 0.5, IoU 0.3); the tiling bounds keep the
/// worst case (a huge photo) to a fixed number of network runs.
#[derive(Debug, Clone, Copy)]
pub struct DetectorConfig {
    /// Minimum sigmoid score of a full-range detection.
    pub min_score: f32,
    /// Minimum score of a short-range detection. Higher: on whole frames the short-range
    /// network scores animal faces and textures up to ~0.6 (parrot, dogs in `testdata/negative`)
    /// while the faces it exists for, close-ups, score above 0.9.
    pub short_min_score: f32,
    /// Overlap above which two detections are the same face.
    pub nms_iou: f32,
    /// Smallest face side, in source pixels, that tiling tries to reach.
    pub min_face_px: f32,
    /// Upper bound on tile runs per image (the whole-frame passes are not counted).
    pub max_tiles: usize,
    /// Upper bound on returned faces.
    pub max_faces: usize,
    /// Skip the tiles when the whole-frame passes found a face whose box side is at least this
    /// fraction of the image's long side (0 = always tile). Tiles exist for small faces; beside
    /// a close-up, any face the whole-frame full-range pass misses (< 1/12 of the side) is a
    /// bystander far too small to matter to a selfie check, and tiling a 12 MP selfie costs
    /// more than the rest of the detection.
    pub skip_tiles_beside_face: f32,
    /// The short-range pass over the whole frame is enough (no zoomed-out pass, no full-range
    /// pass, no tiles) when it finds a face whose box side is at least this fraction of the
    /// image's long side and at most [`DetectorConfig::short_range_max_face`] of its short side,
    /// lying wholly inside the frame (0 = always run every pass). The later passes exist for
    /// small faces and for faces cut by the frame edge; beside a well-framed face of this size,
    /// any face they alone could add is too small to be a second person that counts.
    pub short_range_suffices: f32,
    /// See [`DetectorConfig::short_range_suffices`]: above this fraction of the short side
    /// the face fills the frame and the zoomed-out pass may place it better.
    pub short_range_max_face: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            min_score: 0.5,
            short_min_score: 0.7,
            nms_iou: 0.3,
            min_face_px: 40.0,
            max_tiles: 16,
            max_faces: 64,
            skip_tiles_beside_face: 0.0,
            short_range_suffices: 0.0,
            short_range_max_face: 1.0,
        }
    }
}

/// Smallest face the full-range network reliably finds, as a fraction of its input side. It
/// finds some faces at 1/16 (12 px of 192: 21 of the 24 faces of `dlib_bald_guys_multiface` at
/// 1280 px in one pass); tiling is planned with a margin above that.
const FULL_RANGE_MIN_FACE: f32 = 1.0 / 12.0;

/// How far the extra short-range pass zooms out (region side over frame side).
const ZOOM_OUT: f32 = 1.8;

/// One BlazeFace network with its anchors.
struct Variant {
    model: OnnxModel,
    size: usize,
    /// Anchor centres in 0..1 units of the input.
    anchors: Vec<(f32, f32)>,
}

/// A detection in source-image pixels, before suppression.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    /// x0, y0, x1, y1
    rect: [f32; 4],
    keypoints: [Point; 6],
}

/// SSD anchors as MediaPipe generates them with fixed anchor size: per feature-map cell, in row
/// order, `per_cell` anchors at the cell centre.
fn anchors(size: usize, layers: &[(usize, usize)]) -> Vec<(f32, f32)> {
    let mut out = Vec::new();
    for &(stride, per_cell) in layers {
        let cells = size.div_ceil(stride);
        for y in 0..cells {
            for x in 0..cells {
                let centre = (
                    (x as f32 + 0.5) / cells as f32,
                    (y as f32 + 0.5) / cells as f32,
                );
                out.extend(std::iter::repeat_n(centre, per_cell));
            }
        }
    }
    out
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

impl Variant {
    fn new(model: OnnxModel, size: usize, layers: &[(usize, usize)]) -> Variant {
        Variant {
            model,
            size,
            anchors: anchors(size, layers),
        }
    }

    fn error(&self, message: impl std::fmt::Display) -> VisionError {
        VisionError::Inference {
            model: self.model.name().into(),
            message: message.to_string(),
        }
    }

    /// Runs the network on `region` of `image` and returns detections in image pixels.
    fn detect(
        &self,
        image: &RgbImage,
        region: Region,
        min_score: f32,
    ) -> Result<Vec<Candidate>, VisionError> {
        let s = self.size;
        let rgb = sample(image, region, s, s, [0.0; 3]);
        let input: Vec<f32> = rgb.iter().map(|v| v / 127.5 - 1.0).collect();
        let input = ndarray::Array4::from_shape_vec((1, s, s, 3), input)
            .map_err(|e| self.error(e))?
            .into_dyn();
        let outputs = self.model.run_one(input)?;
        // Exports differ in how they split outputs (one pair, or one pair per stride): tell
        // regressors from scores by their last dimension and concatenate in output order.
        let mut boxes: Vec<f32> = Vec::with_capacity(self.anchors.len() * 16);
        let mut logits: Vec<f32> = Vec::with_capacity(self.anchors.len());
        for out in &outputs {
            match out.shape().last() {
                Some(16) => boxes.extend(out.iter()),
                Some(1) => logits.extend(out.iter()),
                _ => return Err(self.error(format!("unexpected output shape {:?}", out.shape()))),
            }
        }
        if logits.len() != self.anchors.len() || boxes.len() != self.anchors.len() * 16 {
            return Err(self.error(format!(
                "{} scores and {} box values for {} anchors",
                logits.len(),
                boxes.len(),
                self.anchors.len()
            )));
        }
        let sf = s as f32;
        let mut found = Vec::new();
        for (i, (&(ax, ay), &logit)) in self.anchors.iter().zip(&logits).enumerate() {
            let score = sigmoid(logit);
            if score < min_score {
                continue;
            }
            let r = &boxes[i * 16..i * 16 + 16];
            let (cx, cy) = (r[0] / sf + ax, r[1] / sf + ay);
            let (w, h) = (r[2] / sf, r[3] / sf);
            if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
                continue;
            }
            let (x0, y0) = region.to_image(cx - w / 2.0, cy - h / 2.0);
            let (x1, y1) = region.to_image(cx + w / 2.0, cy + h / 2.0);
            let mut keypoints = [Point::default(); 6];
            for (k, p) in keypoints.iter_mut().enumerate() {
                let (x, y) = region.to_image(r[4 + 2 * k] / sf + ax, r[5 + 2 * k] / sf + ay);
                *p = Point { x, y };
            }
            found.push(Candidate {
                score,
                rect: [x0, y0, x1, y1],
                keypoints,
            });
        }
        Ok(found)
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// MediaPipe's weighted NMS: the best remaining detection absorbs every detection overlapping
/// it, and the merged box and keypoints are the score-weighted mean of the cluster.
fn weighted_nms(mut candidates: Vec<Candidate>, iou_threshold: f32, limit: usize) -> Vec<Face> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut faces = Vec::new();
    while !candidates.is_empty() && faces.len() < limit {
        let top = candidates[0];
        let (cluster, rest): (Vec<Candidate>, Vec<Candidate>) = candidates
            .into_iter()
            .partition(|c| iou(&top.rect, &c.rect) > iou_threshold);
        candidates = rest;
        let total: f32 = cluster.iter().map(|c| c.score).sum();
        let mut rect = [0f32; 4];
        let mut keypoints = [Point::default(); 6];
        for c in &cluster {
            let w = c.score / total;
            for (acc, v) in rect.iter_mut().zip(&c.rect) {
                *acc += v * w;
            }
            for (acc, p) in keypoints.iter_mut().zip(&c.keypoints) {
                acc.x += p.x * w;
                acc.y += p.y * w;
            }
        }
        faces.push(Face {
            bbox: BBox {
                x: rect[0],
                y: rect[1],
                w: rect[2] - rect[0],
                h: rect[3] - rect[1],
            },
            score: top.score,
            keypoints,
        });
    }
    faces
}

/// Square tiles with a quarter overlap, level by level (each halving the side), coarse first,
/// down to the side at which a `min_face_px` face is big enough for the network.
fn tiles(width: f32, height: f32, input: f32, config: &DetectorConfig) -> Vec<Region> {
    let longest = width.max(height);
    // Largest side at which a min-size face still covers FULL_RANGE_MIN_FACE of the input;
    // below the network's own resolution tiling gains nothing.
    let smallest_side = (config.min_face_px / FULL_RANGE_MIN_FACE).max(input);
    let mut out = Vec::new();
    let mut side = longest / 2.0;
    // The whole frame already covers faces down to longest * FULL_RANGE_MIN_FACE.
    while longest * FULL_RANGE_MIN_FACE > config.min_face_px && side >= smallest_side * 0.75 {
        let step = side * 0.75;
        let count = |extent: f32| (((extent - side) / step).ceil().max(0.0) as usize) + 1;
        let (nx, ny) = (count(width), count(height));
        for j in 0..ny {
            for i in 0..nx {
                // Spread the tiles so the last one ends at the image edge.
                let x = if nx > 1 {
                    (width - side) * i as f32 / (nx - 1) as f32
                } else {
                    (width - side) / 2.0
                };
                let y = if ny > 1 {
                    (height - side) * j as f32 / (ny - 1) as f32
                } else {
                    (height - side) / 2.0
                };
                out.push(Region {
                    x,
                    y,
                    w: side,
                    h: side,
                });
                if out.len() >= config.max_tiles {
                    return out;
                }
            }
        }
        if side * FULL_RANGE_MIN_FACE <= config.min_face_px {
            break;
        }
        side /= 2.0;
    }
    out
}

/// Drops tile detections cut by a tile border that is not an image border: an overlapping tile
/// (or a coarser level) sees that face whole.
fn inside_tile(c: &Candidate, tile: &Region, width: f32, height: f32) -> bool {
    let margin = 0.02 * tile.w;
    let left_ok = c.rect[0] >= tile.x - margin || tile.x <= 0.0;
    let top_ok = c.rect[1] >= tile.y - margin || tile.y <= 0.0;
    let right_ok = c.rect[2] <= tile.x + tile.w + margin || tile.x + tile.w >= width;
    let bottom_ok = c.rect[3] <= tile.y + tile.h + margin || tile.y + tile.h >= height;
    left_ok && top_ok && right_ok && bottom_ok
}

/// The BlazeFace detector (see the module docs).
pub struct BlazeFace {
    short: Option<Variant>,
    full: Option<Variant>,
    config: DetectorConfig,
}

impl BlazeFace {
    /// Loads the short-range model (required) and the full-range one if it is in the store.
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<BlazeFace, VisionError> {
        let missing = |e: crate::provision::ProvisionError| VisionError::ModelMissing {
            model: "blazeface".into(),
            message: e.to_string(),
        };
        let short = runtime.load(
            "blazeface_short",
            &store.path(ModelId::BlazeFaceShort).map_err(missing)?,
        )?;
        let full = match store.path(ModelId::BlazeFaceFull) {
            Ok(path) => Some(runtime.load("blazeface_full", &path)?),
            Err(e) => {
                tracing::warn!(
                    "full-range face detector unavailable, small faces will be missed: {e}"
                );
                None
            }
        };
        BlazeFace::from_models(Some(short), full)
    }

    /// From already-loaded networks; at least one is needed.
    pub fn from_models(
        short: Option<OnnxModel>,
        full: Option<OnnxModel>,
    ) -> Result<BlazeFace, VisionError> {
        if short.is_none() && full.is_none() {
            return Err(VisionError::ModelMissing {
                model: "blazeface".into(),
                message: "neither the short- nor the full-range model is loaded".into(),
            });
        }
        Ok(BlazeFace {
            short: short.map(|m| Variant::new(m, 128, &[(8, 2), (16, 6)])),
            full: full.map(|m| Variant::new(m, 192, &[(4, 1)])),
            config: DetectorConfig::default(),
        })
    }

    pub fn with_config(mut self, config: DetectorConfig) -> BlazeFace {
        self.config = config;
        self
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Whether the full-range network (small faces, tiling) is loaded.
    pub fn has_full_range(&self) -> bool {
        self.full.is_some()
    }
}

impl BlazeFace {
    /// Whether the whole-frame short-range candidates already hold a well-framed face big
    /// enough that the other passes cannot change the answer (see
    /// [`DetectorConfig::short_range_suffices`]).
    fn short_range_suffices(&self, candidates: &[Candidate], w: f32, h: f32) -> bool {
        let c = &self.config;
        c.short_range_suffices > 0.0
            && candidates.iter().any(|d| {
                let side = (d.rect[2] - d.rect[0]).max(d.rect[3] - d.rect[1]);
                let inside =
                    d.rect[0] >= 0.0 && d.rect[1] >= 0.0 && d.rect[2] <= w && d.rect[3] <= h;
                inside
                    && side >= c.short_range_suffices * w.max(h)
                    && side <= c.short_range_max_face * w.min(h)
            })
    }
}

/// Side of the tracking window around the previous face box: the short-range network finds
/// faces best with margin around them (a face of ~45 % of its input, as in a selfie).
const TRACK_WINDOW: f32 = 2.2;

impl FaceDetector for BlazeFace {
    /// One short-range run on a window around the previous face instead of the four passes of
    /// [`FaceDetector::detect`]: this is what the dense blink stream of a video calls per frame.
    fn track(&self, image: &RgbImage, previous: &Face) -> Result<Option<Face>, VisionError> {
        let Some(short) = &self.short else {
            return Ok(self.detect(image)?.into_iter().next());
        };
        let b = previous.bbox;
        let side = b.w.max(b.h) * TRACK_WINDOW;
        let (cx, cy) = (b.x + b.w / 2.0, b.y + b.h / 2.0);
        let window = Region {
            x: cx - side / 2.0,
            y: cy - side / 2.0,
            w: side,
            h: side,
        };
        let found = short.detect(image, window, self.config.short_min_score)?;
        let faces = weighted_nms(found, self.config.nms_iou, self.config.max_faces);
        let dist = |f: &Face| {
            (f.bbox.x + f.bbox.w / 2.0 - cx).powi(2) + (f.bbox.y + f.bbox.h / 2.0 - cy).powi(2)
        };
        Ok(faces.into_iter().min_by(|a, b| dist(a).total_cmp(&dist(b))))
    }

    fn detect(&self, image: &RgbImage) -> Result<Vec<Face>, VisionError> {
        let (w, h) = (image.width() as f32, image.height() as f32);
        if image.width() < 8 || image.height() < 8 {
            return Ok(Vec::new());
        }
        let whole = Region::letterbox(0.0, 0.0, w, h);
        let min_score = self.config.min_score;
        let mut candidates = Vec::new();
        if let Some(short) = &self.short {
            candidates.extend(short.detect(image, whole, self.config.short_min_score)?);
            if self.short_range_suffices(&candidates, w, h) {
                return Ok(weighted_nms(
                    candidates,
                    self.config.nms_iou,
                    self.config.max_faces,
                ));
            }
            // Tight crops, where the face fills the frame and runs past its edges, are found
            // only when zoomed out: the network was trained on faces with margin around them.
            let side = whole.w * ZOOM_OUT;
            let zoomed = Region {
                x: whole.x - (side - whole.w) / 2.0,
                y: whole.y - (side - whole.h) / 2.0,
                w: side,
                h: side,
            };
            candidates.extend(short.detect(image, zoomed, self.config.short_min_score)?);
        }
        if let Some(full) = &self.full {
            candidates.extend(full.detect(image, whole, min_score)?);
            let close_up = self.config.skip_tiles_beside_face > 0.0
                && candidates.iter().any(|c| {
                    (c.rect[2] - c.rect[0]).max(c.rect[3] - c.rect[1])
                        >= self.config.skip_tiles_beside_face * w.max(h)
                });
            let planned = if close_up {
                Vec::new()
            } else {
                tiles(w, h, full.size as f32, &self.config)
            };
            for tile in planned {
                let found = full.detect(image, tile, min_score)?;
                candidates.extend(found.into_iter().filter(|c| inside_tile(c, &tile, w, h)));
            }
        }
        Ok(weighted_nms(
            candidates,
            self.config.nms_iou,
            self.config.max_faces,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_counts_match_the_networks() {
        assert_eq!(anchors(128, &[(8, 2), (16, 6)]).len(), 896);
        assert_eq!(anchors(192, &[(4, 1)]).len(), 2304);
        let a = anchors(128, &[(8, 2), (16, 6)]);
        assert_eq!(a[0], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[512], (0.5 / 8.0, 0.5 / 8.0));
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_faces() {
        let c = |score, x: f32| Candidate {
            score,
            rect: [x, 0.0, x + 10.0, 10.0],
            keypoints: [Point { x, y: 0.0 }; 6],
        };
        let faces = weighted_nms(vec![c(0.9, 0.0), c(0.6, 1.0), c(0.8, 50.0)], 0.3, 10);
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[0].score, 0.9);
        assert!(faces[0].bbox.x > 0.0 && faces[0].bbox.x < 1.0);
        assert_eq!(faces[1].bbox.x, 50.0);
    }

    #[test]
    fn tiles_cover_big_images_and_are_bounded() {
        let cfg = DetectorConfig::default();
        assert!(tiles(320.0, 240.0, 192.0, &cfg).is_empty());
        let t = tiles(2000.0, 1500.0, 192.0, &cfg);
        assert!(!t.is_empty() && t.len() <= cfg.max_tiles);
        for r in &t {
            assert!(r.x >= -0.01 && r.y >= -0.01 && r.x + r.w <= 2000.01 && r.y + r.h <= 1500.01);
        }
    }
}
