//! Shared by the jobs crate's integration tests.
#![allow(dead_code)]

use liveness::{
    Analyse, AnalysisError, AnalysisRequest, FacematchReport, LivenessReport, MediaField,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[allow(unused_imports)]
pub use testkit::{testdata, unzip, zip_of};

/// A stand-in for the real analysis that exercises the batch machinery: it answers from the
/// bytes it is handed (so a test can check that the right entry reached the right role),
/// fails on entries that start with `BAD`, panics on `PANIC`, and can be slowed down.
pub struct ByteAnalyser {
    pub calls: AtomicUsize,
    pub delay: Duration,
}

impl ByteAnalyser {
    pub fn new(delay: Duration) -> Self {
        Self {
            calls: AtomicUsize::new(0),
            delay,
        }
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
    fn analyse(&self, r: &AnalysisRequest) -> Result<LivenessReport, AnalysisError> {
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
        let real = r.image.as_ref().is_some_and(|i| i.starts_with(b"REAL"));
        Ok(LivenessReport {
            result: if real { "real" } else { "fake" }.into(),
            confidence: 0.9,
            blink_detection: r.video.is_some(),
            image_input: r.image.is_some(),
            video_input: r.video.is_some(),
            facematch_result: "False".into(),
            facematch_confidence: 0.0,
            facematch_frames_tested: 0,
            overall_result: if real { "True" } else { "False" }.into(),
            overall_confidence: 0.9,
            image_result: if r.image.is_some() { "real" } else { "N/A" }.into(),
            image_confidence: r.image.as_ref().map_or(0.0, |i| i.len() as f32),
            video_frames_analyzed: r.video.as_ref().map_or(0, |v| v.len() as u32),
            real_video_frames: 0,
            total_video_frames: 0,
            enhanced_detection: r.options.enhanced_detection,
            frame_sampling_rate: r.options.frame_sampling_rate,
            max_frames_analyzed: r.options.max_frames_to_analyze,
            details: None,
            internal: Default::default(),
        })
    }

    fn facematch(
        &self,
        a: &[u8],
        b: &[u8],
        _details: bool,
    ) -> Result<FacematchReport, AnalysisError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        check(a, MediaField::Image1)?;
        check(b, MediaField::Image2)?;
        Ok(FacematchReport {
            confidence_score: if a == b { 1.0 } else { 0.0 },
            facematch_result: if a == b { "True" } else { "False" }.into(),
            details: None,
        })
    }
}
