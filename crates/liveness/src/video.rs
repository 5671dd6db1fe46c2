//! The video path: one pass of decoding feeds two streams of analysis.
//!
//! The sampled stream (every `frame_sampling_rate`-th frame, capped) gets the full per-frame
//! treatment: face, PAD, eye openness, and is kept for facematch. The dense stream (about
//! [`policy::DENSE_TARGET_FPS`]) gets a face and eye openness, for blinks and motion.
//! Decoding runs on its own thread and hands frames over a small bounded channel, so decoding
//! and inference overlap on the two cores without buffering the video.

use crate::blink::{self, BlinkReport, EyeSample};
use crate::face_pick;
use crate::findings::Finding;
use crate::fusion::{self, VideoSignals};
use crate::models::Models;
use crate::motion::{self, MotionReport};
use crate::pad;
use crate::policy;
use crate::still::internal;
use crate::{AnalysisError, MediaField};
use image::RgbImage;
use serde::Serialize;
use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::Instant;
use vision::{EyeOpenness, Face};

#[derive(Debug, Clone, Serialize)]
pub struct FrameObservation {
    pub index: u64,
    pub time_s: f64,
    pub face: Option<Face>,
    pub face_count: usize,
    pub finding: Option<Finding>,
    pub pad: Option<f32>,
    pub pad_per_model: Vec<(String, f32)>,
    pub eyes: Option<EyeOpenness>,
}

pub struct VideoOutcome {
    pub info: media::VideoInfo,
    /// The sampled stream, in order.
    pub frames: Vec<FrameObservation>,
    /// Face crops of sampled frames with a usable face, kept for facematch: (index into
    /// `frames`, crop, the face in crop coordinates). Crops, not frames, bound the memory.
    pub kept: Vec<(usize, RgbImage, Face)>,
    pub blinks: BlinkReport,
    pub motion: MotionReport,
    pub dense_frames: usize,
    pub timings: StageTimings,
}

impl VideoOutcome {
    /// The fusion's inputs from this video; `still_pad` as [`VideoSignals::still_pad`].
    pub fn signals(&self, still_pad: Option<Option<f32>>) -> VideoSignals {
        let pads: Vec<f32> = self.frames.iter().filter_map(|f| f.pad).collect();
        VideoSignals {
            frames_pad: (!pads.is_empty()).then(|| pads.iter().sum::<f32>() / pads.len() as f32),
            still_pad,
            motion: fusion::motion_score(self.motion.median_residual, self.motion.pairs),
            blink: self.blinks.detected(),
        }
    }
}

pub struct VideoWork {
    pub every_nth: u32,
    pub max_sampled: u32,
    /// Legacy mode only looks for blinks: no PAD on sampled frames.
    pub pad_on_sampled: bool,
}

pub fn analyse(
    models: &Models,
    bytes: &[u8],
    work: &VideoWork,
) -> Result<VideoOutcome, AnalysisError> {
    let media_err = |e: media::MediaError| AnalysisError::media(MediaField::Video, e);
    let probe = media::probe_video(bytes).map_err(media_err)?;
    let dense_every = if probe.fps > 0.0 {
        ((probe.fps / policy::DENSE_TARGET_FPS).round() as u32).max(1)
    } else {
        2
    };
    let plan = media::VideoPlan {
        every_nth: work.every_nth,
        max_sampled: work.max_sampled,
        dense_every: Some(dense_every),
        max_long_side: policy::VIDEO_LONG_SIDE,
        decode_threads: policy::VIDEO_DECODE_THREADS,
        limits: media::VideoLimits::default(),
    };

    let (tx, rx) = mpsc::sync_channel::<media::SampledFrame>(4);
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            media::decode_video(bytes, &plan, &mut |frame| match tx.send(frame) {
                Ok(()) => ControlFlow::Continue(()),
                // The analysis side stopped (an error): stop decoding too.
                Err(_) => ControlFlow::Break(()),
            })
        });
        let consumed = consume(models, rx, work);
        let decoded = decoder
            .join()
            .map_err(|_| AnalysisError::Internal("video decoder thread panicked".into()))?;
        // A decode error explains an analysis that stopped early, so it is reported first.
        let info = decoded.map_err(media_err)?;
        let c = consumed?;
        Ok(VideoOutcome {
            info,
            frames: c.frames,
            kept: c.kept,
            blinks: c.blinks,
            motion: c.motion,
            dense_frames: c.dense_frames,
            timings: c.timings,
        })
    })
}

