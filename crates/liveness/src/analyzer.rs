//! [`Analyzer`]: the one implementation of [`Analyse`], wiring the stages together.

use crate::decide::{FacematchMeasure, Signals, decide};
use crate::facematch::{self, FacematchOutcome};
use crate::models::Models;
use crate::policy;
use crate::still::{self, StillOutcome, Want};
use crate::video::{self, VideoOutcome, VideoWork};
use crate::{
    Analyse, AnalysisError, AnalysisRequest, FacematchReport, LivenessReport, MediaField,
    ReportInternals,
};
use serde_json::json;
use std::time::Instant;
use vision::Embedding;

pub struct Analyzer {
    models: Models,
}

impl Analyzer {
    pub fn new(models: Models) -> Self {
        Self { models }
    }

    pub fn models(&self) -> &Models {
        &self.models
    }
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

fn tf(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

impl Analyse for Analyzer {
    fn analyse(&self, req: &AnalysisRequest) -> Result<LivenessReport, AnalysisError> {
        let t0 = Instant::now();
        let opts = &req.options;
        let image = req.image.as_deref();
        let video = req.video.as_deref();
        if image.is_none() && video.is_none() {
            return Err(AnalysisError::NothingToAnalyse);
        }
        for (bytes, field) in [(image, MediaField::Image), (video, MediaField::Video)] {
            if bytes.is_some_and(|b| b.is_empty()) {
                return Err(AnalysisError::Media {
                    field,
                    message: "the file is empty".into(),
                });
            }
        }
        let both = image.is_some() && video.is_some();
        let legacy = both && !opts.enhanced_detection;

        // The still and the video are independent until fusion: analyse them side by side.
        let (still_res, video_res, still_ms, video_ms) = std::thread::scope(|s| {
            let video_job = video.map(|bytes| {
                s.spawn(move || {
                    let t = Instant::now();
                    let work = VideoWork {
                        every_nth: opts.frame_sampling_rate,
                        max_sampled: opts.max_frames_to_analyze,
                        pad_on_sampled: !legacy,
                    };
                    (video::analyse(&self.models, bytes, &work), ms(t))
                })
            });
            let t = Instant::now();
            let still = image.map(|bytes| {
                still::decode(bytes, MediaField::Image).and_then(|st| {
                    still::analyse(
                        &self.models,
                        st,
                        Want {
                            pad: true,
                            embedding: both,
                        },
                    )
                })
            });
            let still_ms = ms(t);
            let (video, video_ms) = match video_job {
                Some(j) => match j.join() {
                    Ok((r, m)) => (Some(r), m),
                    Err(_) => (
                        Some(Err(AnalysisError::Internal(
                            "video analysis panicked".into(),
                        ))),
                        0.0,
                    ),
                },
                None => (None, 0.0),
            };
            (still, video, still_ms, video_ms)
        });
        let still = still_res.transpose()?;
        let video = video_res.transpose()?;

        let t_fm = Instant::now();
        let facematch = match (&still, &video) {
            (Some(s), Some(v)) => {
                Some(self.match_video(s.embedding.as_ref(), v, opts.facematch_frames)?)
            }
            _ => None,
        };
        let facematch_ms = ms(t_fm);

        let decision = decide(
            &Signals {
                still_pad: still.as_ref().map(|s| s.live_score()),
                video: video.as_ref().map(|v| v.measures()),
                legacy,
                facematch: facematch.as_ref().map(|f| FacematchMeasure {
                    tested: f.tested,
                    fraction: f.fraction,
                }),
            },
            opts.facematch_threshold,
        );
        let fused = &decision.fused;
        let reason = still
            .as_ref()
            .and_then(|s| s.unusable)
            .map(|f| f.as_str())
            .or_else(|| fused.as_ref().and_then(|f| f.veto));

        let (frames_analyzed, real_frames) = match (&video, legacy) {
            (Some(v), false) => (
                v.frames.len() as u32,
                v.frames
                    .iter()
                    .filter(|f| f.pad.is_some_and(|p| p >= policy::FRAME_REAL_THRESHOLD))
                    .count() as u32,
            ),
            // Legacy looks at the dense stream for blinks only: report how many frames it saw.
            (Some(v), true) => (v.dense_frames as u32, 0),
            (None, _) => (0, 0),
        };

        let total_ms = ms(t0);
        let details = opts.details.then(|| {
            json!({
                "image": still.as_ref().map(|s| s.evidence()),
                "video": video.as_ref().map(|v| json!({
                    "info": v.info,
                    "frames": v.frames,
                    "dense_frames": v.dense_frames,
                    "blinks": v.blinks,
                    "motion": v.motion,
                    "stage_ms": v.timings,
                })),
                "facematch": facematch,
                "fusion": fused,
                "mode": if video.is_none() { "image" } else if legacy { "legacy" } else { "enhanced" },
                "face_rule": policy::face_rule(),
                "timings_ms": {
                    "image": still_ms,
                    "video": video_ms,
                    "facematch": facematch_ms,
                    "total": total_ms,
                },
            })
        });

        Ok(LivenessReport {
            result: decision.result.as_str().into(),
            confidence: round3(decision.confidence),
            blink_detection: video.as_ref().is_some_and(|v| v.blinks.detected()),
            image_input: image.is_some(),
            video_input: video.is_some(),
            facematch_result: tf(decision.facematch),
            facematch_confidence: round3(decision.facematch_confidence),
            facematch_frames_tested: facematch.as_ref().map_or(0, |f| f.tested),
            overall_result: tf(decision.overall),
            overall_confidence: round3(decision.overall_confidence),
            image_result: decision
                .image
                .map_or("N/A", |(verdict, _)| verdict.as_str())
                .into(),
            image_confidence: round3(decision.image.map_or(0.0, |(_, c)| c)),
            video_frames_analyzed: frames_analyzed,
            real_video_frames: real_frames,
            total_video_frames: video.as_ref().map_or(0, |v| v.info.total_frames),
            enhanced_detection: opts.enhanced_detection,
            frame_sampling_rate: opts.frame_sampling_rate,
            max_frames_analyzed: opts.max_frames_to_analyze,
            details,
            internal: ReportInternals {
                video_verdict: decision
                    .video_alone
                    .map(|(verdict, c)| (verdict.is_real(), round3(c))),
                reason,
                timings_ms: vec![
                    ("image", still_ms),
                    ("video", video_ms),
                    ("facematch", facematch_ms),
                    ("total", total_ms),
                ],
            },
        })
    }

    fn facematch(
        &self,
        image1: &[u8],
        image2: &[u8],
        details: bool,
    ) -> Result<FacematchReport, AnalysisError> {
        let (a, b) = std::thread::scope(|s| {
            let jb = s.spawn(|| self.face_embedding(image2, MediaField::Image2));
            let a = self.face_embedding(image1, MediaField::Image1);
            let b = jb
                .join()
                .unwrap_or_else(|_| Err(AnalysisError::Internal("facematch panicked".into())));
            (a, b)
        });
        let (a, b) = (a?, b?);
        let (ea, eb) = match (&a.embedding, &b.embedding) {
            (Some(x), Some(y)) => (x, y),
            _ => {
                return Ok(FacematchReport {
                    confidence_score: 0.0,
                    facematch_result: tf(false),
                    details: details.then(|| {
                        json!({"image1": a.evidence(), "image2": b.evidence(), "reason": "no usable face"})
                    }),
                });
            }
        };
        let embedder = self.models.embedder.as_ref();
        let d = embedder.distance(ea, eb);
        let max_d = policy::facematch_max_distance(embedder.id());
        let same = d < max_d;
        Ok(FacematchReport {
            confidence_score: round3(policy::facematch_confidence(d, max_d)),
            facematch_result: tf(same),
            details: details.then(|| {
                json!({"image1": a.evidence(), "image2": b.evidence(), "distance": d, "max_distance": max_d, "embedder": embedder.name()})
            }),
        })
    }
}

impl Analyzer {
    /// The embedding of a still's dominant face, when it has a usable one (evaluation and
    /// facematch statistics use it).
    pub fn still_embedding(&self, bytes: &[u8]) -> Result<Option<Embedding>, AnalysisError> {
        Ok(self.face_embedding(bytes, MediaField::Image)?.embedding)
    }

    /// Distance below which two embeddings are the same person, for the installed embedder.
    pub fn facematch_max_distance(&self) -> f32 {
        policy::facematch_max_distance(self.models.embedder.id())
    }

    fn face_embedding(
        &self,
        bytes: &[u8],
        field: MediaField,
    ) -> Result<StillOutcome, AnalysisError> {
        if bytes.is_empty() {
            return Err(AnalysisError::Media {
                field,
                message: "the file is empty".into(),
            });
        }
        let st = still::decode(bytes, field)?;
        still::analyse(
            &self.models,
            st,
            Want {
                pad: false,
                embedding: true,
            },
        )
    }

    fn match_video(
        &self,
        reference: Option<&Embedding>,
        v: &VideoOutcome,
        want: u32,
    ) -> Result<FacematchOutcome, AnalysisError> {
        let Some(reference) = reference else {
            return Ok(FacematchOutcome::default());
        };
        let picks = facematch::spread(v.kept.len(), want as usize);
        // The last step before the answer, with the cores otherwise idle: embed the picked
        // frames two at a time.
        let embed = |i: &usize| {
            let (_, crop, face) = &v.kept[*i];
            self.models.embedder.embed(crop, face)
        };
        let half = picks.len().div_ceil(2);
        let (first, second) = picks.split_at(half);
        let (a, b) = std::thread::scope(|s| {
            let other = s.spawn(|| second.iter().map(embed).collect::<Result<Vec<_>, _>>());
            let mine = first.iter().map(embed).collect::<Result<Vec<_>, _>>();
            (mine, other.join())
        });
        let b = b.map_err(|_| AnalysisError::Internal("facematch thread panicked".into()))?;
        let mut probes = a.map_err(still::internal)?;
        probes.extend(b.map_err(still::internal)?);
        Ok(facematch::compare(
            self.models.embedder.as_ref(),
            reference,
            &probes,
        ))
    }
}

fn round3(x: f32) -> f32 {
    (x.clamp(0.0, 1.0) * 1000.0).round() / 1000.0
}
