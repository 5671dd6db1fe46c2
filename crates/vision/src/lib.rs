//! Every neural network: provisioning, loading, pre- and post-processing.
//! Knows nothing about HTTP or liveness policy.

pub mod embedder;
pub mod face;
pub mod iris;
pub mod provision;
pub mod runtime;
pub mod tflite;

pub use face::{
    BBox, Embedder, Embedding, EyeModel, EyeOpenness, Face, FaceDetector, PadModel, Point,
    VisionError,
};
pub use provision::{ModelId, ModelStore, ProvisionError};
pub use runtime::{OnnxModel, Runtime};
