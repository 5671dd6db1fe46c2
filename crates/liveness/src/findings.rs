//! Why a still or a frame has no usable face, as the `details` evidence names it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    NoFace,
    MultipleFaces,
    FaceTooSmall,
    Blur,
    Underexposed,
    Overexposed,
}
