//! Measures the planarity cue (see `liveness::planarity`) on labelled videos.
//!
//! ```sh
//! planarity_eval [--every N] [--crop detector|refine|track] [--dump DIR] KIND:VIDEO...
//! ```
//!
//! Each video is decoded at ≤ 640 px, every N-th frame (3 by default) gets the BlazeFace
//! detector and the 468-point face mesh, and the per-video statistics of the homography
//! residuals between frame pairs are printed as a table, one row per video, with the kind given
//! on the command line (`live`, `replay`, `flat_zoom`, …) as the first column. `--dump` writes
//! every pair's fit as `DIR/<video>.tsv` for a closer look.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use liveness::planarity::{self, PlanarityConfig, quantile};
use vision::blazeface::BlazeFace;
use vision::mesh::{FaceMesh, MeshLandmarks};
use vision::{Face, FaceDetector, ModelStore, Point, Runtime};

/// The detector score below which a box is not taken as the face (the product's own bar).
const MIN_SCORE: f32 = 0.6;
/// Mesh face-presence below which the points are not trusted.
const MIN_PRESENCE: f32 = 0.5;

/// Where each frame's mesh crop comes from.
#[derive(Clone, Copy, PartialEq)]
enum CropMode {
    /// The detector's box and eye keypoints.
    Detector,
    /// A second mesh pass on a crop placed from the first pass's mesh.
    Refine,
    /// The previous frame's mesh (MediaPipe's tracking); the detector only (re)starts it.
    Track,
}

struct Args {
    every: u32,
    crop: CropMode,
    dump: Option<PathBuf>,
    videos: Vec<(String, PathBuf)>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        every: 3,
        crop: CropMode::Refine,
        dump: None,
        videos: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--every" => {
                args.every = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--every needs a number")?
            }
            "--crop" => {
                args.crop = match it.next().as_deref() {
                    Some("detector") => CropMode::Detector,
                    Some("refine") => CropMode::Refine,
                    Some("track") => CropMode::Track,
                    _ => return Err("--crop needs detector, refine or track".into()),
                }
            }
            "--dump" => args.dump = Some(it.next().ok_or("--dump needs a folder")?.into()),
            _ => {
                let (kind, path) = arg
                    .split_once(':')
                    .ok_or_else(|| format!("expected KIND:VIDEO, got {arg}"))?;
                args.videos.push((kind.to_string(), path.into()));
            }
        }
    }
    if args.videos.is_empty() {
        return Err("usage: planarity_eval [--every N] [--crop detector|refine|track] [--dump DIR] KIND:VIDEO...".into());
    }
    Ok(args)
}

/// What one video gave.
struct MeshTrack {
    /// Frames analysed.
    frames: usize,
    /// (time in s, mesh) for every analysed frame with a face.
    meshes: Vec<(f64, Vec<Point>)>,
    /// Each first-pass mesh inference (crop included).
    times: Vec<Duration>,
}

