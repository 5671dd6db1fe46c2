//! Measurements of the server's own machinery on a real listener (run on demand):
//! `cargo test -p server --test load -- --ignored --nocapture`.
//! The analysis is a fixed-length CPU burn standing in for a model, so the numbers describe
//! auth, upload parsing, queueing and back-pressure, not the models.

mod common;

use common::*;
use liveness::{
    Analyse, AnalysisError, AnalysisRequest, FacematchReport, LivenessReport, MediaField,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Spins the CPU for `work`, like an analysis would, then refuses (no verdict is invented).
struct Burn {
    work: Duration,
}

impl Analyse for Burn {
    fn analyse(&self, _: &AnalysisRequest) -> Result<LivenessReport, AnalysisError> {
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
    fn facematch(&self, _: &[u8], _: &[u8], _: bool) -> Result<FacematchReport, AnalysisError> {
        Err(AnalysisError::Internal("unused".into()))
    }
}

async fn post(addr: std::net::SocketAddr, body: &[u8], token: &str) -> (u16, Duration) {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /liveness HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let status = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    (status, t.elapsed())
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
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
    tokio::spawn(server::serve_on(
        listener,
        cfg,
        Arc::new(Burn {
            work: Duration::from_millis(100),
        }),
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
    let token = good_token("load");
    let body = Arc::new(
        Form::new()
            .file("image", "i.jpg", &vec![1u8; 1024 * 1024])
            .body(),
    );
    for round in 0..3 {
        let t = Instant::now();
        let jobs: Vec<_> = (0..24)
            .map(|_| {
                let (body, token) = (body.clone(), token.clone());
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
    // Four connections: fewer than the six queue places, which requests hold while uploading.
    let jobs: Vec<_> = (0..4)
        .map(|_| {
            let (bad, token) = (bad.clone(), token.clone());
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
