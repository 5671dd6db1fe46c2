//! Every neural network: provisioning, loading, pre- and post-processing.
//! Knows nothing about HTTP or liveness policy.

pub mod blazeface;
pub mod embedder;
pub mod face;
pub mod identity;
pub mod iris;
pub mod mesh;
pub mod pad;
pub mod pipeline;
pub mod provision;
pub mod quality;
pub mod runtime;
pub mod sampling;
pub mod subnormal;
pub mod tflite;

pub use face::{
    BBox, Embedder, Embedding, EyeChips, EyeModel, EyeOpenness, Face, FaceDetector, LandmarkModel,
    PadModel, Point, VisionError,
};
pub use identity::{EmbedderId, PadId};
pub use pipeline::{Vision, VisionOptions};
pub use provision::{ModelId, ModelStore, ProvisionError};
pub use runtime::{OnnxModel, Runtime};