/// The face mesh of every analysed frame that has a face, and the mesh's inference times.
fn mesh_track(
    bytes: &[u8],
    every: u32,
    crop: CropMode,
    detector: &BlazeFace,
    mesh: &FaceMesh,
) -> Result<MeshTrack, String> {
    let plan = media::VideoPlan {
        every_nth: every,
        max_sampled: 100_000,
        dense_every: None,
        max_long_side: 640,
        decode_threads: 1,
        skip_h264_deblocking: false,
        limits: media::VideoLimits {
            // Inference runs inside the decoding callback, so the budget covers it too.
            time_budget: Duration::from_secs(900),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut track = Vec::new();
    let mut times = Vec::new();
    let mut frames = 0;
    let mut failure = None;
    let mut previous: Option<MeshLandmarks> = None;
    media::decode_video(bytes, &plan, &mut |frame| {
        let Some(image) = frame.image.rgb().filter(|_| frame.sampled) else {
            return ControlFlow::Continue(());
        };
        frames += 1;
        let result = (|| -> Result<(), vision::VisionError> {
            let tracked = match (&previous, crop) {
                (Some(prev), CropMode::Track) => Some(mesh.landmarks_from(image, prev)?),
                _ => None,
            };
            let landmarks = match tracked.filter(|m| m.presence >= MIN_PRESENCE) {
                Some(m) => m,
                None => {
                    let face: Option<Face> = detector
                        .detect(image)?
                        .into_iter()
                        .filter(|f| f.score >= MIN_SCORE)
                        .max_by(|a, b| (a.bbox.w * a.bbox.h).total_cmp(&(b.bbox.w * b.bbox.h)));
                    let Some(face) = face else {
                        previous = None;
                        return Ok(());
                    };
                    let t = Instant::now();
                    let first = mesh.landmarks(image, &face)?;
                    times.push(t.elapsed());
                    if crop == CropMode::Detector {
                        first
                    } else {
                        mesh.landmarks_from(image, &first)?
                    }
                }
            };
            if landmarks.presence >= MIN_PRESENCE {
                track.push((frame.time_s, landmarks.points.clone()));
                previous = Some(landmarks);
            } else {
                previous = None;
            }
            Ok(())
        })();
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e.to_string());
                ControlFlow::Break(())
            }
        }
    })
    .map_err(|e| e.to_string())?;
    match failure {
        Some(e) => Err(e),
        None => Ok(MeshTrack {
            frames,
            meshes: track,
            times,
        }),
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.4}"))
}

fn main() -> Result<(), String> {
    let args = parse_args()?;
    let store = ModelStore::open_default().map_err(|e| e.to_string())?;
    let runtime = Runtime::from_store(&store).map_err(|e| e.to_string())?;
    let detector = BlazeFace::load(&runtime, &store).map_err(|e| e.to_string())?;
    let mesh = FaceMesh::load(&runtime, &store).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.dump {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let config = PlanarityConfig::default();
    println!(
        "kind\tvideo\tframes\tmeshes\tpairs\tmoving\tmedian_all\tp90_all\tp50_moving\tp90_moving\tmax\tp90_deformation"
    );
    let mut all_times = Vec::new();
    for (kind, path) in &args.videos {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let MeshTrack {
            frames,
            meshes: track,
            times,
        } = mesh_track(&bytes, args.every, args.crop, &detector, &mesh)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        all_times.extend(times);
        let report = planarity::measure_with(&track, &config);
        let name = Path::new(path).file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into(),
        );
        if let Some(dir) = &args.dump {
            let mut text = String::from("t0\tt1\tresidual\tdeformation\tdisplacement\n");
            for f in &report.fits {
                text += &format!(
                    "{:.3}\t{:.3}\t{:.5}\t{:.5}\t{:.5}\n",
                    f.t0, f.t1, f.residual, f.deformation, f.displacement
                );
            }
            std::fs::write(dir.join(format!("{name}.tsv")), text).map_err(|e| e.to_string())?;
        }
        let mut residuals: Vec<f64> = report.fits.iter().map(|f| f.residual).collect();
        let mut moving: Vec<f64> = report
            .fits
            .iter()
            .filter(|f| f.deformation >= config.min_deformation)
            .map(|f| f.residual)
            .collect();
        let mut deformations: Vec<f64> = report.fits.iter().map(|f| f.deformation).collect();
        println!(
            "{kind}\t{name}\t{frames}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            report.frames,
            report.pairs,
            report.moving_pairs,
            fmt(report.median_residual_all),
            fmt(quantile(&mut residuals, 0.9)),
            fmt(quantile(&mut moving, 0.5)),
            fmt(report.residual),
            fmt(quantile(&mut residuals, 1.0)),
            fmt(quantile(&mut deformations, 0.9)),
        );
    }
    all_times.sort();
    if !all_times.is_empty() {
        eprintln!(
            "face mesh (crop + inference): median {:.2} ms over {} faces",
            all_times[all_times.len() / 2].as_secs_f64() * 1e3,
            all_times.len()
        );
    }
    Ok(())
}
