//! The video path: one pass of decoding feeds two streams of analysis.
//!
//! The sampled stream (every `frame_sampling_rate`-th frame, capped) gets the full per-frame
//! treatment: face, PAD, eye openness, and is kept for facematch. The dense stream (about
//! [`policy::DENSE_TARGET_FPS`]) gets a face and eye openness, for blinks and motion.
//! Decoding runs on its own thread and hands frames over a small bounded channel, so decoding
//! and inference overlap on the two cores without buffering the video.

use crate::analysis::VideoEvidence;
use crate::blink::{self, BlinkReport, DenseSample};
use crate::eye_track::EyeTracker;
use crate::face_pick::{self, Picked};
use crate::findings::Finding;
use crate::fusion;
use crate::models::Models;
use crate::pad;
use crate::planarity::{self, PlanarityReport};
use crate::policy;
use crate::still::internal;
use crate::thinned::Thinned;
use crate::{AnalysisError, MediaField};
use image::RgbImage;
use media::FrameImage;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::Instant;
use vision::{Embedding, EyeChips, EyeOpenness, Face, Point};

#[derive(Debug, Clone, Serialize)]
pub struct FrameObservation {
    pub index: u64,
    pub time_s: f64,
    pub face: Option<Face>,
    pub face_count: usize,
    /// The face came from a whole-frame search (its `face_count` is current), not tracking.
    pub whole_frame_search: bool,
    pub finding: Option<Finding>,
    pub pad: Option<f32>,
    pub pad_per_model: Vec<(String, f32)>,
    pub eyes: Option<EyeOpenness>,
    /// `eyes` were read by the eye model; otherwise the frame's eye chips matched the
    /// open-eye reference and its reading was carried over.
    pub eyes_by_model: bool,
}

pub struct VideoOutcome {
    pub info: media::VideoInfo,
    /// The sampled stream, in order.
    pub frames: Vec<FrameObservation>,
    /// Face crops of the client's frames with a usable face, kept for facematch and the
    /// challenge's same-face check: (index into `frames`, crop, the face in crop
    /// coordinates). Crops, not frames, bound the memory.
    pub kept: Vec<(usize, RgbImage, Face)>,
    /// Face crops of frames sampled only for a challenge's pose, one at most every
    /// [`policy::CHALLENGE_IDENTITY_EVERY_S`] where no client frame was kept, so that the
    /// same-face check sees every step's window (the client's 20 frames at its default
    /// sampling end at 10 s; a four-step challenge records 14 s). From the reduced picture.
    pub pose_kept: Vec<(usize, RgbImage, Face)>,
    pub blinks: BlinkReport,
    /// Non-planar motion of the face mesh across the sampled frames.
    pub motion: PlanarityReport,
    pub dense_frames: usize,
    pub timings: StageTimings,
    /// Which of `frames` the client's sampling asked for (the others were sampled only for a
    /// challenge's pose).
    pub client: ClientFrames,
    /// Embeddings of kept crops taken during decoding, for facematch.
    pub embedded_ahead: Option<EmbeddedAhead>,
}

/// Embeddings of the kept crops at `picks` (indices into [`VideoOutcome::kept`]), made on the
/// side thread as soon as the client's frames were all in.
#[derive(Debug, Clone)]
pub struct EmbeddedAhead {
    pub picks: Vec<usize>,
    pub embeddings: Vec<Embedding>,
}

impl VideoOutcome {
    /// The sampled frames the client's `frame_sampling_rate` asked for: what
    /// `video_frames_analyzed` counts, with or without a challenge's extra pose frames.
    pub fn client_frames(&self) -> impl Iterator<Item = &FrameObservation> {
        let client = self.client;
        self.frames
            .iter()
            .enumerate()
            .filter(move |(slot, _)| client.asked(*slot))
            .map(|(_, f)| f)
    }

