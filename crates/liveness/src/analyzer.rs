//! [`Analyzer`]: the one implementation of [`Analyse`], wiring the stages together.

use crate::analyse::{Analyse, Judging};
use crate::analysis::{Analysis, Echo, FrameCounts, Mode, Reason, Timings};
use crate::challenge::{self, ChallengeEvidence, ChallengeInput, Pose, SameFace, StepWindow};
use crate::comparison::Comparison;
use crate::decide::{Decision, FacematchMeasure, Options, Signals, decide};
use crate::facematch::{self, FacematchOutcome};
use crate::findings::Finding;
use crate::fusion::{FusionWeights, Veto};
use crate::models::{Models, PadWeights};
use crate::operating_point::{OperatingPoint, OperatingPointError};
use crate::policy;
use crate::still::{self, StillOutcome, Want};
use crate::video::{self, VideoOutcome, VideoWork};
use crate::{AnalysisError, AnalysisOptions, AnalysisRequest, MediaField};
use image::RgbImage;
use rayon::prelude::*;
use std::time::Instant;
use vision::Embedding;
use vision::face::Face;

pub struct Analyzer {
    models: Models,
    /// The policy's fusion, or a deployment's own operating point.
    fusion: FusionWeights,
}

impl Analyzer {
    pub fn new(models: Models) -> Self {
        Self {
            models,
            fusion: policy::FUSION,
        }
    }

    /// Judges at `point` instead of the policy's threshold; refused when `point` was set for
    /// other PAD weights than the ones these models score with.
    pub fn at_operating_point(self, point: &OperatingPoint) -> Result<Self, OperatingPointError> {
        point.check_model(self.models.pad_weights())?;
        Ok(Self {
            fusion: point.fusion(),
            ..self
        })
    }

    /// The still threshold the verdicts apply.
    pub fn image_real_threshold(&self) -> f32 {
        self.fusion.image_real_threshold
    }

    pub fn models(&self) -> &Models {
        &self.models
    }
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

impl Analyse for Analyzer {
    /// Three steps: run the stages, [`decide`], build the [`Analysis`].
    fn analyse(&self, req: &AnalysisRequest) -> Result<Analysis, AnalysisError> {
        let t0 = Instant::now();
        check_inputs(req)?;
        let stages = self.run_stages(req)?;
        let decision = decide(
            &stages.signals(),
            &Options {
                facematch_threshold: req.options.facematch_threshold,
                fusion: self.fusion,
            },
        );
        Ok(stages.into_analysis(
            decision,
            &req.options,
            self.models.pad_weights().clone(),
            ms(t0),
        ))
    }

    fn facematch(&self, image1: &[u8], image2: &[u8]) -> Result<Comparison, AnalysisError> {
        let (a, b) = std::thread::scope(|s| {
            let jb = s.spawn(|| self.face_embedding(image2, MediaField::Image2));
            let a = self.face_embedding(image1, MediaField::Image1);
            let b = jb
                .join()
                .unwrap_or_else(|_| Err(AnalysisError::Internal("facematch panicked".into())));
            (a, b)
        });
        let (a, b) = (a?, b?);
        let embedder = self.models.embedder.as_ref();
        let max_distance = policy::facematch_max_distance(embedder.id());
        let distance = match (&a.embedding, &b.embedding) {
            (Some(x), Some(y)) => Some(embedder.distance(x, y)),
            _ => None,
        };
        // An embedder that gave nothing for a face the pick found usable has no finding of its
        // own: to the client that is still "no face to compare".
        let unusable = distance
            .is_none()
            .then(|| a.unusable.or(b.unusable).unwrap_or(Finding::NoFace));
        Ok(Comparison {
            unusable,
            same: distance.is_some_and(|d| d < max_distance),
            confidence: distance.map_or(0.0, |d| policy::facematch_confidence(d, max_distance)),
            distance,
            max_distance,
            embedder: embedder.name(),
            image1: a.into_evidence(),
            image2: b.into_evidence(),
        })
    }

