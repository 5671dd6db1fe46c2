//! The listener's limits against a real socket: half-open and idle connections are closed
//! within the header timeout while `/healthz` stays fast, one client with many slow uploads
//! cannot take the queue from another, and `/metrics` can move to its own address.

mod common;

use common::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start(
    cfg: server::Config,
    pause: Duration,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(
        listener,
        cfg,
        Arc::new(Refuse { pause }),
        server::Extensions::default(),
        async move {
            let _ = rx.await;
        },
    ));
    (addr, tx)
}

/// One request on a fresh connection; the status line and the time it took.
async fn get(addr: SocketAddr, path: &str) -> (String, Duration) {
    let reply = testkit::http::get(addr, path).await.unwrap();
    (
        reply.text.lines().next().unwrap_or_default().to_owned(),
        reply.took,
    )
}

/// Whether the server has closed `s` (EOF or reset) within `within`.
async fn closed(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    match tokio::time::timeout(within, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        // A 408 answer before the close is fine too: read on until EOF.
        Ok(Ok(_)) => tokio::time::timeout(within, s.read_to_end(&mut Vec::new()))
            .await
            .is_ok(),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_and_idle_connections_are_closed_and_health_stays_fast() {
    let mut cfg = hs_config();
    cfg.header_timeout = Duration::from_secs(2);
    let (addr, _stop) = start(cfg, Duration::ZERO).await;
    let mut conns = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 6 != 0 {
            // Half a request header, never finished.
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                .await
                .unwrap();
        } // else: connected and silent (idle).
        conns.push(s);
    }
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let (status, took) = get(addr, "/healthz").await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        worst = worst.max(took);
    }
    assert!(
        worst < Duration::from_millis(100),
        "/healthz took {worst:?} with 300 half-open connections"
    );
    let t0 = Instant::now();
    for (i, s) in conns.iter_mut().enumerate() {
        let left = Duration::from_secs(5).saturating_sub(t0.elapsed());
        assert!(
            closed(s, left).await,
            "connection {i} still open after {:?}",
            t0.elapsed()
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_ten_slow_uploads_does_not_stop_another() {
    let mut cfg = hs_config();
    cfg.workers = 1;
    cfg.queue_depth = 5;
    cfg.upload_timeout = Duration::from_secs(30);
    let (addr, _stop) = start(cfg, Duration::from_millis(20)).await;
    let greedy = good_token("greedy");
    let mut slow = Vec::new();
    let mut refused_early = 0;
    for _ in 0..10 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /liveness HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {greedy}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 100000\r\n\r\n--{BOUNDARY}\r\n"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        // The server answers at once when this client is over its share; otherwise it waits
        // for a body that trickles.
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await
            && String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 429")
        {
            refused_early += 1;
            continue;
        }
        slow.push(s);
    }
    assert!(
        refused_early >= 6,
        "only {refused_early} of 10 slow uploads were held to the share"
    );
    // Another client is served: its request reaches the analysis (the test analyser's 400).
    let body = Form::new().file("image", "i.jpg", b"x").body();
    let reply = testkit::http::post_form(addr, "/liveness", &good_token("patient"), &body)
        .await
        .unwrap();
    let out = reply.text;
    assert!(
        out.starts_with("HTTP/1.1 400"),
        "{}",
        out.lines().next().unwrap_or_default()
    );
    assert!(out.contains("refused by test analyser"), "{out}");
    assert!(reply.took < Duration::from_secs(2), "took {:?}", reply.took);
    drop(slow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_live_on_a_separate_address() {
    let metrics_addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut cfg = hs_config();
    cfg.metrics_bind = Some(metrics_addr);
    let (addr, _stop) = start(cfg, Duration::ZERO).await;
    let (status, _) = get(addr, "/metrics").await;
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");
    for _ in 0..50 {
        if TcpStream::connect(metrics_addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = get(metrics_addr, "/metrics").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let (status, _) = get(metrics_addr, "/liveness").await;
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");
}
