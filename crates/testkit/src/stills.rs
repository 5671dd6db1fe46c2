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
    let out = dir.join("portrait_12mp.jpg");
    ffmpeg(&[
        "-i",
        testdata.join("faces/fr_obama.jpg").to_str().unwrap(),
        "-vf",
        "scale=3000:4000",
        "-q:v",
        "2",
        out.to_str().unwrap(),
    ]);
    out
}
