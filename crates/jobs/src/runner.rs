//! Running one batch item: read its files (from the stored ZIP or the store), call the analysis, and turn
//! whatever happens into an [`Outcome`]. Nothing here returns early with an error: a bad file,
//! an analysis failure or even a panic in the analysis becomes that item's error row, and the
//! batch goes on.

use crate::envelope::{analysis_error, field_error, internal_error};
use crate::pairing::Task;
use crate::store::{Claim, Outcome};
use liveness::models::PadWeights;
use liveness::{Analyse, AnalysisRequest, FacematchReport, LivenessReport, Reason};
use std::panic::AssertUnwindSafe;
use std::time::Instant;

/// Reads one of the item's files by its archive name; the error is the client's to read.
pub type ReadFile<'a> = dyn Fn(&str) -> Result<Vec<u8>, String> + 'a;

pub fn execute(analyser: &dyn Analyse, item: &Claim, read: &ReadFile<'_>) -> Outcome {
    let t0 = Instant::now();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| run(analyser, item, read)));
    let (ok, answer) = match result {
        Ok(Ok(answer)) => (true, answer),
        Ok(Err(body)) => (false, Answer::plain(body)),
        Err(_) => {
            tracing::error!(job = %item.job_id, stem = %item.stem, "analysis panicked");
            (false, Answer::plain(internal_error()))
        }
    };
    Outcome {
        ok,
        body: answer.body,
        elapsed_ms: t0.elapsed().as_millis() as u64,
        reason: answer.reason.map(str::to_owned),
        near_threshold: answer.near_threshold,
        pad_weights: answer.pad_weights,
        image_real_threshold: answer.image_real_threshold,
        worker: None,
    }
}

type Body = serde_json::Value;

/// The item's body and, for a liveness verdict, what the results' columns say beside it.
struct Answer {
    body: Body,
    /// Why, when a rule decided the verdict.
    reason: Option<&'static str>,
    /// The still scored near its threshold.
    near_threshold: bool,
    /// The PAD graphs that judged.
    pad_weights: PadWeights,
    /// The still threshold the verdict applied.
    image_real_threshold: Option<f32>,
}

impl Answer {
    fn plain(body: Body) -> Self {
        Answer {
            body,
            reason: None,
            near_threshold: false,
            pad_weights: PadWeights::default(),
            image_real_threshold: None,
        }
    }
}

fn run(analyser: &dyn Analyse, item: &Claim, read_file: &ReadFile<'_>) -> Result<Answer, Body> {
    let read = |field: &str, name: &str| read_file(name).map_err(|e| field_error(field, &e));
    fn to_json<T: serde::Serialize>(v: &T) -> Result<Body, Body> {
        crate::exact_json(v).map_err(|e| {
            tracing::error!(error = %e, "serialising a batch result");
            internal_error()
        })
    }
    match &item.task {
        Task::Liveness { image, video } => {
            let request = AnalysisRequest {
                image: image.as_deref().map(|n| read("image", n)).transpose()?,
                video: video.as_deref().map(|n| read("video", n)).transpose()?,
                options: item.settings.clone(),
                challenge: None,
            };
            match analyser.analyse(&request) {
                Ok(analysis) => Ok(Answer {
                    body: to_json(&LivenessReport::from(&analysis))?,
                    reason: analysis.reason.map(Reason::as_str),
                    near_threshold: analysis.decision.image_near_threshold,
                    pad_weights: analysis.pad_weights.clone(),
                    image_real_threshold: Some(analysis.decision.rules.image_real_threshold),
                }),
                Err(e) => Err(analysis_error(&e)),
            }
        }
        Task::Facematch { image1, image2 } => {
            let a = read("image1", image1)?;
            let b = read("image2", image2)?;
            match analyser.facematch(&a, &b) {
                Ok(c) => Ok(Answer::plain(to_json(&FacematchReport::new(
                    &c,
                    item.settings.details,
                ))?)),
                Err(e) => Err(analysis_error(&e)),
            }
        }
    }
}
