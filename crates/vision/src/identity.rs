//! Which network a score came from. The decision policy (in the liveness crate) matches these
//! exhaustively, so a model added here does not compile until the policy says what it weighs —
//! no model can silently get a weight of zero, or one it was never measured for.

use serde::Serialize;

/// The presentation-attack networks Livegate can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PadId {
    /// Livegate's own model (`training/`, compiled into the binary).
    LivegatePad,
    /// Silent-Face's MiniFASNetV2 at 2.7× context.
    MinifasnetV2,
    /// Silent-Face's MiniFASNetV1SE at 4× context.
    MinifasnetV1se,
    /// Faceplugin's `fr_liveness` (MiniFASNet-family, 2.7× context).
    FrLiveness,
}

impl PadId {
    /// The name in evidence, logs and benches.
    pub const fn name(self) -> &'static str {
        match self {
            PadId::LivegatePad => "livegate_pad",
            PadId::MinifasnetV2 => "minifasnet_v2",
            PadId::MinifasnetV1se => "minifasnet_v1se",
            PadId::FrLiveness => "fr_liveness",
        }
    }
}

/// The face-embedding networks Livegate can run for facematch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderId {
    /// dlib's ResNet (128-d, Euclidean distance).
    DlibResnet,
    /// Faceplugin's `fr_feature` (512-d, cosine distance), the default.
    FacepluginFrFeature,
}

impl EmbedderId {
    pub const fn name(self) -> &'static str {
        match self {
            EmbedderId::DlibResnet => "dlib_resnet",
            EmbedderId::FacepluginFrFeature => "faceplugin_fr_feature",
        }
    }
}
