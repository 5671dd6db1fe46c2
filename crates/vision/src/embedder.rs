//! Face embedders for facematch.
//!
//! Two candidates implement [`Embedder`], each with its own alignment from the detector's
//! keypoints: dlib's ResNet ([`DlibEmbedder`], 128-d, Euclidean) and Faceplugin's `fr_feature`
//! ([`FacepluginEmbedder`], 512-d, cosine). [`DEFAULT`] is the one chosen by measurement on
//! `testdata/faces` (`tests/embedder.rs`; see [`DEFAULT`] for the numbers).

pub mod align;
pub mod dlib;
pub mod faceplugin;

use crate::face::{Embedder, Face, Point, VisionError, kp};
use crate::provision::ModelStore;
use crate::runtime::Runtime;

pub use dlib::DlibEmbedder;
pub use faceplugin::FacepluginEmbedder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedderKind {
    /// dlib ResNet-29 built from the face-api weights.
    Dlib,
    /// Faceplugin `fr_feature.onnx`.
    Faceplugin,
}

/// The embedder the product uses unless told otherwise: Faceplugin.
///
/// Measured on the 78 detected faces of 14 people in `testdata/faces` (3003 pairs, same
/// BlazeFace keypoints for both): Faceplugin keeps every same-person pair (max cosine distance
/// 0.506) closer than every different-person pair (min 0.657). dlib's worst different-person pair
/// (two dim webcam captures of two young men) sits at 0.472, under its own 0.6 match threshold and
/// under its worst same-person pair (0.558): it would call two different people a match. dlib is
/// somewhat faster; correctness of a match decides.
pub const DEFAULT: EmbedderKind = EmbedderKind::Faceplugin;

impl EmbedderKind {
    pub fn load(
        self,
        runtime: &Runtime,
        store: &ModelStore,
    ) -> Result<Box<dyn Embedder>, VisionError> {
        Ok(match self {
            EmbedderKind::Dlib => Box::new(DlibEmbedder::load(runtime, store)?),
            EmbedderKind::Faceplugin => Box::new(FacepluginEmbedder::load(runtime, store)?),
        })
    }
}

/// The alignment keypoints in template order: the eye on the image's left (the subject's right),
/// the other eye, nose tip, mouth centre.
pub(crate) fn landmarks(face: &Face) -> [Point; 4] {
    let k = &face.keypoints;
    [k[kp::RIGHT_EYE], k[kp::LEFT_EYE], k[kp::NOSE], k[kp::MOUTH]]
}

/// The `size`×`size` chip that maps the face's keypoints onto `template` (the alignment each
/// embedder was trained with).
pub(crate) fn aligned_chip(
    image: &image::RgbImage,
    face: &Face,
    template: &[Point; 4],
    size: u32,
    model: &str,
) -> Result<image::RgbImage, VisionError> {
    let to_template = align::similarity(&landmarks(face), template)
        .and_then(|m| m.invert())
        .ok_or_else(|| VisionError::Inference {
            model: model.into(),
            message: "degenerate face keypoints".into(),
        })?;
    Ok(align::warp(image, &to_template, size, size))
}

/// An aligned `size`×`size` chip as the network's NCHW input; `value(rgb, channel)` is the
/// embedder's own preprocessing of one pixel for one input plane.
pub(crate) fn chip_input(
    chip: &image::RgbImage,
    size: u32,
    model: &str,
    value: impl Fn([u8; 3], usize) -> f32,
) -> Result<ndarray::ArrayD<f32>, VisionError> {
    if chip.dimensions() != (size, size) {
        return Err(VisionError::Inference {
            model: model.into(),
            message: format!("chip must be {size}×{size}"),
        });
    }
    let n = size as usize;
    Ok(
        ndarray::Array4::from_shape_fn((1, 3, n, n), |(_, c, y, x)| {
            value(chip.get_pixel(x as u32, y as u32).0, c)
        })
        .into_dyn(),
    )
}

/// The network's first output as an embedding of `len` values, or the reason it is not one.
pub(crate) fn output_vector(
    outputs: &[ndarray::ArrayD<f32>],
    len: usize,
    model: &str,
) -> Result<Vec<f32>, VisionError> {
    let v: Vec<f32> = outputs
        .first()
        .map(|a| a.iter().copied().collect())
        .unwrap_or_default();
    if v.len() != len {
        return Err(VisionError::Inference {
            model: model.into(),
            message: format!("expected {len} values, got {}", v.len()),
        });
    }
    Ok(v)
}

pub(crate) fn l2_normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
