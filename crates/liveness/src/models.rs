//! The models the analysis uses, behind vision's narrow traits, loaded once and shared.

use std::sync::Arc;
use vision::{Embedder, EyeModel, FaceDetector, LandmarkModel, PadModel};

#[derive(Clone)]
pub struct Models {
    pub detector: Arc<dyn FaceDetector>,
    pub eyes: Arc<dyn EyeModel>,
    pub embedder: Arc<dyn Embedder>,
    /// Landmarks for the motion measure; without them a video has no motion evidence.
    pub mesh: Option<Arc<dyn LandmarkModel>>,
    /// Every PAD model that is installed; the policy weighs them.
    pub pad: Vec<Arc<dyn PadModel>>,
}
