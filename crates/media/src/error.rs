//! The one error type of the media layer. Every variant's `Display` is a sentence a client can
//! read; [`MediaError::http_status`] is the single place that says which are "too large" (413)
//! and which are "bad input" (400), so the HTTP edge maps them without matching on variants.

/// Why bytes could not be turned into frames.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Zero bytes were given.
    #[error("the {what} is empty (0 bytes)")]
    Empty { what: &'static str },

    /// More bytes than the configured limit.
    #[error("the {what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },

    /// The header announces more pixels (or a longer side) than allowed. Checked before any
    /// pixel buffer is allocated, so a decompression bomb costs a header parse. `width` and
    /// `height` are 0 when a decoder hit its own limit before reporting a size.
    #[error("{}", too_many_pixels(.what, *.width, *.height, *.max_pixels, *.max_dimension))]
    TooManyPixels {
        what: &'static str,
        width: u32,
        height: u32,
        max_pixels: u64,
        max_dimension: u32,
    },

    /// The video is longer than allowed (by duration in the header or by counted frames).
    #[error("the video is too long: {0}")]
    TooLong(String),

    /// A format or codec this build does not decode. The string names it.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),

    /// The bytes claim a known format but cannot be decoded (truncated, damaged, garbage).
    #[error("the file is corrupt or truncated: {0}")]
    Corrupt(String),

    /// A container without any video stream (audio-only, or only a cover picture).
    #[error("the file has no video stream")]
    NoVideoStream,

    /// The per-video time budget ran out.
    #[error("decoding took too long: {0}")]
    BudgetExceeded(String),

    /// A failure of the machine, not of the input (allocation, library initialisation).
    #[error("internal media error: {0}")]
    Internal(String),
}

impl MediaError {
    /// A decoding library refused `what` (e.g. "the PNG data"). Its own text goes to the log,
    /// not to the client: it can be a Rust debug dump of the decoder's state (a PNG chunk's
    /// flags) or the library's name, neither of which tells a client what to do.
    pub(crate) fn undecodable(what: &str, detail: impl std::fmt::Display) -> Self {
        tracing::info!(%detail, "{what} cannot be decoded");
        Self::Corrupt(format!("{what} cannot be decoded"))
    }

    /// True for errors that mean "the input is too big" (HTTP 413), as opposed to "the input is
    /// bad" (400). Pixel bombs and over-long videos count as too large.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            Self::TooLarge { .. } | Self::TooManyPixels { .. } | Self::TooLong(_)
        )
    }

    /// True when the fault is ours (500), not the client's.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Internal(_))
    }

    /// The HTTP status the edge should answer with: 413, 500, or 400 for everything else
    /// (empty, unsupported, corrupt, no video stream, budget exceeded).
    pub fn http_status(&self) -> u16 {
        if self.is_too_large() {
            413
        } else if self.is_internal() {
            500
        } else {
            400
        }
    }

    /// A short stable code for logs and the error envelope: `empty`, `too_large`,
    /// `too_many_pixels`, `too_long`, `unsupported_format`, `corrupt`, `no_video_stream`,
    /// `budget_exceeded`, `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty { .. } => "empty",
            Self::TooLarge { .. } => "too_large",
            Self::TooManyPixels { .. } => "too_many_pixels",
            Self::TooLong(_) => "too_long",
            Self::UnsupportedFormat(_) => "unsupported_format",
            Self::Corrupt(_) => "corrupt",
            Self::NoVideoStream => "no_video_stream",
            Self::BudgetExceeded(_) => "budget_exceeded",
            Self::Internal(_) => "internal",
        }
    }
}

/// Names the limit that was passed: a side, or the pixel count (a 20000×20000 still is within
/// 20 000 px per side but four times over 100 megapixels).
fn too_many_pixels(what: &str, w: u32, h: u32, max_pixels: u64, max_dimension: u32) -> String {
    if w == 0 || h == 0 {
        return format!("the {what} is too large, over the limit ({max_pixels} pixels)");
    }
    let pixels = u64::from(w) * u64::from(h);
    if w.max(h) > max_dimension {
        format!("the {what} is {w}x{h} pixels: a side over the limit of {max_dimension} px")
    } else {
        format!("the {what} is {w}x{h} = {pixels} pixels, over the limit of {max_pixels} pixels")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_statuses() {
        let e = MediaError::TooManyPixels {
            what: "image",
            width: 60000,
            height: 60000,
            max_pixels: 100,
            max_dimension: 20,
        };
        assert_eq!(
            e.to_string(),
            "the image is 60000x60000 pixels: a side over the limit of 20 px"
        );
        let e = MediaError::TooManyPixels {
            what: "image",
            width: 20000,
            height: 20000,
            max_pixels: 100_000_000,
            max_dimension: 20000,
        };
        assert_eq!(
            e.to_string(),
            "the image is 20000x20000 = 400000000 pixels, over the limit of 100000000 pixels"
        );
        assert_eq!((e.http_status(), e.code()), (413, "too_many_pixels"));
        let e = MediaError::TooManyPixels {
            what: "video frame",
            width: 0,
            height: 0,
            max_pixels: 100,
            max_dimension: u32::MAX,
        };
        assert_eq!(
            e.to_string(),
            "the video frame is too large, over the limit (100 pixels)"
        );
        assert_eq!(MediaError::NoVideoStream.http_status(), 400);
        assert_eq!(MediaError::Internal("x".into()).http_status(), 500);
        let e = MediaError::UnsupportedFormat("HEIF images are not supported".into());
        assert_eq!(
            e.to_string(),
            "unsupported format: HEIF images are not supported"
        );
    }
}