    fn judging(&self) -> Option<Judging> {
        Some(Judging {
            pad_weights: self.models.pad_weights().clone(),
            image_real_threshold: self.fusion.image_real_threshold,
        })
    }
}

/// An empty part is the client's mistake, not "no face": say so before any decoding.
fn check_inputs(req: &AnalysisRequest) -> Result<(), AnalysisError> {
    if req.image.is_none() && req.video.is_none() {
        return Err(AnalysisError::NothingToAnalyse);
    }
    for (bytes, field) in [
        (req.image.as_deref(), MediaField::Image),
        (req.video.as_deref(), MediaField::Video),
    ] {
        if bytes.is_some_and(|b| b.is_empty()) {
            return Err(AnalysisError::Media {
                field,
                message: "the file is empty".into(),
            });
        }
    }
    Ok(())
}

/// What the stages measured, before the decision.
struct Stages {
    still: Option<StillOutcome>,
    video: Option<VideoOutcome>,
    facematch: Option<FacematchOutcome>,
    challenge: Option<ChallengeEvidence>,
    legacy: bool,
    timings: Timings,
}

impl Stages {
    fn signals(&self) -> Signals {
        Signals {
            still_pad: self.still.as_ref().map(|s| s.live_score()),
            video: self.video.as_ref().map(|v| v.measures()),
            legacy: self.legacy,
            facematch: self.facematch.as_ref().map(|f| FacematchMeasure {
                tested: f.tested,
                fraction: f.fraction,
            }),
            challenge_passed: self.challenge.as_ref().map(|c| c.passed),
        }
    }

