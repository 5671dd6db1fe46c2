//! Livegate's own presentation-attack model (`training/`, model card in
//! `training/MODEL_CARD.md`): the stock MiniFASNet V2 and V1SE networks read as feature
//! extractors, and one linear layer trained here over both on the service's own crops.
//!
//! The model is two graphs, one per network: `crop_27` (V2 on the face box scaled 2.7×) and
//! `crop_40` (V1SE on it scaled 4.0×), 80×80 raw 0..255 BGR each, as the networks were built
//! for. Because the layer is linear, each graph ends in its own network's share of the logits;
//! class 1 of the softmax over the two shares' sum is the live face. Two graphs so that one
//! face's two networks run at the same time on two cores (ONNX Runtime runs one graph's
//! independent branches one after the other): a still's PAD wall time is then the slower
//! network's, not the sum of both, while the CPU spent stays the same.
//!
//! The weights are the project's own artefact and are compiled into the binary, so every
//! installation has them without a download.

use std::path::Path;

use image::RgbImage;
use ndarray::ArrayD;
use sha2::{Digest, Sha256};

use crate::face::{Face, PadModel, VisionError};
use crate::runtime::{OnnxModel, Runtime};

/// The shipped weights (`training/livegate_pad/`): (file name, bytes), in input order.
pub const WEIGHTS: [(&str, &[u8]); 2] = [
    (
        "crop_27.onnx",
        include_bytes!("../../../../training/livegate_pad/crop_27.onnx"),
    ),
    (
        "crop_40.onnx",
        include_bytes!("../../../../training/livegate_pad/crop_40.onnx"),
    ),
];

pub struct LivegatePad {
    /// One graph per network, in input order (`crop_27`, `crop_40`).
    parts: [OnnxModel; 2],
    /// (file name, SHA-256) of each graph as it was read: which weights score, for the logs
    /// and for operating points, which mean nothing for other weights.
    weights: Vec<(&'static str, String)>,
}

impl LivegatePad {
    pub const NAME: &'static str = crate::identity::PadId::LivegatePad.name();
    /// Each graph's input, and the context scale of its crop.
    pub const INPUTS: [(&'static str, f32); 2] = [("crop_27", 2.7), ("crop_40", 4.0)];
    pub const SIZE: usize = 80;
    const OUTPUT: &'static str = "partial_logits";
    const LIVE_CLASS: usize = 1;

    /// The shipped model.
    pub fn load(runtime: &Runtime) -> Result<LivegatePad, VisionError> {
        let [(_, crop_27), (_, crop_40)] = WEIGHTS;
        Self::checked(
            [
                runtime.load_bytes(Self::NAME, crop_27)?,
                runtime.load_bytes(Self::NAME, crop_40)?,
            ],
            Self::weights_sha256(),
        )
    }

    /// Another training of the same graphs — a leave-one-source-out fold model, or a
    /// deployment's own layer (`training/calibrate.sh`): a folder with `crop_27.onnx` and
    /// `crop_40.onnx`, as `training/export.py` writes them.
    pub fn from_dir(runtime: &Runtime, dir: &Path) -> Result<LivegatePad, VisionError> {
        let [(crop_27, _), (crop_40, _)] = WEIGHTS;
        // Each file read once: the hash is of the bytes that load.
        let read = |name: &'static str| {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| VisionError::ModelMissing {
                model: Self::NAME.into(),
                message: format!("cannot read {}: {e}", path.display()),
            })?;
            let digest = (name, hex::encode(Sha256::digest(&bytes)));
            Ok::<_, VisionError>((runtime.load_read(Self::NAME, bytes)?, digest))
        };
        let (part_27, hash_27) = read(crop_27)?;
        let (part_40, hash_40) = read(crop_40)?;
        Self::checked([part_27, part_40], vec![hash_27, hash_40])
    }

    /// Inputs and outputs are used by position: a graph with other names would silently score
    /// the wrong crop.
    fn checked(
        parts: [OnnxModel; 2],
        weights: Vec<(&'static str, String)>,
    ) -> Result<LivegatePad, VisionError> {
        for (part, (input, _)) in parts.iter().zip(Self::INPUTS) {
            if part.input_names() != [input] || part.output_names() != [Self::OUTPUT] {
                return Err(VisionError::ModelMissing {
                    model: Self::NAME.into(),
                    message: format!(
                        "expected a graph from {input} to {}; it has {:?} → {:?}",
                        Self::OUTPUT,
                        part.input_names(),
                        part.output_names()
                    ),
                });
            }
        }
        Ok(LivegatePad { parts, weights })
    }

    /// SHA-256 of each file this model was loaded from: (file name, hex digest).
    pub fn sha256(&self) -> &[(&'static str, String)] {
        &self.weights
    }

    /// SHA-256 of each shipped file, as the model card states them: (file name, hex digest).
    pub fn weights_sha256() -> Vec<(&'static str, String)> {
        WEIGHTS
            .iter()
            .map(|(name, bytes)| (*name, hex::encode(Sha256::digest(bytes))))
            .collect()
    }

    /// One network's share of the logits for `face`.
    fn share(&self, k: usize, image: &RgbImage, face: &Face) -> Result<ArrayD<f32>, VisionError> {
        let part = &self.parts[k];
        let input =
            super::crop_input(part, image, &face.bbox, Self::INPUTS[k].1, Self::SIZE, true)?;
        part.run_one(input)?
            .pop()
            .ok_or_else(|| VisionError::Inference {
                model: Self::NAME.into(),
                message: "no output".into(),
            })
    }
}

impl PadModel for LivegatePad {
    fn id(&self) -> crate::identity::PadId {
        crate::identity::PadId::LivegatePad
    }

    fn live_score(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError> {
        // V1SE goes to rayon's pool while this thread runs V2. On a busy server the pool's
        // threads are busy too and the two simply queue: the CPU spent is the same either way.
        let mut crop_40 = None;
        let crop_27 = rayon::in_place_scope(|scope| {
            scope.spawn(|_| crop_40 = Some(self.share(1, image, face)));
            self.share(0, image, face)
        })?;
        let crop_40 = crop_40.expect("the scope waits for its spawned share")?;
        if crop_27.shape() != crop_40.shape() {
            return Err(VisionError::Inference {
                model: Self::NAME.into(),
                message: format!(
                    "the two shares differ in shape: {:?} and {:?}",
                    crop_27.shape(),
                    crop_40.shape()
                ),
            });
        }
        super::live_probability(&self.parts[0], &[crop_27 + crop_40], Self::LIVE_CLASS)
    }
}