    /// The fusion's inputs from this video; `still_pad` as [`VideoSignals::still_pad`].
    /// What the video measured, for [`crate::decide::decide`].
    pub fn measures(&self) -> crate::decide::VideoMeasures {
        let pads: Vec<f32> = self.frames.iter().filter_map(|f| f.pad).collect();
        crate::decide::VideoMeasures {
            frames_pad: (!pads.is_empty()).then(|| pads.iter().sum::<f32>() / pads.len() as f32),
            motion: fusion::motion_score(&self.motion),
            blink: self.blinks.detected(),
            face_seen: self
                .frames
                .iter()
                .any(|f| f.face.is_some() && f.finding.is_none()),
        }
    }

    /// The evidence, once the kept crops are no longer needed.
    pub fn into_evidence(self) -> VideoEvidence {
        VideoEvidence {
            info: self.info,
            frames: self.frames,
            dense_frames: self.dense_frames,
            blinks: self.blinks,
            motion: self.motion,
            stage_ms: self.timings,
        }
    }
}

pub struct VideoWork {
    pub every_nth: u32,
    pub max_sampled: u32,
    /// Legacy mode only looks for blinks: no PAD on sampled frames.
    pub pad_on_sampled: bool,
    /// Which sampled frames the client's own sampling asked for.
    pub client: ClientFrames,
    /// A facematch against a still will embed this many of the kept crops
    /// ([`crate::facematch::spread`]): they are embedded during decoding, once the client's
    /// frames are all in, instead of after it.
    pub facematch_frames: Option<u32>,
}

/// The sampled frames the client's `frame_sampling_rate` and `max_frames_to_analyze` ask
/// for: all of them, except when a challenge samples more often and longer to follow the
/// head's pose. PAD, the mesh and the eye anchors run on these only, and the frame counts of
/// the answer count these only, so a challenge adds pose readings and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFrames {
    /// Every this many sampled frames is one of the client's.
    pub every: usize,
    /// At most this many of them.
    pub max: usize,
}

impl ClientFrames {
    /// Whether the sampled frame at `slot` is one the client asked for.
    pub fn asked(&self, slot: usize) -> bool {
        let every = self.every.max(1);
        slot.is_multiple_of(every) && slot / every < self.max
    }
}

impl VideoWork {
    /// The sampled frames outside the client's, when there are any, in colour at
    /// [`policy::POSE_LONG_SIDE`].
    fn reduced_sampling(&self) -> Option<media::ReducedSampling> {
        let client = self.client;
        let all_clients = client.every <= 1 && client.max >= self.max_sampled as usize;
        (!all_clients).then(|| media::ReducedSampling {
            full_every: client.every.max(1) as u32,
            full_max: client.max.min(u32::MAX as usize) as u32,
            long_side: policy::POSE_LONG_SIDE,
        })
    }

    /// The client's sampling, made dense enough to follow an active challenge's movements
    /// (a head turn lasts about a second) when there is one.
    pub fn for_request(opts: &crate::AnalysisOptions, legacy: bool, challenge: bool) -> Self {
        let (mut every_nth, mut max_sampled) =
            (opts.frame_sampling_rate, opts.max_frames_to_analyze);
        let mut pad_every = 1;
        if challenge && every_nth > policy::CHALLENGE_SAMPLE_EVERY {
            pad_every = every_nth.div_ceil(policy::CHALLENGE_SAMPLE_EVERY) as usize;
            every_nth = policy::CHALLENGE_SAMPLE_EVERY;
        }
        if challenge {
            max_sampled = max_sampled.max(policy::CHALLENGE_MAX_SAMPLED);
        }
        VideoWork {
            every_nth,
            max_sampled,
            pad_on_sampled: !legacy,
            client: ClientFrames {
                every: pad_every,
                max: opts.max_frames_to_analyze as usize,
            },
            facematch_frames: None,
        }
    }
}

