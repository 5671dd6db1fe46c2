//! What the analysis is handed: bytes already read by whichever front end received them.

use crate::challenge::ChallengeInput;
use crate::options::AnalysisOptions;

/// Which uploaded part a media error is about; the HTTP edge names it in the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaField {
    Image,
    Video,
    Image1,
    Image2,
}

impl MediaField {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaField::Image => "image",
            MediaField::Video => "video",
            MediaField::Image1 => "image1",
            MediaField::Image2 => "image2",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AnalysisRequest {
    /// Raw bytes of the still (already base64-decoded when `image_type=base64`).
    pub image: Option<Vec<u8>>,
    /// Raw bytes of the video container.
    pub video: Option<Vec<u8>>,
    pub options: AnalysisOptions,
    /// An active challenge the video must answer (`challenge_id`), already resolved by the
    /// front end; `None`: passive analysis only.
    pub challenge: Option<ChallengeInput>,
}
