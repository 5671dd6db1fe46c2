//! Silent-Face MiniFASNet V2 (face box scaled 2.7×) and V1SE (4.0×): 80×80, raw 0..255 BGR;
//! class 1 of the 3-way softmax is the live face. The two see different amounts of context
//! (V1SE sees the frame around the face, where screen bezels and print edges show).

use image::RgbImage;

use crate::face::{Face, PadModel, VisionError};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    V2,
    V1Se,
}

impl Variant {
    pub fn scale(self) -> f32 {
        match self {
            Variant::V2 => 2.7,
            Variant::V1Se => 4.0,
        }
    }

    pub fn id(self) -> crate::identity::PadId {
        match self {
            Variant::V2 => crate::identity::PadId::MinifasnetV2,
            Variant::V1Se => crate::identity::PadId::MinifasnetV1se,
        }
    }

    pub fn name(self) -> &'static str {
        self.id().name()
    }

    pub fn model_id(self) -> ModelId {
        match self {
            Variant::V2 => ModelId::MiniFasNetV2,
            Variant::V1Se => ModelId::MiniFasNetV1Se,
        }
    }
}

pub struct MiniFasNet {
    model: OnnxModel,
    variant: Variant,
}

impl MiniFasNet {
    pub const SIZE: usize = 80;

    pub fn load(
        runtime: &Runtime,
        store: &ModelStore,
        variant: Variant,
    ) -> Result<MiniFasNet, VisionError> {
        Ok(MiniFasNet::new(
            runtime.load_stored(variant.name(), store, variant.model_id())?,
            variant,
        ))
    }

    pub fn new(model: OnnxModel, variant: Variant) -> MiniFasNet {
        MiniFasNet { model, variant }
    }

    pub fn variant(&self) -> Variant {
        self.variant
    }
}

impl PadModel for MiniFasNet {
    fn id(&self) -> crate::identity::PadId {
        self.variant.id()
    }

    fn live_score(&self, image: &RgbImage, face: &Face) -> Result<f32, VisionError> {
        let scale = self.variant.scale();
        super::classify(&self.model, image, &face.bbox, scale, Self::SIZE, true, 1)
    }
}
