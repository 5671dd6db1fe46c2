//! Every neural network: provisioning, loading, pre- and post-processing.
//! Knows nothing about HTTP or liveness policy.

pub mod face;

pub use face::{
    BBox, Embedder, Embedding, EyeModel, EyeOpenness, Face, FaceDetector, PadModel, Point,
    VisionError,
};