pub fn analyse(
    models: &Models,
    bytes: &[u8],
    work: &VideoWork,
) -> Result<VideoOutcome, AnalysisError> {
    let media_err = |e: media::MediaError| AnalysisError::media(MediaField::Video, e);
    let plan = media::VideoPlan {
        every_nth: work.every_nth,
        max_sampled: work.max_sampled,
        dense_every: None,
        dense_fps: Some(policy::DENSE_TARGET_FPS),
        max_long_side: policy::VIDEO_LONG_SIDE,
        decode_threads: policy::VIDEO_DECODE_THREADS,
        skip_h264_deblocking: policy::VIDEO_SKIP_H264_DEBLOCKING,
        // Dense-only frames are followed in luma (see `eye_track`); only sampled frames need colour.
        dense_luma: true,
        // Frames sampled only for a challenge's pose need the face's keypoints: colour at a
        // size the tracker reads as well, not a full frame.
        reduced: work.reduced_sampling(),
        limits: media::VideoLimits::default(),
    };

    let (tx, rx) = mpsc::sync_channel::<media::SampledFrame>(policy::VIDEO_FRAME_QUEUE);
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || {
            media::decode_video(bytes, &plan, &mut |frame| match tx.send(frame) {
                Ok(()) => ControlFlow::Continue(()),
                // The analysis side stopped (an error): stop decoding too.
                Err(_) => ControlFlow::Break(()),
            })
        });
        // PAD and mesh of the sampled frames run beside the frame-by-frame work, which needs
        // none of their results to go on: the three threads keep both cores busy.
        let (side_tx, side_rx) = mpsc::sync_channel::<SideJob>(policy::VIDEO_SIDE_QUEUE);
        // On one thread: see `one_thread` for why the PAD's own split is worse here.
        let side_worker =
            scope.spawn(move || crate::one_thread::run(|| side_jobs(models, side_rx))?);
        let consumed = consume(models, rx, side_tx, work);
        let decoded = decoder
            .join()
            .map_err(|_| AnalysisError::Internal("video decoder thread panicked".into()))?;
        let side = side_worker
            .join()
            .map_err(|_| AnalysisError::Internal("video PAD thread panicked".into()))?;
        // A decode error explains an analysis that stopped early, so it is reported first.
        let info = decoded.map_err(media_err)?;
        let mut c = consumed?;
        let side = side?;
        let t = Instant::now();
        let dense_frames = c.blink.dense.len();
        let blinks = c.blink.judge(models, side.looks)?;
        c.timings.eyes_ms += ms(t) + side.looks_ms;
        for (slot, scores) in side.pads {
            if let Some(obs) = c.frames.get_mut(slot) {
                obs.pad = Some(scores.fused);
                obs.pad_per_model = scores.per_model;
            }
        }
        c.timings.pad_ms = side.pad_ms;
        c.timings.mesh_ms = side.mesh_ms;
        let motion = planarity::measure_with(&side.meshes, &policy::motion_pairs());
        Ok(VideoOutcome {
            info,
            frames: c.frames,
            kept: c.kept,
            pose_kept: c.pose_kept,
            blinks,
            motion,
            dense_frames,
            timings: c.timings,
            client: work.client,
            embedded_ahead: side.embedded_ahead,
        })
    })
}

/// Work for the side thread.
enum SideJob {
    /// PAD (and the mesh) of a sampled frame's face; `slot` is its index in the sampled stream.
    Frame {
        slot: usize,
        time_s: f64,
        image: RgbImage,
        face: Face,
        mesh: bool,
    },
    /// The eye model's look at a settled blink candidate, the dense frame at `peak`.
    Look { peak: usize, chips: EyeChips },
    /// Facematch's kept crops (at `picks` in the kept list), final once the client's frames
    /// are all in.
    Embed {
        picks: Vec<usize>,
        crops: Vec<(RgbImage, Face)>,
    },
}

