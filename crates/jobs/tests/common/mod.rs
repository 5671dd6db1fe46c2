//! Shared by the jobs crate's integration tests.
#![allow(dead_code)]

use liveness::analysis::{Echo, FrameCounts, StillEvidence, Timings, VideoEvidence};
use liveness::decide::{Options, Signals, decide};
use liveness::models::PadWeights;
use liveness::{
    Analyse, Analysis, AnalysisError, AnalysisRequest, Comparison, Judging, MediaField, Mode,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[allow(unused_imports)]
pub use testkit::{testdata, unzip, zip_of};

/// The configuration every test here starts from: the embedded store, or a fresh database on
/// the test PostgreSQL with `LIVEGATE_TEST_JOBS_BACKEND=postgres` — `scripts/test.sh` runs this
/// suite both ways, so both backends are held to the same rules.
pub fn config(dir: &std::path::Path) -> jobs::JobsConfig {
    let mut config = jobs::JobsConfig::new(dir);
    if std::env::var("LIVEGATE_TEST_JOBS_BACKEND").as_deref() == Ok("postgres") {
        let server = testkit::postgres::server_url()
            .expect("LIVEGATE_TEST_JOBS_BACKEND=postgres needs LIVEGATE_TEST_DATABASE_URL");
        config.database = jobs::Database::Postgres {
            url: testkit::postgres::fresh_database(&server),
        };
    }
    config
}

/// Everything the store holds, as bytes: the SQLite file and its write-ahead log, or every row
/// of every table of the PostgreSQL database.
pub fn stored(config: &jobs::JobsConfig) -> Vec<u8> {
    match &config.database {
        jobs::Database::Postgres { url } => testkit::postgres::every_row(url).into_bytes(),
        jobs::Database::Sqlite => {
            let mut all = Vec::new();
            for name in ["jobs.sqlite3", "jobs.sqlite3-wal"] {
                if let Ok(b) = std::fs::read(config.data_dir.join(name)) {
                    all.extend(b);
                }
            }
            all
        }
    }
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A stand-in for the real analysis that exercises the batch machinery: it answers from the
/// bytes it is handed (so a test can check that the right entry reached the right role),
/// fails on entries that start with `BAD`, panics on `PANIC`, and can be slowed down. Its
/// verdicts name [`ByteAnalyser::weights`] as the PAD graphs that judged.
pub struct ByteAnalyser {
    pub calls: AtomicUsize,
    pub delay: Duration,
    pub weights: PadWeights,
    /// The still threshold its verdicts apply (a replica's operating point).
    pub image_real_threshold: f32,
}

impl ByteAnalyser {
    pub fn new(delay: Duration) -> Self {
        Self::judging_with(delay, &"a".repeat(64))
    }
    /// An analyser whose PAD graph is `crop_27.onnx` with this SHA-256: a replica with its own
    /// layer (`LIVEGATE_PAD_DIR`) names another.
    pub fn judging_with(delay: Duration, sha256: &str) -> Self {
        Self {
            calls: AtomicUsize::new(0),
            delay,
            weights: vec![("crop_27.onnx".to_owned(), sha256.to_owned())].into(),
            image_real_threshold: liveness::policy::IMAGE_REAL_THRESHOLD,
        }
    }
    /// The same with its own still threshold (`LIVEGATE_OPERATING_POINT`).
    pub fn at_threshold(mut self, threshold: f32) -> Self {
        self.image_real_threshold = threshold;
        self
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn check(bytes: &[u8], field: MediaField) -> Result<(), AnalysisError> {
    if bytes.starts_with(b"PANIC") {
        panic!("test analyser asked to panic");
    }
    if bytes.starts_with(b"BAD") {
        return Err(AnalysisError::Media {
            field,
            message: "not a decodable image".into(),
        });
    }
    Ok(())
}

impl Analyse for ByteAnalyser {
    fn analyse(&self, r: &AnalysisRequest) -> Result<Analysis, AnalysisError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        if let Some(i) = &r.image {
            check(i, MediaField::Image)?;
        }
        if let Some(v) = &r.video {
            check(v, MediaField::Video)?;
        }
        if r.image.is_none() && r.video.is_none() {
            return Err(AnalysisError::NothingToAnalyse);
        }
        // `REAL…` scores well above the still threshold, `NEAR…` just above it, anything
        // else well below.
        let score = match &r.image {
            Some(i) if i.starts_with(b"REAL") => 0.9,
            Some(i) if i.starts_with(b"NEAR") => liveness::policy::IMAGE_REAL_THRESHOLD + 0.02,
            _ => 0.1,
        };
        // The frame counts carry the entries' lengths, so a test sees which bytes reached
        // which role: `real_video_frames` = the image's, `video_frames_analyzed` = the video's.
        let decision = decide(
            &Signals {
                still_pad: r.image.as_ref().map(|_| Some(score)),
                video: None,
                legacy: false,
                facematch: None,
                challenge_passed: None,
            },
            &Options {
                fusion: liveness::fusion::FusionWeights {
                    image_real_threshold: self.image_real_threshold,
                    ..liveness::policy::FUSION
                },
                ..Options::with_facematch_threshold(r.options.facematch_threshold)
            },
        );
        Ok(Analysis {
            mode: Mode::Image,
            echo: Echo {
                enhanced_detection: r.options.enhanced_detection,
                frame_sampling_rate: r.options.frame_sampling_rate,
                max_frames_analyzed: r.options.max_frames_to_analyze,
                details: r.options.details,
            },
            decision,
            reason: None,
            still: r.image.as_ref().map(|_| StillEvidence::default()),
            video: r.video.as_ref().map(|_| VideoEvidence::default()),
            frames: FrameCounts {
                analyzed: r.video.as_ref().map_or(0, |v| v.len() as u32),
                real: r.image.as_ref().map_or(0, |i| i.len() as u32),
            },
            facematch: None,
            challenge: None,
            pad_weights: self.weights.clone(),
            timings: Timings::default(),
        })
    }

    fn judging(&self) -> Option<Judging> {
        Some(Judging {
            pad_weights: self.weights.clone(),
            image_real_threshold: self.image_real_threshold,
        })
    }

    fn facematch(&self, a: &[u8], b: &[u8]) -> Result<Comparison, AnalysisError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        check(a, MediaField::Image1)?;
        check(b, MediaField::Image2)?;
        Ok(Comparison {
            same: a == b,
            confidence: if a == b { 1.0 } else { 0.0 },
            distance: Some(if a == b { 0.0 } else { 2.0 }),
            max_distance: 1.0,
            embedder: "bytes",
            image1: StillEvidence::default(),
            image2: StillEvidence::default(),
            unusable: None,
        })
    }
}