    fn into_analysis(
        self,
        decision: Decision,
        opts: &AnalysisOptions,
        pad_weights: PadWeights,
        total_ms: f64,
    ) -> Analysis {
        let rules = decision.rules;
        let veto = decision.fused.as_ref().and_then(|f| f.veto);
        // Steps unseen in a video with no usable face say less than the face's absence does.
        let faceless = veto == Some(Veto::NoUsableFaceInVideo);
        let reason = self
            .still
            .as_ref()
            .and_then(|s| s.unusable)
            .map(Reason::Still)
            .or_else(|| {
                self.challenge
                    .as_ref()
                    .and_then(|c| c.failure)
                    .filter(|f| !(faceless && *f == challenge::Failure::StepsNotSeen))
                    .map(Reason::Challenge)
            })
            .or_else(|| veto.map(Reason::Fusion));
        let frames = match (&self.video, self.legacy) {
            // Counted over the frames the client's sampling asked for, so a challenge's extra
            // pose frames (which get no PAD) do not make `real / analyzed` read low.
            (Some(v), false) => FrameCounts {
                analyzed: v.client_frames().count() as u32,
                real: v
                    .client_frames()
                    // the still's operating point: the same model scores each frame
                    .filter(|f| f.pad.is_some_and(|p| p >= rules.image_real_threshold))
                    .count() as u32,
            },
            // Legacy looks at the dense stream for blinks only: report how many frames it saw.
            (Some(v), true) => FrameCounts {
                analyzed: v.dense_frames as u32,
                real: 0,
            },
            (None, _) => FrameCounts::default(),
        };
        let mode = match (&self.video, self.legacy) {
            (None, _) => Mode::Image,
            (Some(_), true) => Mode::Legacy,
            (Some(_), false) => Mode::Enhanced,
        };
        Analysis {
            mode,
            echo: Echo {
                // With a video, the path that ran: a video alone is always analysed frame by
                // frame, whatever the field said (it chooses only for image+video).
                enhanced_detection: match mode {
                    Mode::Enhanced => true,
                    Mode::Legacy => false,
                    Mode::Image => opts.enhanced_detection,
                },
                frame_sampling_rate: opts.frame_sampling_rate,
                max_frames_analyzed: opts.max_frames_to_analyze,
                details: opts.details,
            },
            decision,
            reason,
            still: self.still.map(StillOutcome::into_evidence),
            video: self.video.map(VideoOutcome::into_evidence),
            frames,
            facematch: self.facematch,
            challenge: self.challenge,
            pad_weights,
            timings: Timings {
                total: total_ms,
                ..self.timings
            },
        }
    }
}

impl Analyzer {
    /// The still and the video are independent until facematch: analyse them side by side.
    fn run_stages(&self, req: &AnalysisRequest) -> Result<Stages, AnalysisError> {
        let opts = &req.options;
        let (image, video) = (req.image.as_deref(), req.video.as_deref());
        let both = image.is_some() && video.is_some();
        let legacy = both && !opts.enhanced_detection;
        let (still_res, video_res, still_ms, video_ms) = std::thread::scope(|s| {
            let video_job = video.map(|bytes| {
                s.spawn(move || {
                    let t = Instant::now();
                    let work = VideoWork {
                        facematch_frames: both.then_some(opts.facematch_frames),
                        ..VideoWork::for_request(opts, legacy, req.challenge.is_some())
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
        let (still, video) = AnalysisError::of_both(still_res.transpose(), video_res.transpose())?;
        let t = Instant::now();
        let facematch = match (&still, &video) {
            (Some(s), Some(v)) => {
                Some(self.match_video(s.embedding.as_ref(), v, opts.facematch_frames)?)
            }
            _ => None,
        };
        let challenge = match (&req.challenge, &video) {
            (Some(input), Some(v)) => {
                let judged = ChallengeEvidence::judge(input, &v.frames, &v.blinks);
                Some(match input {
                    ChallengeInput::Steps(windows) => {
                        let neutral = judged.check.as_ref().and_then(|c| c.neutral);
                        judged.with_same_face(self.same_face(windows, v, neutral.as_ref())?)
                    }
                    ChallengeInput::Refused(_) => judged,
                })
            }
            _ => None,
        };
        Ok(Stages {
            still,
            video,
            facematch,
            challenge,
            legacy,
            timings: Timings {
                image: still_ms,
                video: video_ms,
                facematch: ms(t),
                total: 0.0,
            },
        })
    }

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

    /// The first usable face of the video against faces of each challenge window: the
    /// client's frames' crops and, where those are missing, the pose-only frames' ones.
    fn same_face(
        &self,
        windows: &[StepWindow],
        v: &VideoOutcome,
        neutral: Option<&Pose>,
    ) -> Result<SameFace, AnalysisError> {
        let embedder = self.models.embedder.as_ref();
        let max_distance = policy::facematch_max_distance(embedder.id());
        let Some(reference) = v.kept.first() else {
            return Ok(SameFace {
                distances: Vec::new(),
                windows: Vec::new(),
                unchecked_windows: (0..windows.len()).collect(),
                max_distance,
                same: false,
            });
        };
        let mut faces: Vec<&(usize, RgbImage, Face)> =
            v.kept.iter().skip(1).chain(&v.pose_kept).collect();
        faces.sort_by_key(|(f, _, _)| *f);
        let candidates: Vec<usize> = faces.iter().map(|(f, _, _)| *f).collect();
        let picks = challenge::identity_frames(windows, &v.frames, &candidates, neutral);
        let unchecked_windows: Vec<usize> =
            (0..picks.len()).filter(|&w| picks[w].is_empty()).collect();
        let (window_of, chosen): (Vec<usize>, Vec<&(usize, RgbImage, Face)>) = picks
            .iter()
            .enumerate()
            .flat_map(|(w, p)| p.iter().map(move |&i| (w, i)))
            .map(|(w, i)| (w, faces[i]))
            .unzip();
        let embeddings: Vec<Embedding> = std::iter::once(reference)
            .chain(chosen)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|(_, crop, face)| embedder.embed(crop, face))
            .collect::<Result<Vec<_>, _>>()
            .map_err(still::internal)?;
        let distances: Vec<f32> = embeddings[1..]
            .iter()
            .map(|e| embedder.distance(&embeddings[0], e))
            .collect();
        Ok(SameFace {
            same: unchecked_windows.is_empty() && distances.iter().all(|d| *d < max_distance),
            distances,
            windows: window_of,
            unchecked_windows,
            max_distance,
        })
    }

    /// Embeddings of the kept crops at `picks`, in order. The last step before the answer,
    /// with the cores otherwise idle: on all of them.
    fn embed_kept(
        &self,
        v: &VideoOutcome,
        picks: &[usize],
    ) -> Result<Vec<Embedding>, AnalysisError> {
        picks
            .par_iter()
            .map(|i| {
                let (_, crop, face) = &v.kept[*i];
                self.models.embedder.embed(crop, face)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(still::internal)
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
        let probes = match &v.embedded_ahead {
            Some(ahead) if ahead.picks == picks => ahead.embeddings.clone(),
            _ => self.embed_kept(v, &picks)?,
        };
        Ok(facematch::compare(
            self.models.embedder.as_ref(),
            reference,
            &probes,
        ))
    }
}