/// What the side thread found.
#[derive(Default)]
struct SideResults {
    pads: Vec<(usize, pad::PadScores)>,
    meshes: Vec<(f64, Vec<Point>)>,
    /// Mean eye openness at the dense frames looked at ahead of the end.
    looks: Vec<(usize, f32)>,
    embedded_ahead: Option<EmbeddedAhead>,
    pad_ms: f64,
    mesh_ms: f64,
    /// The eye model's time on `looks`.
    looks_ms: f64,
}

/// PAD and face mesh of the sampled frames, the eye model's looks at settled blink candidates
/// and facematch's embeddings: work nothing else in the stream waits for, so it runs beside
/// the frame-by-frame analysis instead of after it.
fn side_jobs(models: &Models, jobs: mpsc::Receiver<SideJob>) -> Result<SideResults, AnalysisError> {
    let mut out = SideResults::default();
    for job in jobs {
        match job {
            SideJob::Frame {
                slot,
                time_s,
                image,
                face,
                mesh,
            } => {
                let t = Instant::now();
                let s =
                    pad::score(models, &image, &face, pad::Medium::VideoFrame).map_err(internal)?;
                out.pad_ms += ms(t);
                out.pads.push((slot, s));
                if let (true, Some(model)) = (mesh, &models.mesh) {
                    let t = Instant::now();
                    let points = model.landmarks(&image, &face).map_err(internal)?;
                    out.mesh_ms += ms(t);
                    out.meshes.push((time_s, points));
                }
            }
            SideJob::Look { peak, chips } => {
                let t = Instant::now();
                out.looks.push((peak, look(models, &chips)?));
                out.looks_ms += ms(t);
            }
            SideJob::Embed { picks, crops } => {
                // In order: this thread's pool has one thread (see `analyse`).
                let embeddings = crops
                    .iter()
                    .map(|(crop, face)| models.embedder.embed(crop, face))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(internal)?;
                out.embedded_ahead = Some(EmbeddedAhead { picks, embeddings });
            }
        }
    }
    Ok(out)
}

/// The eye model's mean openness of both eyes in `chips`.
fn look(models: &Models, chips: &EyeChips) -> Result<f32, AnalysisError> {
    let eyes = models.eyes.chips_openness(chips).map_err(internal)?;
    Ok((eyes.left + eyes.right) / 2.0)
}

/// The dense stream as the blink judgement needs it.
struct BlinkInputs {
    dense: Vec<DenseSample>,
    /// Each dense frame's eye chips, when its eyes were followed.
    chips: Vec<Option<EyeChips>>,
    anchored_ears: Vec<f32>,
}

impl BlinkInputs {
    /// The eye model's look at each excursion — taken during decoding where the side thread
    /// already looked — and the blinks they show.
    fn judge(
        self,
        models: &Models,
        ahead: Vec<(usize, f32)>,
    ) -> Result<BlinkReport, AnalysisError> {
        let ahead: HashMap<usize, f32> = ahead.into_iter().collect();
        // The looks still missing are the last thing the answer waits for, with the decoder
        // done and the cores free: they are independent, so they run on both.
        let looked_at = blink::excursions(&self.dense, policy::BLINK_MAX_CHECKS)
            .into_par_iter()
            .filter_map(|x| self.chips[x.peak].as_ref().map(|chips| (x, chips)))
            .map(|(x, chips)| match ahead.get(&x.peak) {
                Some(&openness) => Ok((x, openness)),
                None => Ok((x, look(models, chips)?)),
            })
            .collect::<Result<Vec<_>, AnalysisError>>()?;
        Ok(blink::judge(&self.dense, &self.anchored_ears, &looked_at))
    }
}

