//! Untrusted bytes → correctly oriented RGB frames, with limits. Knows nothing about faces.
//!
//! - [`sniff`]: what the bytes are, from their signature (never from a file name).
//! - [`decode_still`]: JPEG, PNG, WebP, BMP, TIFF, GIF (first frame), HEIC/HEIF and AVIF (with the
//!   default `heif` feature) → upright RGB, limits checked from the header before allocating,
//!   large JPEGs decoded at reduced size in the DCT.
//! - [`decode_video`] / [`probe_video`]: MP4/MOV (H.264, HEVC), WebM (VP8, VP9, AV1), AVI through
//!   FFmpeg → rotated RGB frames in an every-Nth stream and an optional denser one, frames
//!   counted, a time and frame budget per video.
//! - [`MediaError`]: one error type; [`MediaError::http_status`] says 413 vs 400.
//!
//! Everything here is synchronous and CPU-bound: call it from a blocking worker, never on an
//! async reactor.

mod budget;
mod ebml;
mod error;
mod heif;
mod jpeg;
mod orientation;
mod resize;
mod skip;
mod sniff;
mod still;
mod video;

pub use budget::{DEFAULT_DECODE_BUDGET, decode_budget_in_use, set_decode_budget};
pub use error::MediaError;
pub use orientation::{apply_orientation, read_exif_orientation};
pub use sniff::{Container, Kind, StillFormat, sniff};
pub use still::{Still, StillInfo, StillLimits, StillOptions, decode_still};
pub use video::{
    FrameImage, ReducedSampling, SampledFrame, VideoInfo, VideoLimits, VideoPlan, decode_video,
    probe_video, probe_video_with,
};

/// True when this build decodes HEIC/HEIF and AVIF stills (the `heif` feature, libheif).
pub fn heif_supported() -> bool {
    cfg!(feature = "heif")
}
