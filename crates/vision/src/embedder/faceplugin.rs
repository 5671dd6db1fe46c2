//! Faceplugin `fr_feature.onnx`: 512-d embedding of a 112×112 ArcFace-aligned chip, compared by
//! cosine distance.

use std::path::Path;

use image::RgbImage;

use super::l2_normalised;
use crate::face::{Embedder, Embedding, Face, Point, VisionError};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};

const NAME: &str = crate::identity::EmbedderId::FacepluginFrFeature.name();
pub const CHIP: u32 = 112;

/// The ArcFace 112×112 template (eyes, nose tip; the mouth is the midpoint of its two corners),
/// in the order of [`landmarks`].
const TEMPLATE: [Point; 4] = [
    Point {
        x: 38.2946,
        y: 51.6963,
    },
    Point {
        x: 73.5318,
        y: 51.5014,
    },
    Point {
        x: 56.0252,
        y: 71.7366,
    },
    Point {
        x: 56.1396,
        y: 92.2848,
    },
];

pub struct FacepluginEmbedder {
    model: OnnxModel,
}

impl std::fmt::Debug for FacepluginEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacepluginEmbedder").finish_non_exhaustive()
    }
}

impl FacepluginEmbedder {
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, VisionError> {
        Ok(FacepluginEmbedder {
            model: runtime.load_stored(NAME, store, ModelId::FrFeature)?,
        })
    }

    pub fn from_path(runtime: &Runtime, path: &Path) -> Result<Self, VisionError> {
        Ok(FacepluginEmbedder {
            model: runtime.load(NAME, path)?,
        })
    }

    /// The aligned chip the network sees for `face`.
    pub fn chip(image: &RgbImage, face: &Face) -> Result<RgbImage, VisionError> {
        super::aligned_chip(image, face, &TEMPLATE, CHIP, NAME)
    }

    /// Embeds an already aligned 112×112 chip.
    pub fn embed_chip(&self, chip: &RgbImage) -> Result<Embedding, VisionError> {
        // BGR planes, (x − 127)/128: the preprocessing the vendor's own JavaScript applies.
        let input = super::chip_input(chip, CHIP, NAME, |rgb, c| {
            (rgb[2 - c] as f32 - 127.0) / 128.0
        })?;
        let out = self.model.run_one(input)?;
        Ok(Embedding(l2_normalised(super::output_vector(
            &out, 512, NAME,
        )?)))
    }
}

impl Embedder for FacepluginEmbedder {
    fn id(&self) -> crate::identity::EmbedderId {
        crate::identity::EmbedderId::FacepluginFrFeature
    }

    fn embed(&self, image: &RgbImage, face: &Face) -> Result<Embedding, VisionError> {
        self.embed_chip(&Self::chip(image, face)?)
    }

    /// Cosine distance of the (unit) embeddings: 0 identical, 1 unrelated, 2 opposite;
    /// infinite for embeddings of different lengths (another model's), which never match.
    fn distance(&self, a: &Embedding, b: &Embedding) -> f32 {
        if a.0.len() != b.0.len() {
            return f32::INFINITY;
        }
        1.0 - a.0.iter().zip(&b.0).map(|(x, y)| x * y).sum::<f32>()
    }
}