fn consume(
    models: &Models,
    rx: mpsc::Receiver<media::SampledFrame>,
    side_jobs: mpsc::SyncSender<SideJob>,
    work: &VideoWork,
) -> Result<Consumed, AnalysisError> {
    let (enhanced, client) = (work.pad_on_sampled, work.client);
    let pad_every = client.every.max(1);
    let mut client_frames_seen = 0;
    let mut frames = Vec::new();
    let mut kept = Thinned::new(policy::VIDEO_KEPT_FACES);
    let mut pose_kept = Vec::new();
    let mut last_kept_s: Option<f64> = None;
    let mut dense = Vec::new();
    let mut dense_chips: Vec<Option<EyeChips>> = Vec::new();
    // Dense frames already sent to the side thread for a look.
    let mut looked_ahead = HashSet::new();
    let mut eyes = Eyes::default();
    // The face of the latest client frame or dense anchor, to track from. A challenge's
    // pose-only frames keep theirs apart (`last_pose`): they follow the head between client
    // frames, but the client frames and the eye stream see what they would without them.
    let mut last: Option<(f64, Face)> = None;
    let mut last_pose: Option<(f64, Face)> = None;
    let mut timings = StageTimings::default();
    let no_luma = || AnalysisError::Internal("a video frame came without its luma".into());
    for frame in rx {
        // Frame pixels per pixel of `colour`: 1 but for a pose-only frame's reduced picture.
        let mut scale = (1.0, 1.0);
        let (colour, luma) = match frame.image {
            FrameImage::Rgb(rgb) => {
                let luma = image::imageops::grayscale(&rgb);
                (Some(rgb), Some(luma))
            }
            FrameImage::Luma(luma) => (None, Some(luma)),
            FrameImage::Both { rgb, luma } => (Some(rgb), Some(luma)),
            FrameImage::Reduced { rgb, full, luma } => {
                scale = (
                    full.0 as f32 / rgb.width().max(1) as f32,
                    full.1 as f32 / rgb.height().max(1) as f32,
                );
                (Some(rgb), luma)
            }
        };
        // Whether this frame is one of the client's: only those anchor the eyes.
        let client_frame = frame.sampled && client.asked(frames.len());
        if frame.sampled {
            let colour = colour.ok_or_else(|| {
                AnalysisError::Internal("a sampled video frame came without colour".into())
            })?;
            let rgb = &colour;
            let t = Instant::now();
            // The whole-frame search keeps its period in time: a challenge samples
            // `pad_every` times as often, to read the pose, not to look for newcomers faster.
            let force_search = frames
                .len()
                .is_multiple_of(policy::FULL_SEARCH_EVERY_SAMPLED * pad_every);
            // Frames sampled only for a challenge's pose (between the client's own samples)
            // need the face's keypoints and nothing more: no eye anchor (the blink stream is
            // anchored by the client-rate frames as without a challenge), no PAD, no mesh.
            if client_frame {
                // Only a frame that anchors the eyes counts as a search for the dense stream:
                // were pose-only frames to count, the dense stream would stop anchoring itself
                // past the client's last frame and lose the eyes there (a blink at 14 s of a
                // 20 s selfie was missed under a challenge and seen without one).
                eyes.last_search_s = Some(frame.time_s);
            }
            if client_frame && scale != (1.0, 1.0) {
                return Err(AnalysisError::Internal(
                    "a client's video frame came reduced".into(),
                ));
            }
            let (picked, whole_frame_search) = locate(
                models,
                rgb,
                scale,
                if client_frame {
                    last.as_ref()
                } else {
                    newest(last.as_ref(), last_pose.as_ref())
                },
                frame.time_s,
                force_search,
            )?;
            if whole_frame_search {
                timings.detect_ms += ms(t);
            } else {
                timings.track_ms += ms(t);
            }
            let face = picked.face.clone().filter(|_| picked.unusable.is_none());
            let mut obs = FrameObservation {
                index: frame.index,
                time_s: frame.time_s,
                face: picked.face.clone(),
                face_count: picked.face_count,
                whole_frame_search,
                finding: picked.unusable,
                pad: None,
                pad_per_model: Vec::new(),
                eyes: None,
                eyes_by_model: false,
            };
            let found = face.clone().map(|f| (frame.time_s, f));
            if client_frame {
                last = found;
            } else {
                last_pose = found;
            }
            match &face {
                Some(f) => {
                    if client_frame {
                        let luma = luma.as_ref().ok_or_else(no_luma)?;
                        let m =
                            anchor_eyes(models, luma, f, frame.time_s, &mut eyes, &mut timings)?;
                        obs.eyes = m.map(|m| m.openness);
                        obs.eyes_by_model = m.is_some_and(|m| m.by_model);
                    }
                    // Facematch embeds client frames only. The challenge's same-face check
                    // also needs a face where the client's frames have ended (or are sparse):
                    // a crop of a pose-only frame every `CHALLENGE_IDENTITY_EVERY_S` there,
                    // not of every one, which would be a copy per extra frame.
                    if client_frame {
                        if kept.offer(|| {
                            let (crop, face) = crop_around(rgb, f);
                            (frames.len(), crop, face)
                        }) {
                            last_kept_s = Some(frame.time_s);
                        }
                    } else if last_kept_s
                        .is_none_or(|t| frame.time_s - t >= policy::CHALLENGE_IDENTITY_EVERY_S)
                    {
                        // The face is in frame coordinates, the picture reduced.
                        let in_picture = f.scaled(1.0 / scale.0, 1.0 / scale.1);
                        let (crop, face) = crop_around(rgb, &in_picture);
                        pose_kept.push((frames.len(), crop, face));
                        last_kept_s = Some(frame.time_s);
                    }
                    // PAD and motion feed only the enhanced fusion; legacy looks for blinks.
                    let mesh = models.mesh.is_some()
                        && frames
                            .len()
                            .is_multiple_of(pad_every * policy::MOTION_MESH_EVERY_SAMPLED);
                    if enhanced && client_frame {
                        let job = SideJob::Frame {
                            slot: frames.len(),
                            time_s: frame.time_s,
                            // The frame itself: nothing after this needs it.
                            image: colour,
                            face: f.clone(),
                            mesh,
                        };
                        // A closed channel means the side thread failed; its error is reported.
                        if side_jobs.send(job).is_err() {
                            break;
                        }
                    }
                }
                // No usable face (none, or another person): nothing to follow the eyes from.
                // A pose-only frame, read at a reduced size, leaves the eye stream alone.
                None if client_frame => eyes.tracker = EyeTracker::default(),
                None => {}
            }
            frames.push(obs);
            if client_frame {
                client_frames_seen += 1;
                // The last client frame: the kept crops are final, and facematch's picks with
                // them.
                if let (true, Some(want)) =
                    (client_frames_seen == client.max, work.facematch_frames)
                {
                    let picks = crate::facematch::spread(kept.len(), want as usize);
                    let crops = picks
                        .iter()
                        .map(|&i| {
                            let (_, crop, face) = &kept.as_slice()[i];
                            (crop.clone(), face.clone())
                        })
                        .collect();
                    // A closed channel means the side thread failed; its error is reported.
                    let _ = side_jobs.send(SideJob::Embed { picks, crops });
                }
            }
        }
        // A pose-only frame that is also a dense one anchors here when an anchor is due, as it
        // would without the challenge.
        if !client_frame
            && frame.dense
            && eyes
                .last_search_s
                .is_none_or(|t| frame.time_s - t >= policy::EYE_ANCHOR_EVERY_S)
        {
            eyes.last_search_s = Some(frame.time_s);
            // Past the sampled stream's cap, or between sparse samples: the dense stream
            // anchors itself, in grey (the detector and the eye model read brightness).
            let t = Instant::now();
            let luma = luma.as_ref().ok_or_else(no_luma)?;
            let rgb = image::DynamicImage::ImageLuma8(luma.clone()).to_rgb8();
            let (picked, _) = locate(models, &rgb, (1.0, 1.0), last.as_ref(), frame.time_s, false)?;
            timings.anchor_ms += ms(t);
            match picked.face.filter(|_| picked.unusable.is_none()) {
                Some(f) => {
                    anchor_eyes(models, luma, &f, frame.time_s, &mut eyes, &mut timings)?;
                    last = Some((frame.time_s, f));
                }
                None => eyes.tracker = EyeTracker::default(),
            }
        }
        if frame.dense {
            let t = Instant::now();
            let luma = luma.as_ref().ok_or_else(no_luma)?;
            let followed = eyes
                .tracker
                .follow(luma, frame.time_s, models.eyes.as_ref());
            timings.follow_ms += ms(t);
            dense.push(DenseSample {
                time_s: frame.time_s,
                change: followed.as_ref().map(|f| f.change),
            });
            dense_chips.push(followed.map(|f| f.chips));
            // Blink candidates that later frames can no longer change go to the side thread
            // now, so that their looks are not left for the end.
            if dense.len().is_multiple_of(policy::BLINK_LOOK_AHEAD_EVERY) {
                for peak in blink::settled_peaks(&dense, policy::BLINK_MAX_CHECKS) {
                    let Some(chips) = dense_chips[peak].as_ref() else {
                        continue;
                    };
                    if looked_ahead.insert(peak) {
                        let chips = chips.clone();
                        // A closed channel means the side thread failed; its error is reported.
                        let _ = side_jobs.send(SideJob::Look { peak, chips });
                    }
                }
            }
        }
    }
    Ok(Consumed {
        pose_kept,
        frames,
        kept: kept.into_vec(),
        blink: BlinkInputs {
            dense,
            chips: dense_chips,
            anchored_ears: eyes.anchored_ears,
        },
        timings,
    })
}