fn consume(
    models: &Models,
    rx: mpsc::Receiver<media::SampledFrame>,
    work: &VideoWork,
) -> Result<Consumed, AnalysisError> {
    let mut frames = Vec::new();
    let mut kept = Vec::new();
    let mut eye_samples = Vec::new();
    let mut track: Vec<(f64, Face)> = Vec::new();
    let mut dense_frames = 0;
    // The face found most recently, to track from on frames that get no whole-frame search.
    let mut last: Option<(f64, Face)> = None;
    let mut timings = StageTimings::default();
    for frame in rx {
        let recent = last
            .as_ref()
            .filter(|(t, _)| frame.time_s - t <= policy::TRACK_MAX_GAP_S)
            .map(|(_, f)| f);
        // Sampled frames always get the whole-frame search: their face count is evidence
        // (another person in the frame) and they anchor the tracking.
        let t = Instant::now();
        let tracked = match (frame.sampled, recent) {
            (false, Some(prev)) => models
                .detector
                .track(&frame.image, prev)
                .map_err(internal)?,
            _ => None,
        };
        let picked = match tracked {
            Some(face) => {
                timings.track_ms += ms(t);
                face_pick::tracked(face)
            }
            None => {
                let p = face_pick::pick(models.detector.detect(&frame.image).map_err(internal)?);
                timings.detect_ms += ms(t);
                p
            }
        };
        let usable = picked.unusable.is_none();
        if let (Some(f), true) = (&picked.face, usable) {
            last = Some((frame.time_s, f.clone()));
        }
        let t = Instant::now();
        let eyes = match (&picked.face, usable) {
            (Some(f), true) => Some(models.eyes.openness(&frame.image, f).map_err(internal)?),
            _ => None,
        };
        timings.eyes_ms += ms(t);
        if frame.dense {
            dense_frames += 1;
            eye_samples.push(EyeSample {
                time_s: frame.time_s,
                ear: eyes.map(|e| (e.left + e.right) / 2.0),
            });
            if let (Some(f), true) = (&picked.face, usable) {
                track.push((frame.time_s, f.clone()));
            }
        }
        if frame.sampled {
            let mut obs = FrameObservation {
                index: frame.index,
                time_s: frame.time_s,
                face: picked.face.clone(),
                face_count: picked.face_count,
                finding: picked.unusable,
                pad: None,
                pad_per_model: Vec::new(),
                eyes,
            };
            if let (Some(f), true) = (&picked.face, usable) {
                if work.pad_on_sampled {
                    let t = Instant::now();
                    let s = pad::score(models, &frame.image, f).map_err(internal)?;
                    timings.pad_ms += ms(t);
                    obs.pad = Some(s.fused);
                    obs.pad_per_model = s.per_model;
                }
                let (crop, face) = crop_around(&frame.image, f);
                kept.push((frames.len(), crop, face));
            }
            frames.push(obs);
        }
    }
    let blinks = blink::detect(&eye_samples);
    // Compare keypoints about 0.2 s apart: long enough for real motion to exceed jitter.
    let step = ((policy::DENSE_TARGET_FPS * 0.2).round() as usize).max(1);
    let motion = motion::measure(&track, step);
    Ok(Consumed {
        frames,
        kept,
        blinks,
        motion,
        dense_frames,
        timings,
    })
}

/// CPU time per stage of the frame analysis, summed over frames (evidence and tuning).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    pub detect_ms: f64,
    pub track_ms: f64,
    pub eyes_ms: f64,
    pub pad_ms: f64,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

struct Consumed {
    timings: StageTimings,
    frames: Vec<FrameObservation>,
    kept: Vec<(usize, RgbImage, Face)>,
    blinks: BlinkReport,
    motion: MotionReport,
    dense_frames: usize,
}

/// The face with a margin of one face size on each side: enough context for any aligner.
fn crop_around(image: &RgbImage, face: &Face) -> (RgbImage, Face) {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let x0 = (face.bbox.x - face.bbox.w).clamp(0.0, w - 1.0).floor();
    let y0 = (face.bbox.y - face.bbox.h).clamp(0.0, h - 1.0).floor();
    let x1 = (face.bbox.x + 2.0 * face.bbox.w).clamp(x0 + 1.0, w).ceil();
    let y1 = (face.bbox.y + 2.0 * face.bbox.h).clamp(y0 + 1.0, h).ceil();
    let crop = image::imageops::crop_imm(
        image,
        x0 as u32,
        y0 as u32,
        (x1 - x0) as u32,
        (y1 - y0) as u32,
    )
    .to_image();
    let mut shifted = face.clone();
    shifted.bbox.x -= x0;
    shifted.bbox.y -= y0;
    for p in shifted.keypoints.iter_mut() {
        p.x -= x0;
        p.y -= y0;
    }
    (crop, shifted)
}
