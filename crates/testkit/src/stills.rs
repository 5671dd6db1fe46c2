//! The stills the speed measurements are quoted on (issue #15), made the same way by every
//! benchmark so their figures can be compared.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A 640×480 NUAA webcam capture, used as it is (relative to the test data folder).
pub const WEBCAM_640X480: &str = "nuaa_train/live/0001_0001_00_00_01_0.jpg";

/// Runs `ffmpeg -v error -y ARGS…`; panics when it fails.
pub fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "ffmpeg {args:?} failed");
}

/// Writes `portrait_12mp.jpg` into `dir`: a press portrait (`faces/fr_obama.jpg`, 910×1137)
/// scaled to a 12 MP 3000×4000 JPEG at high quality, as a phone would upload it.
pub fn portrait_12mp(testdata: &Path, dir: &Path) -> PathBuf {
    scaled_jpeg(
        &testdata.join("faces/fr_obama.jpg"),
        "3000:4000",
        dir.join("portrait_12mp.jpg"),
    )
}

/// The pipeline bench's 12 MP (4032×3024) selfie JPEG: a spoof still scaled up.
pub fn selfie_12mp(testdata: &Path, dir: &Path) -> PathBuf {
    scaled_jpeg(
        &testdata.join("spoof/sfas_image_T1.jpg"),
        "4032:3024",
        dir.join("12mp.jpg"),
    )
}

/// `source` scaled to `size` (FFmpeg's `W:H`) as a high-quality JPEG at `out`.
fn scaled_jpeg(source: &Path, size: &str, out: PathBuf) -> PathBuf {
    let scale = format!("scale={size}");
    ffmpeg(&[
        "-i",
        source.to_str().unwrap(),
        "-vf",
        &scale,
        "-q:v",
        "2",
        out.to_str().unwrap(),
    ]);
    out
}

/// The pipeline bench's 10 s 720×1280 30 fps H.264 High clip of the blink selfie video, with
/// B-frames (x264's default of up to 2 in a row).
pub fn selfie_clip_720p(testdata: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("720p_high.mp4");
    ffmpeg(&[
        "-i",
        testdata
            .join("videos/blinkdetector_selfie_blinks.mp4")
            .to_str()
            .unwrap(),
        "-t",
        "10",
        "-vf",
        "scale=720:1280,fps=30",
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-bf",
        "2",
        "-an",
        out.to_str().unwrap(),
    ]);
    out
}

/// `clip` re-encoded as H.264 High without B-frames, where every frame must be decoded.
pub fn without_b_frames(clip: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("720p_high_no_bframes.mp4");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-bf",
        "0",
        out.to_str().unwrap(),
    ]);
    out
}
