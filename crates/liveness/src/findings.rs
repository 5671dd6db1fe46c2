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
    /// Fewer picture pixels behind the PAD crop than the network's input: the verdict is a
    /// guess (see `policy::PAD_MIN_PICTURE_PX`).
    LowResolution,
    /// The face lies on its side or upside down in the picture, which the PAD model was not
    /// made for (see `policy::ROTATED_FACE_MIN_ROLL_DEG`).
    FaceRotated,
    /// The file's compressed data is damaged and was repaired in decoding (`media`'s
    /// `StillInfo::damaged`): the verdict judges a picture the camera may not have taken.
    DamagedData,
}

impl Finding {
    /// The snake_case code, as in `details` and the `X-Livegate-Reason` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::NoFace => "no_face",
            Finding::MultipleFaces => "multiple_faces",
            Finding::FaceTooSmall => "face_too_small",
            Finding::Blur => "blur",
            Finding::Underexposed => "underexposed",
            Finding::Overexposed => "overexposed",
            Finding::LowResolution => "low_resolution",
            Finding::FaceRotated => "face_rotated",
            Finding::DamagedData => "damaged_data",
        }
    }
}
