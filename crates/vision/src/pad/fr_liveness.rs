//! Faceplugin `fr_liveness.onnx`: a MiniFASNet-family classifier at 128×128 on the face box
//! scaled 2.7×, raw 0..255 BGR; class 0 of its 3-way softmax is the live face.

use image::RgbImage;

use crate::face::{Face, PadModel, VisionError};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};

pub struct FrLiveness {
    model: OnnxModel,
}

impl FrLiveness {
    pub const SCALE: f32 = 2.7;
    pub const SIZE: usize = 128;

    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<FrLiveness, VisionError> {
        Ok(FrLiveness::new(runtime.load_stored(
            "fr_liveness",
            store,
            ModelId::FrLiveness,
        )?))
    }

    pub fn new(model: OnnxModel) -> FrLiveness {
        FrLiveness { model }
    }
}

impl PadModel for FrLiveness {
    fn id(&self) -> crate::identity::PadId {
        crate::identity::PadId::FrLiveness
    }

    fn live_score(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError> {
        super::classify(
            &self.model,
            image,
            &face.bbox,
            Self::SCALE,
            Self::SIZE,
            true,
            0,
        )
    }
}
