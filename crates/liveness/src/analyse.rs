//! The one narrow interface every front end calls.

use crate::{Analysis, AnalysisRequest, Comparison, MediaField};

/// Why an analysis produced no report. Media problems are the client's (400); the rest are ours.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A part is missing, empty, undecodable, of an unsupported format, or over a limit.
    #[error("{field:?}: {message}")]
    Media { field: MediaField, message: String },
    /// A part is over a size, pixel or length limit (413: the client must send less).
    #[error("{field:?}: {message}")]
    MediaTooLarge { field: MediaField, message: String },
    /// The still and the video are both bad: each is named, so that one round trip fixes
    /// both. Only ever holds `Media` / `MediaTooLarge` errors, the image's first.
    #[error("{image}; {video}")]
    BothMedia {
        image: Box<AnalysisError>,
        video: Box<AnalysisError>,
    },
    /// No image and no video were given.
    #[error("no image and no video")]
    NothingToAnalyse,
    /// A model or runtime failure: a bug or a broken installation, never the client's fault.
    #[error("internal: {0}")]
    Internal(String),
    /// A store the analysis needs (a challenge's single-use record) cannot be reached right
    /// now: the client may try again.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Synchronous and CPU-heavy: callers run it off any async reactor.
pub trait Analyse: Send + Sync {
    fn analyse(&self, request: &AnalysisRequest) -> Result<Analysis, AnalysisError>;
    /// Whether two stills show the same person.
    fn facematch(&self, image1: &[u8], image2: &[u8]) -> Result<Comparison, AnalysisError>;
    /// What the verdicts are judged with, for an operator to see that every replica of a
    /// deployment runs the same layer and threshold; `None` for analysers without models.
    fn judging(&self) -> Option<Judging> {
        None
    }
}

/// The PAD weights that score and the still threshold the verdicts apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Judging {
    /// (file name, SHA-256) of each graph of the Livegate PAD model.
    pub pad_weights: crate::models::PadWeights,
    pub image_real_threshold: f32,
}

impl AnalysisError {
    /// Whether this names a bad part (as opposed to a failure that is nobody's input).
    pub fn is_media(&self) -> bool {
        matches!(
            self,
            Self::Media { .. } | Self::MediaTooLarge { .. } | Self::BothMedia { .. }
        )
    }

    /// The errors of the two parts analysed side by side, as one: the still's if only it
    /// failed (or failed for a reason of ours), both when both parts are bad.
    pub fn of_both<S, V>(
        still: Result<S, AnalysisError>,
        video: Result<V, AnalysisError>,
    ) -> Result<(S, V), AnalysisError> {
        match (still, video) {
            (Ok(s), Ok(v)) => Ok((s, v)),
            (Err(i), Err(v)) if i.is_media() && v.is_media() => Err(AnalysisError::BothMedia {
                image: Box::new(i),
                video: Box::new(v),
            }),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    /// The media layer's error, named after the part it came from.
    pub fn media(field: MediaField, e: media::MediaError) -> Self {
        if e.is_internal() {
            AnalysisError::Internal(e.to_string())
        } else if e.is_too_large() {
            AnalysisError::MediaTooLarge {
                field,
                message: e.to_string(),
            }
        } else {
            AnalysisError::Media {
                field,
                message: e.to_string(),
            }
        }
    }
}