/// The later of two faces to track from.
fn newest<'a>(a: Option<&'a (f64, Face)>, b: Option<&'a (f64, Face)>) -> Option<&'a (f64, Face)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 > x.0 { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// The frame's face: followed from the last one when that is recent (cheap), else searched for
/// in the whole frame; `force_search` skips the follow (a periodic full search catches a face
/// that entered the frame). `rgb` may be a reduced copy of the frame, `scale` frame pixels per
/// pixel of it: faces come and go in frame coordinates, so the pick's size floor and the pose
/// keep their meaning. Returns the pick and whether the whole frame was searched.
fn locate(
    models: &Models,
    rgb: &RgbImage,
    scale: (f32, f32),
    last: Option<&(f64, Face)>,
    time_s: f64,
    force_search: bool,
) -> Result<(Picked, bool), AnalysisError> {
    let (sx, sy) = scale;
    let to_frame = |f: Face| f.scaled(sx, sy);
    let recent = last
        .filter(|(t, _)| time_s - t <= policy::TRACK_MAX_GAP_S)
        .map(|(_, f)| f.scaled(1.0 / sx, 1.0 / sy));
    let tracked = match recent {
        Some(prev) if !force_search => models.detector.track(rgb, &prev).map_err(internal)?,
        _ => None,
    };
    Ok(match tracked {
        Some(face) => (face_pick::tracked(to_frame(face)), false),
        None => {
            let faces = models.detector.detect(rgb).map_err(internal)?;
            // The pick sees frame coordinates; the mesh looks at `rgb`.
            let mut opinion = face_pick::mesh_opinion(models, rgb);
            let mut confirm = |f: &Face| opinion(&f.scaled(1.0 / sx, 1.0 / sy));
            (
                face_pick::pick(faces.into_iter().map(to_frame).collect(), &mut confirm),
                true,
            )
        }
    })
}

/// The eye track and the eye aspect ratios of its anchors.
#[derive(Default)]
struct Eyes {
    tracker: EyeTracker,
    anchored_ears: Vec<f32>,
    /// When a face was last searched for (sampled frames search every time).
    last_search_s: Option<f64>,
}

/// Runs the eye model on a frame whose face came from the detector and restarts the eye track
/// there.
fn anchor_eyes(
    models: &Models,
    luma: &image::GrayImage,
    face: &Face,
    time_s: f64,
    eyes: &mut Eyes,
    timings: &mut StageTimings,
) -> Result<Option<Measured>, AnalysisError> {
    let t = Instant::now();
    let Some(chips) = models.eyes.chips(luma, face) else {
        eyes.tracker.anchor(luma, face, time_s, None, false);
        return Ok(None);
    };
    // Eyes that look as they did at the open-eye reference are not measured again.
    let measured = match eyes.tracker.unchanged(&chips) {
        Some(openness) => Measured {
            openness,
            by_model: false,
        },
        None => Measured {
            openness: models.eyes.chips_openness(&chips).map_err(internal)?,
            by_model: true,
        },
    };
    let o = measured.openness;
    eyes.anchored_ears.push((o.left + o.right) / 2.0);
    let open = eyes_open(o, &eyes.anchored_ears);
    eyes.tracker
        .anchor(luma, face, time_s, Some((&chips, o)), open);
    timings.eyes_ms += ms(t);
    Ok(Some(measured))
}

/// An anchor's eye openness.
#[derive(Debug, Clone, Copy)]
struct Measured {
    openness: EyeOpenness,
    /// Read by the eye model; otherwise carried over from the reference the chips match.
    by_model: bool,
}

/// Whether an anchor's eyes may serve as the open-eye reference: not well below the typical
/// openness seen so far (a sampled frame can land in a blink).
fn eyes_open(eyes: EyeOpenness, so_far: &[f32]) -> bool {
    let mut v = so_far.to_vec();
    v.sort_by(f32::total_cmp);
    let typical = v.get(v.len() / 2).copied().unwrap_or(0.0);
    (eyes.left + eyes.right) / 2.0 >= typical * policy::BLINK_REOPEN_RATIO
}

/// CPU time per stage of the frame analysis, summed over frames (evidence and tuning).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    pub detect_ms: f64,
    pub track_ms: f64,
    pub eyes_ms: f64,
    pub pad_ms: f64,
    /// Following the eyes on dense frames (template search + chips).
    pub follow_ms: f64,
    /// Face search on dense frames that anchor the eye track themselves.
    pub anchor_ms: f64,
    /// Face mesh on sampled frames (for motion).
    pub mesh_ms: f64,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

struct Consumed {
    timings: StageTimings,
    frames: Vec<FrameObservation>,
    kept: Vec<(usize, RgbImage, Face)>,
    pose_kept: Vec<(usize, RgbImage, Face)>,
    blink: BlinkInputs,
}

/// The face with a margin of one face size on each side: enough context for any aligner.
fn crop_around(image: &RgbImage, face: &Face) -> (RgbImage, Face) {
    let b = &face.bbox;
    let (crop, x0, y0) = vision::sampling::cut(
        image,
        b.x - b.w,
        b.y - b.h,
        b.x + 2.0 * b.w,
        b.y + 2.0 * b.h,
    );
    (crop, face.translated(-x0, -y0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_samples_more_but_the_client_frames_stay_the_clients() {
        let opts = crate::AnalysisOptions::default();
        let plain = VideoWork::for_request(&opts, false, false);
        let challenged = VideoWork::for_request(&opts, false, true);
        assert!(challenged.every_nth < plain.every_nth);
        assert!(challenged.max_sampled > plain.max_sampled);
        let asked = |w: &VideoWork| {
            (0..w.max_sampled as usize)
                .filter(|&slot| w.client.asked(slot))
                .count()
        };
        // The same number of client frames, at the same times in the video.
        assert_eq!(asked(&plain), opts.max_frames_to_analyze as usize);
        assert_eq!(asked(&challenged), asked(&plain));
        let every = challenged.client.every as u32;
        assert_eq!(challenged.every_nth * every, plain.every_nth);
    }
}
