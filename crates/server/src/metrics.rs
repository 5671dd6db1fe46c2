//! Prometheus text exposition, written by hand: a handful of counters and histograms do not
//! justify a metrics framework.

use crate::workers::WorkerPool;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Seconds; spans a cheap still (tens of ms) up to a long video at the deadline.
const BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The routes we label by name; anything else is "other", so a scanner cannot grow the series.
const ROUTES: [&str; 10] = [
    "/liveness",
    "/v1/batches",
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
    // Every batch path is one series: ids must not grow the label set.
    if path.starts_with("/v1/batches") {
        return "/v1/batches";
    }
    ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other")
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (c, le) in self.counts.iter_mut().zip(BUCKETS) {
            if secs <= le {
                *c += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, label: &str, value: &str) {
        for (c, le) in self.counts.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{{label}=\"{value}\",le=\"{le}\"}} {c}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{label}=\"{value}\",le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{label}=\"{value}\"}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{label}=\"{value}\"}} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    stages: BTreeMap<String, Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn observe_request(&self, route: &'static str, status: u16, took: Duration) {
        let mut m = self.lock();
        *m.requests.entry((route, status)).or_default() += 1;
        m.latency
            .entry(route)
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// One stage of the work behind a request: `parse`, `queue`, `analysis`, or a stage the
    /// analysis reported in its timings.
    pub fn observe_stage(&self, stage: &str, took: Duration) {
        let mut m = self.lock();
        if !m.stages.contains_key(stage) && m.stages.len() >= 64 {
            return;
        }
        m.stages
            .entry(stage.to_owned())
            .or_default()
            .observe(took.as_secs_f64());
    }

    pub fn render(&self, pool: &WorkerPool) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str("# HELP livegate_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE livegate_http_requests_total counter\n");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "livegate_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP livegate_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE livegate_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            h.render(
                &mut out,
                "livegate_http_request_duration_seconds",
                "route",
                route,
            );
        }
        out.push_str("# HELP livegate_stage_duration_seconds Time spent per processing stage.\n");
        out.push_str("# TYPE livegate_stage_duration_seconds histogram\n");
        for (stage, h) in &m.stages {
            h.render(&mut out, "livegate_stage_duration_seconds", "stage", stage);
        }
        out.push_str(
            "# HELP livegate_queue_depth Requests admitted but not yet analysing (uploading or waiting for a worker).\n",
        );
        out.push_str("# TYPE livegate_queue_depth gauge\n");
        let _ = writeln!(out, "livegate_queue_depth {}", pool.queued());
        out.push_str("# HELP livegate_workers_busy Analyses running now.\n");
        out.push_str("# TYPE livegate_workers_busy gauge\n");
        let _ = writeln!(out, "livegate_workers_busy {}", pool.busy());
        out
    }
}
