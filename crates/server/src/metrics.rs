//! The Prometheus metrics, recorded through the `metrics` facade into a Prometheus recorder that
//! belongs to one app state.
//!
//! The recorder is never installed globally: tests run many apps in one process, and each must
//! count only its own requests. Every record goes through [`metrics::with_local_recorder`].

use crate::workers::WorkerPool;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use jobs::places::Places;
use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
    with_local_recorder,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REQUESTS: &str = "livegate_http_requests_total";
const LATENCY: &str = "livegate_http_request_duration_seconds";
const STAGES: &str = "livegate_stage_duration_seconds";
const QUEUE_DEPTH: &str = "livegate_queue_depth";
const WORKERS_BUSY: &str = "livegate_workers_busy";
const UPLOADS: &str = "livegate_uploads_in_progress";

/// Seconds; spans a cheap still (tens of ms) up to a long video at the deadline.
const BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Stage names come from the analysis' timings; past this many, a new one is not recorded, so
/// the series cannot grow without bound.
const MAX_STAGES: usize = 64;

/// The recorder keeps histogram samples raw until they are folded into buckets. A scrape folds
/// them, but nobody may scrape, so every this many samples we fold them ourselves: memory stays
/// bounded without a background task per app.
const UPKEEP_EVERY: u32 = 4096;

/// The routes we label by name; anything else is "other", so a scanner cannot grow the series.
const ROUTES: [&str; 12] = [
    "/liveness",
    "/v1/batches",
    "/v1/challenges",
    "/docs",
    "/v2/liveness",
    "/facematch",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/",
    "other",
];

pub fn route_label(path: &str) -> &'static str {
    // Every batch path is one series: ids must not grow the label set. The API reference's
    // and the Playground's files count as their page.
    if path.starts_with("/v1/batches") {
        return "/v1/batches";
    }
    if path == "/docs" || path.starts_with("/docs/") {
        return "/docs";
    }
    if path.starts_with("/playground/") {
        return "/";
    }
    ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other")
}

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    stages: Mutex<HashSet<String>>,
    samples: AtomicU32,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        with_local_recorder(&recorder, || {
            describe_counter!(REQUESTS, "HTTP requests by route and status.");
            describe_histogram!(LATENCY, "Request latency by route.");
            describe_histogram!(STAGES, "Time spent per processing stage.");
            describe_gauge!(QUEUE_DEPTH, "Analyses admitted and waiting for a worker.");
            describe_gauge!(WORKERS_BUSY, "Analyses running now.");
            describe_gauge!(UPLOADS, "Analysis request bodies being received now.");
        });
        Self {
            handle: recorder.handle(),
            recorder,
            stages: Mutex::default(),
            samples: AtomicU32::new(0),
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, route: &'static str, status: u16, took: Duration) {
        with_local_recorder(&self.recorder, || {
            counter!(REQUESTS, "route" => route, "status" => status.to_string()).increment(1);
            histogram!(LATENCY, "route" => route).record(took.as_secs_f64());
        });
        self.sampled();
    }

    /// One stage of the work behind a request: `parse`, `queue`, `analysis`, or a stage the
    /// analysis reported in its timings.
    pub fn observe_stage(&self, stage: &str, took: Duration) {
        {
            let mut seen = self.stages.lock().unwrap_or_else(|p| p.into_inner());
            if !seen.contains(stage) {
                if seen.len() >= MAX_STAGES {
                    return;
                }
                seen.insert(stage.to_owned());
            }
        }
        with_local_recorder(&self.recorder, || {
            histogram!(STAGES, "stage" => stage.to_owned()).record(took.as_secs_f64());
        });
        self.sampled();
    }

    fn sampled(&self) {
        if self.samples.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }

    /// The exposition; the gauges are read now, so they are current at every scrape.
    pub fn render(&self, pool: &WorkerPool, uploads: &Places) -> String {
        with_local_recorder(&self.recorder, || {
            gauge!(QUEUE_DEPTH).set(pool.queued() as f64);
            gauge!(WORKERS_BUSY).set(pool.busy() as f64);
            gauge!(UPLOADS).set(uploads.held() as f64);
        });
        self.handle.render()
    }
}

/// Counts every request by route and status and times it; the outermost API layers wrap this,
/// so refusals (401, 404, 429) are counted too.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_label(req.uri().path());
    let resp = next.run(req).await;
    metrics.observe_request(route, resp.status().as_u16(), start.elapsed());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(text: &str, prefix: &str) -> usize {
        text.lines().filter(|l| l.starts_with(prefix)).count()
    }

    #[test]
    fn stage_names_past_the_cap_are_not_recorded() {
        let m = Metrics::default();
        let pool = WorkerPool::new(1, 1, 0, Duration::from_secs(1));
        for i in 0..MAX_STAGES + 10 {
            m.observe_stage(&format!("s{i}"), Duration::from_millis(1));
        }
        // A known stage is still recorded once the cap is reached.
        m.observe_stage("s0", Duration::from_millis(1));
        let text = m.render(&pool, &Places::new(1, 1));
        assert_eq!(
            series(&text, "livegate_stage_duration_seconds_count{"),
            MAX_STAGES
        );
        assert!(text.contains("livegate_stage_duration_seconds_count{stage=\"s0\"} 2"));
        assert!(!text.contains(&format!("stage=\"s{MAX_STAGES}\"")));
    }

    /// Samples are folded into buckets without a scrape, and a scrape after that still counts
    /// every one of them.
    #[test]
    fn upkeep_loses_no_sample() {
        let m = Metrics::default();
        let pool = WorkerPool::new(1, 1, 0, Duration::from_secs(1));
        let n = UPKEEP_EVERY as usize * 2 + 5;
        for _ in 0..n {
            m.observe_request("/healthz", 200, Duration::from_millis(3));
        }
        let text = m.render(&pool, &Places::new(1, 1));
        for line in [
            format!("livegate_http_requests_total{{route=\"/healthz\",status=\"200\"}} {n}"),
            format!("livegate_http_request_duration_seconds_count{{route=\"/healthz\"}} {n}"),
            format!(
                "livegate_http_request_duration_seconds_bucket{{route=\"/healthz\",le=\"0.005\"}} {n}"
            ),
        ] {
            assert!(text.contains(&line), "missing {line:?} in\n{text}");
        }
    }
}
