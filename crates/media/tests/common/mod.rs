//! Test helpers: the shared test data folder, fixture videos and images made with the `ffmpeg`
//! command-line tool into a temporary folder (once per test binary), image comparison and a
//! tiny deterministic PRNG for the mutation tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

#[allow(unused_imports)]
pub use testkit::testdata;

/// Reads a file under the test data folder; `None` (skip) when the folder is absent.
pub fn testfile(rel: &str) -> Option<Vec<u8>> {
    let dir = testdata()?;
    let p = dir.join(rel);
    Some(std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// True when the ffmpeg CLI is there. Absent: a loud skip, or a failure under CI.
pub fn have_ffmpeg() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    let have = *HAVE.get_or_init(|| {
        Command::new("ffmpeg")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "the ffmpeg command-line tool is missing under CI (scripts/install-system-deps.sh installs it)"
            );
        }
        eprintln!("\n*** SKIPPED: the ffmpeg command-line tool is not installed ***\n");
    }
    have
}

/// The folder fixtures are written to: cargo's per-target scratch folder for tests, so that
/// nothing is left in /tmp and reruns reuse what was made. Bump the version when a fixture's
/// recipe changes.
pub fn fixture_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("media-fixtures-v1");
        std::fs::create_dir_all(&d).expect("fixture dir");
        d
    })
}

/// Runs ffmpeg (quiet, overwrite) with `args`; panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fixture made once per test binary: `make(path)` writes it; its bytes are returned.
/// `None` when ffmpeg is missing (skip).
pub fn fixture(name: &str, make: impl FnOnce(&str)) -> Option<Vec<u8>> {
    if !have_ffmpeg() {
        return None;
    }
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = fixture_dir().join(name);
    if !path.exists() {
        let tmp = fixture_dir().join(format!("tmp-{}-{name}", std::process::id()));
        make(tmp.to_str().expect("utf-8 temp path"));
        std::fs::rename(&tmp, &path).expect("rename fixture");
    }
    Some(std::fs::read(&path).expect("read fixture"))
}

/// Standard 2 s, 320x240, 30 fps test pattern, encoded with `codec_args` into `path`.
pub fn testsrc(path: &str, codec_args: &[&str]) {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30:duration=2",
    ];
    args.extend_from_slice(codec_args);
    args.push(path);
    ffmpeg(&args);
}

pub fn h264_high() -> Option<Vec<u8>> {
    fixture("h264_high.mp4", |p| {
        testsrc(
            p,
            &[
                "-c:v",
                "libx264",
                "-profile:v",
                "high",
                "-pix_fmt",
                "yuv420p",
                "-bf",
                "2",
            ],
        )
    })
}

pub fn h264_baseline() -> Option<Vec<u8>> {
    fixture("h264_baseline.mp4", |p| {
        testsrc(
            p,
            &[
                "-c:v",
                "libx264",
                "-profile:v",
                "baseline",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    })
}

pub fn hevc() -> Option<Vec<u8>> {
    fixture("hevc.mp4", |p| {
        testsrc(
            p,
            &[
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error",
                "-tag:v",
                "hvc1",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    })
}

pub fn vp8_webm() -> Option<Vec<u8>> {
    fixture("vp8.webm", |p| {
        testsrc(
            p,
            &["-c:v", "libvpx", "-b:v", "500k", "-deadline", "realtime"],
        )
    })
}

pub fn vp9_webm() -> Option<Vec<u8>> {
    fixture("vp9.webm", |p| {
        testsrc(
            p,
            &[
                "-c:v",
                "libvpx-vp9",
                "-b:v",
                "300k",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
            ],
        )
    })
}

/// VP9 WebM written to a pipe, like MediaRecorder: no duration, no cues in the header.
pub fn vp9_webm_no_duration() -> Option<Vec<u8>> {
    fixture("vp9_stream.webm", |p| {
        let out = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-f",
                "lavfi",
                "-i",
            ])
            .args([
                "testsrc=size=320x240:rate=30:duration=2",
                "-c:v",
                "libvpx-vp9",
                "-b:v",
                "300k",
            ])
            .args([
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-f",
                "webm",
                "pipe:1",
            ])
            .output()
            .expect("run ffmpeg");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(p, out.stdout).expect("write");
    })
}

/// H.264 with a display matrix saying "rotate 90°" (FFmpeg 5.1: the `rotate` tag; it stores
/// counter-clockwise 90, and `ffmpeg` shows the frames rotated that way).
pub fn rotated_90() -> Option<Vec<u8>> {
    let src = h264_high()?;
    fixture("rot90.mp4", |p| {
        let input = fixture_dir().join("rot90-src.mp4");
        std::fs::write(&input, &src).unwrap();
        ffmpeg(&[
            "-i",
            input.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            p,
        ]);
    })
}

/// AAC in MP4, no video.
pub fn audio_only() -> Option<Vec<u8>> {
    fixture("audio.m4a", |p| {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:a",
            "aac",
            p,
        ])
    })
}

/// The first frame of `video` as ffmpeg itself shows it (auto-rotation on), decoded to RGB.
pub fn ffmpeg_first_frame(name: &str, video: &[u8]) -> Option<image::RgbImage> {
    let bytes = fixture(&format!("{name}-frame0.png"), |p| {
        let input = fixture_dir().join(format!("{name}-frame0-src"));
        std::fs::write(&input, video).unwrap();
        ffmpeg(&[
            "-i",
            input.to_str().unwrap(),
            "-frames:v",
            "1",
            "-pix_fmt",
            "rgb24",
            p,
        ]);
    })?;
    Some(image::load_from_memory(&bytes).expect("png").into_rgb8())
}

/// Frame count by ffprobe decoding every frame: an independent oracle.
pub fn ffprobe_frame_count(path: &Path) -> u64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    let s = String::from_utf8_lossy(&out.stdout);
    s.trim()
        .trim_end_matches(',')
        .parse()
        .unwrap_or_else(|_| panic!("ffprobe said {s:?} for {}", path.display()))
}

/// Mean absolute difference per channel (0–255) of two same-size images.
pub fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "image sizes differ");
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y) as u64)
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

/// Resizes `b` to `a`'s size (bilinear) and compares.
pub fn mean_abs_diff_resized(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let (w, h) = a.dimensions();
    let b = image::imageops::resize(b, w, h, image::imageops::FilterType::Triangle);
    mean_abs_diff(a, &b)
}

/// xorshift64*: deterministic, dependency-free randomness for mutation tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A position in `0..len`, half the time within the first or last 4 KiB (where the headers
/// and indexes are).
fn pos(rng: &mut Rng, len: usize) -> usize {
    match rng.below(4) {
        0 => rng.below(len.min(4096)),
        1 => len - 1 - rng.below(len.min(4096)),
        _ => rng.below(len),
    }
}

/// One random mutation: flipped bits, an overwritten run, a cut, or a duplicated chunk.
pub fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..1 + rng.below(16) {
                let i = pos(rng, v.len());
                v[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let i = pos(rng, v.len());
            let n = (1 + rng.below(64)).min(v.len() - i);
            for b in &mut v[i..i + n] {
                *b = rng.next() as u8;
            }
        }
        2 => {
            let n = rng.below(v.len());
            v.truncate(n.max(1));
        }
        _ => {
            let i = rng.below(v.len());
            let n = (1 + rng.below(4096)).min(v.len() - i);
            let chunk = v[i..i + n].to_vec();
            let at = rng.below(v.len());
            v.splice(at..at, chunk);
        }
    }
    v
}
