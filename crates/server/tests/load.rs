//! Measurements of the server's own machinery on a real listener (run on demand):
//! `cargo test -p server --test load -- --ignored --nocapture`.
//! `burst_against_a_two_worker_pool` uses a fixed-length CPU burn standing in for a model, so
//! its numbers describe auth, upload parsing, queueing and back-pressure, not the models;
//! `sixteen_clients_for_a_minute` is the README's reliability run: the real models on a real
//! selfie, 16 clients with their own tokens, loopback only.

mod common;

use common::*;
use liveness::{Analyse, Analysis, AnalysisError, AnalysisRequest, Comparison, MediaField};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::http::percentile_ms as pct;
use tokio::net::TcpListener;

/// Spins the CPU for `work`, like an analysis would, then refuses (no verdict is invented).
struct Burn {
    work: Duration,
}

impl Analyse for Burn {
    fn analyse(&self, _: &AnalysisRequest) -> Result<Analysis, AnalysisError> {
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < self.work {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        Err(AnalysisError::Media {
            field: MediaField::Image,
            message: "burn done".into(),
        })
    }
    fn facematch(&self, _: &[u8], _: &[u8]) -> Result<Comparison, AnalysisError> {
        Err(AnalysisError::Internal("unused".into()))
    }
}

/// One request on a connection of its own; the measurements need only the status and time.
async fn post(addr: std::net::SocketAddr, body: &[u8], token: &str) -> (u16, Duration) {
    let reply = testkit::http::post_form(addr, "/liveness", token, body)
        .await
        .unwrap();
    (reply.status, reply.took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn burst_against_a_two_worker_pool() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cfg = hs_config();
    cfg.workers = 2;
    cfg.queue_depth = 4;
    cfg.body_limit = 8 * 1024 * 1024;
    let (_stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(
        listener,
        cfg,
        Arc::new(Burn {
            work: Duration::from_millis(100),
        }),
        server::Extensions::default(),
        async move {
            let _ = stop_rx.await;
        },
    ));
    // A 5 ms heartbeat on the reactor shows whether CPU work leaks onto it.
    let beat = tokio::spawn(async {
        let mut worst = Duration::ZERO;
        for _ in 0..400 {
            let t = Instant::now();
            tokio::time::sleep(Duration::from_millis(5)).await;
            worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(5)));
        }
        worst
    });
    let body = Arc::new(
        Form::new()
            .file("image", "i.jpg", &vec![1u8; 1024 * 1024])
            .body(),
    );
    for round in 0..3 {
        let t = Instant::now();
        let jobs: Vec<_> = (0..24)
            .map(|i| {
                // Clients of their own: one client would be held to its share of the queue.
                let token = good_token(&format!("burst-{i}"));
                let body = body.clone();
                tokio::spawn(async move { post(addr, &body, &token).await })
            })
            .collect();
        let mut served = Vec::new();
        let mut refused = Vec::new();
        for j in jobs {
            let (status, took) = j.await.unwrap();
            match status {
                400 => served.push(took),
                503 => refused.push(took),
                other => panic!("unexpected {other}"),
            }
        }
        println!(
            "round {round}: 24 concurrent 1 MiB uploads, 100 ms analyses, 2 workers + 4 queued: \
             {} served (p50 {:.0} ms, max {:.0} ms), {} refused 503 (p50 {:.1} ms), wall {:.0} ms",
            served.len(),
            pct(&mut served, 0.5),
            pct(&mut served, 1.0),
            refused.len(),
            if refused.is_empty() {
                0.0
            } else {
                pct(&mut refused, 0.5)
            },
            t.elapsed().as_secs_f64() * 1e3
        );
        assert!(served.len() >= 2 && !refused.is_empty());
    }
    let worst = beat.await.unwrap();
    println!(
        "reactor heartbeat worst delay: {:.1} ms",
        worst.as_secs_f64() * 1e3
    );

    // Throughput of the path that never reaches a worker: auth + 1 MiB multipart + validation.
    let bad = Arc::new(
        Form::new()
            .file("image", "i.jpg", &vec![1u8; 1024 * 1024])
            .text("facematch_frames", "0")
            .body(),
    );
    let t = Instant::now();
    let n = 400;
    // Four connections, each a client of its own: one client may hold only its share of the
    // upload places.
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            let (bad, token) = (bad.clone(), good_token(&format!("invalid-{i}")));
            tokio::spawn(async move {
                let mut lat = Vec::new();
                for _ in 0..n / 4 {
                    let (status, took) = post(addr, &bad, &token).await;
                    assert_eq!(status, 422);
                    lat.push(took);
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for j in jobs {
        lat.extend(j.await.unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "422 path, 1 MiB body, 4 connections: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms",
        n as f64 / secs,
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement (60 s); run with --ignored --nocapture"]
async fn sixteen_clients_for_a_minute() {
    let Some(td) = testdata() else { return };
    let Some(analyzer) = real_analyzer() else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The server's defaults on this machine: workers = cores, queue = 4 × workers.
    let cfg = hs_config();
    let defaults = server::Config::new(cfg.auth.clone());
    let mut cfg = cfg;
    cfg.workers = defaults.workers;
    cfg.queue_depth = defaults.queue_depth;
    cfg.body_limit = 8 * 1024 * 1024;
    cfg.deadline = Duration::from_secs(60);
    let (_stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(
        listener,
        cfg.clone(),
        analyzer,
        server::Extensions::default(),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let body = Arc::new(
        Form::new()
            .file(
                "image",
                "selfie.jpg",
                &std::fs::read(td.join("faces/fr_biden.jpg")).unwrap(),
            )
            .body(),
    );
    let clients = 16;
    let run_for = Duration::from_secs(60);
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let (body, token) = (body.clone(), good_token(&format!("load-{i}")));
            tokio::spawn(async move {
                let mut out = Vec::new();
                while t0.elapsed() < run_for {
                    let (status, took) = post(addr, &body, &token).await;
                    out.push((status, took));
                    if status != 200 {
                        // What a well-behaved client does with Retry-After, shortened.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = t0.elapsed().as_secs_f64();
    let mut ok: Vec<Duration> = all
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, d)| *d)
        .collect();
    let count = |code: u16| all.iter().filter(|(s, _)| *s == code).count();
    let other = all.len() - ok.len() - count(503) - count(429);
    println!(
        "| {clients} clients × {:.0} s, {} workers + {} queued | {:.1} req/s | p50 {:.0} ms / p99 {:.0} ms | 503 {:.1} % · 429 {:.1} % · other {other} | peak RSS {} MiB |",
        secs,
        cfg.workers,
        cfg.queue_depth,
        ok.len() as f64 / secs,
        pct(&mut ok, 0.5),
        pct(&mut ok, 0.99),
        100.0 * count(503) as f64 / all.len() as f64,
        100.0 * count(429) as f64 / all.len() as f64,
        testkit::procfs::status_kb("self", "VmHWM:").unwrap_or(0) / 1024,
    );
    assert_eq!(other, 0, "answers other than 200/429/503");
    assert!(!ok.is_empty());
}
