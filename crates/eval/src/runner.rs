//! Runs the API's own analysis over every manifest item, in parallel, with a progress bar.

use crate::manifest::{Item, Kind};
use indicatif::{ProgressBar, ProgressStyle};
use liveness::report::presented;
use liveness::{Analyse, AnalysisOptions, AnalysisRequest, Analyzer};
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub item: Item,
    /// "Live" probability derived from the contract's `result` and `confidence`.
    pub score: Option<f32>,
    pub accepted: bool,
    /// No usable face: the analysis had nothing to judge.
    pub non_response: bool,
    /// The product flagged the still's score as near its threshold (`details.review`).
    pub near_threshold: bool,
    pub blinks: Option<usize>,
    pub latency_ms: f64,
    /// The product refused the file (the API's 400: undecodable, truncated, over a limit).
    /// For a labelled item a non-response, like a still without a face: the presentation got
    /// no decision, so a bona fide one is rejected and an attack is not accepted.
    pub refused: Option<String>,
    /// The harness failed (a file it could not read, an internal error): in no rate.
    pub error: Option<String>,
    pub embedding: Option<Vec<f32>>,
    /// Each PAD model's own score on a still's face (for weighing the ensemble).
    pub pad_per_model: Vec<(String, f32)>,
}

impl Outcome {
    /// An item before (or without) its analysis.
    pub fn unanalysed(item: Item) -> Outcome {
        Outcome {
            item,
            score: None,
            accepted: false,
            non_response: false,
            near_threshold: false,
            blinks: None,
            latency_ms: 0.0,
            refused: None,
            error: None,
            embedding: None,
            pad_per_model: Vec::new(),
        }
    }

    /// The unanalysed outcome of a one-line manifest naming `file` with `label`, for tests of
    /// the figures built on outcomes.
    #[cfg(test)]
    pub(crate) fn of_line(file: &str, label: &str) -> Outcome {
        let manifest = format!("file\tidentity\tlabel\n{file}\tX\t{label}\n");
        let items = crate::manifest::parse(&manifest, std::path::Path::new("/"))
            .unwrap()
            .items;
        Outcome::unanalysed(items.into_iter().next().unwrap())
    }
}

/// Analyses every item with the analyzer `analyzer_for` picks for it (the same one for every
/// item, or for leave-one-source-out a model trained without the item's source).
pub fn run<'a>(
    analyzer_for: &(dyn Fn(&Item) -> &'a Analyzer + Sync),
    items: &[Item],
    workers: usize,
    progress: bool,
) -> Vec<Outcome> {
    // Facematch statistics pair stills of an identity: only identities seen twice need an
    // embedding, which costs a second decode and detection.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for i in items
        .iter()
        .filter(|i| i.kind == Kind::Still && !i.identity.is_empty())
    {
        *seen.entry(i.identity.as_str()).or_default() += 1;
    }
    par_map(items, workers, progress, |item| {
        let paired = seen.get(item.identity.as_str()).is_some_and(|&n| n >= 2);
        one(analyzer_for(item), item, paired)
    })
}

/// `f` over every item on `workers` threads, with a progress bar when `progress`; the results
/// in the items' order.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    progress: bool,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let bar = if progress {
        let b = ProgressBar::new(items.len() as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} eta {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        // A thread per item at most: more would only start threads with nothing to do.
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    bar.inc(1);
                    if let Ok(mut v) = out.lock() {
                        v[i] = Some(r);
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    out.into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn one(analyzer: &Analyzer, item: &Item, want_embedding: bool) -> Outcome {
    let t = Instant::now();
    let mut o = Outcome::unanalysed(item.clone());
    let bytes = match std::fs::read(&item.path) {
        Ok(b) => b,
        Err(e) => {
            o.error = Some(format!("cannot read {}: {e}", item.path.display()));
            return o;
        }
    };
    // The evidence is in the typed result; `details` would only add its JSON copy.
    let options = AnalysisOptions::default();
    let request = match item.kind {
        Kind::Still => AnalysisRequest {
            image: Some(bytes.clone()),
            video: None,
            options,
            challenge: None,
        },
        Kind::Video => AnalysisRequest {
            image: None,
            video: Some(bytes.clone()),
            options,
            challenge: None,
        },
    };
    match analyzer.analyse(&request) {
        Ok(a) => {
            o.latency_ms = t.elapsed().as_secs_f64() * 1e3;
            let (verdict, confidence) = (a.decision.result, presented(a.decision.confidence));
            o.accepted = verdict.is_real();
            o.score = Some(if o.accepted {
                confidence
            } else {
                1.0 - confidence
            });
            o.non_response = a.no_usable_face();
            o.near_threshold = a.decision.image_near_threshold;
            if let Some(pad) = a.still.as_ref().and_then(|s| s.pad.as_ref()) {
                o.pad_per_model = pad.per_model.clone();
            }
            o.blinks = a.video.as_ref().map(|v| v.blinks.blinks.len());
        }
        Err(e) if e.is_media() => {
            o.latency_ms = t.elapsed().as_secs_f64() * 1e3;
            o.non_response = true;
            o.refused = Some(e.to_string());
        }
        Err(e) => o.error = Some(e.to_string()),
    }
    if item.kind == Kind::Still
        && want_embedding
        && let Ok(Some(e)) = analyzer.still_embedding(&bytes)
    {
        o.embedding = Some(e.0);
    }
    o
}
