//! `livegate probe FILE`: prints, as JSON, what the media layer sees in a file: for a still its
//! format, original (upright) size, EXIF orientation and how it would be decoded; for a video
//! its container, codec, profile, displayed and coded size, rotation, frame count, frame rate and
//! duration. The format is sniffed from the bytes, never from the file name.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

pub fn run(path: &Path) -> anyhow::Result<()> {
    let limit = media::StillLimits::default()
        .max_bytes
        .max(media::VideoLimits::default().max_bytes);
    let bytes = crate::read_media::read_at_most(path, limit, "file")?;
    if bytes.is_empty() {
        bail!("{}: the file is empty", path.display());
    }
    let kind = media::sniff(&bytes);
    let started = Instant::now();
    let report = match kind {
        media::Kind::Still(_) => {
            let opts = media::StillOptions::default();
            let still = media::decode_still(&bytes, &opts).map_err(|e| explain(path, e))?;
            json!({
                "file": path.display().to_string(),
                "bytes": bytes.len(),
                "kind": "image",
                "image": still.info,
                "decoded_size": [still.image.width(), still.image.height()],
                "decode_target_long_side": opts.target_long_side,
                "decode_ms": ms(started.elapsed()),
            })
        }
        media::Kind::Video(_) => {
            // A diagnostic tool looks at long videos too: generous limits, not the service's.
            let limits = media::VideoLimits {
                max_frames: 1_000_000,
                max_duration_s: 24.0 * 3600.0,
                time_budget: Duration::from_secs(600),
                ..media::VideoLimits::default()
            };
            let info = media::probe_video_with(&bytes, &limits).map_err(|e| explain(path, e))?;
            json!({
                "file": path.display().to_string(),
                "bytes": bytes.len(),
                "kind": "video",
                "video": info,
                "probe_ms": ms(started.elapsed()),
            })
        }
        media::Kind::Other(name) => bail!(
            "{}: {name} is neither an image nor a video this build reads",
            path.display()
        ),
        media::Kind::Unknown => bail!(
            "{}: unrecognised data (not an image or video format this build reads)",
            path.display()
        ),
    };
    let text = serde_json::to_string_pretty(&report)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        // `livegate probe x | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn explain(path: &Path, e: media::MediaError) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: {e} [{}; the API would answer {}]",
        path.display(),
        e.code(),
        e.http_status()
    )
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}
