//! Livegate's own presentation-attack model (`training/`, model card in
//! `training/MODEL_CARD.md`): the stock MiniFASNet V2 and V1SE networks read as feature
//! extractors, and one layer trained here over both embeddings on the service's own crops. One
//! graph, two inputs: the face box scaled 2.7× and 4.0× (80×80, raw 0..255 BGR each), as the
//! two networks were built for; class 1 of the softmax over its two logits is the live face.
//!
//! The weights are the project's own artefact and are compiled into the binary, so every
//! installation has them without a download.

use std::path::Path;

use image::RgbImage;
use sha2::{Digest, Sha256};

use crate::face::{Face, PadModel, VisionError};
use crate::runtime::{OnnxModel, Runtime};

/// The shipped weights (`training/livegate_pad.onnx`).
pub const WEIGHTS: &[u8] = include_bytes!("../../../../training/livegate_pad.onnx");

pub struct LivegatePad {
    model: OnnxModel,
}

impl LivegatePad {
    pub const NAME: &'static str = crate::identity::PadId::LivegatePad.name();
    /// Context scales of the graph's inputs, in input order (`crop_27`, `crop_40`).
    pub const SCALES: [f32; 2] = [2.7, 4.0];
    pub const SIZE: usize = 80;
    const LIVE_CLASS: usize = 1;

    /// The shipped model.
    pub fn load(runtime: &Runtime) -> Result<LivegatePad, VisionError> {
        Self::checked(runtime.load_bytes(Self::NAME, WEIGHTS)?)
    }

    /// Another training of the same graph (a leave-one-source-out fold model).
    pub fn from_file(runtime: &Runtime, path: &Path) -> Result<LivegatePad, VisionError> {
        Self::checked(runtime.load(Self::NAME, path)?)
    }

    /// Inputs are fed by position: a graph whose inputs are not the two crops in this order
    /// would silently score the wrong crops.
    fn checked(model: OnnxModel) -> Result<LivegatePad, VisionError> {
        if model.input_names() != ["crop_27", "crop_40"] {
            return Err(VisionError::ModelMissing {
                model: Self::NAME.into(),
                message: format!(
                    "expected inputs crop_27, crop_40; the graph has {:?}",
                    model.input_names()
                ),
            });
        }
        Ok(LivegatePad { model })
    }

    /// SHA-256 of the shipped weights, as the model card states it.
    pub fn weights_sha256() -> String {
        hex::encode(Sha256::digest(WEIGHTS))
    }
}

impl PadModel for LivegatePad {
    fn id(&self) -> crate::identity::PadId {
        crate::identity::PadId::LivegatePad
    }

    fn live_score(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError> {
        let inputs = Self::SCALES
            .iter()
            .map(|&s| super::crop_input(&self.model, image, &face.bbox, s, Self::SIZE, true))
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = self.model.run(inputs)?;
        super::live_probability(&self.model, &outputs, Self::LIVE_CLASS)
    }
}
