//! The listener's limits against a real socket: half-open and idle connections are closed
//! within the header timeout while `/healthz` stays fast, one address cannot hold every
//! connection, clients with stalled uploads hold upload places but never the analysis queue,
//! a trickling upload is cut, and `/metrics` can move to its own address.

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
    // Every connection here comes from one address; the per-address cap has its own test.
    cfg.max_connections_per_address = None;
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

/// Opens a POST whose headers promise a body, sends the first bytes of it, and returns the
/// connection, or the status line if the server answered at once.
async fn stall_upload(addr: SocketAddr, token: &str) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /liveness HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 100000\r\n\r\n--{BOUNDARY}\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 512];
    match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
        Ok(Ok(n)) => Err(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => Ok(s),
    }
}

/// Another client's request reaches the analysis (the test analyser's 400) at once.
async fn served_at_once(addr: SocketAddr, sub: &str) {
    let body = Form::new().file("image", "i.jpg", b"x").body();
    let reply = testkit::http::post_form(addr, "/liveness", &good_token(sub), &body)
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_with_stalled_uploads_hold_no_place_in_the_analysis_queue() {
    let mut cfg = hs_config();
    // Two places in the analysis queue in all, one per client: before uploads had places of
    // their own, the two greedy clients below took both and everyone else got 503.
    cfg.workers = 1;
    cfg.queue_depth = 1;
    cfg.client_share = 1;
    cfg.max_uploads = 12;
    cfg.upload_share = 4;
    cfg.upload_timeout = Duration::from_secs(30);
    let (addr, _stop) = start(cfg, Duration::from_millis(20)).await;
    let mut stalled = Vec::new();
    for greedy in ["greedy-1", "greedy-2"] {
        let token = good_token(greedy);
        let mut refused = Vec::new();
        for _ in 0..6 {
            match stall_upload(addr, &token).await {
                Ok(s) => stalled.push(s),
                Err(answer) => refused.push(answer),
            }
        }
        // Each holds its share of upload places; the rest are refused at once, by name.
        assert_eq!(refused.len(), 2, "{greedy}: {refused:?}");
        for answer in &refused {
            assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
            assert!(answer.contains("4 uploads in progress"), "{answer}");
        }
    }
    assert_eq!(stalled.len(), 8);
    served_at_once(addr, "patient").await;
    served_at_once(addr, "patient").await;
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_upload_is_cut_and_gives_its_place_back() {
    let mut cfg = hs_config();
    cfg.max_uploads = 1;
    cfg.upload_timeout = Duration::from_secs(30);
    cfg.upload_min_rate = Some(server::MinRate {
        bytes_per_sec: 1000,
        grace: Duration::from_secs(1),
    });
    let (addr, _stop) = start(cfg, Duration::ZERO).await;
    let mut s = stall_upload(addr, &good_token("slow"))
        .await
        .expect("the only upload place was free");
    // While it trickles, the only upload place is taken.
    let body = Form::new().file("image", "i.jpg", b"x").body();
    let busy = testkit::http::post_form(addr, "/liveness", &good_token("other"), &body)
        .await
        .unwrap();
    assert!(busy.text.starts_with("HTTP/1.1 503"), "{}", busy.text);
    assert!(
        busy.text.contains("too many uploads in progress"),
        "{}",
        busy.text
    );
    // 10 bytes a second against 1000 required: cut soon after the 1 s grace.
    let t0 = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while t0.elapsed() < Duration::from_secs(5) {
        if s.write_all(b"0123456789").await.is_err() {
            break;
        }
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    }
    let cut_after = t0.elapsed();
    let mut rest = Vec::new();
    // The server closes the connection rather than read the rest of the trickle.
    let closed = tokio::time::timeout(Duration::from_secs(1), s.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "connection still open after the 408");
    answer.extend_from_slice(&rest);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("slower than 1000 bytes per second"),
        "{answer}"
    );
    assert!(
        cut_after < Duration::from_secs(3),
        "cut after {cut_after:?}"
    );
    // Its place is back.
    served_at_once(addr, "other").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_every_connection() {
    let mut cfg = hs_config();
    cfg.max_connections = 20;
    cfg.max_connections_per_address = Some(5);
    cfg.header_timeout = Duration::from_secs(30);
    let (addr, _stop) = start(cfg, Duration::ZERO).await;
    // Five silent connections from 127.0.0.1 take that address's share.
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    // Give the accept loop time to count them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = testkit::http::get(addr, "/healthz").await.unwrap();
    assert!(reply.text.starts_with("HTTP/1.1 503"), "{}", reply.text);
    assert!(
        reply
            .text
            .contains("too many open connections from this address"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.to_ascii_lowercase().contains("retry-after: 1"),
        "{}",
        reply.text
    );
    // Another address is served as usual.
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    other.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut s = other.connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    // A connection given back makes room again.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = get(addr, "/healthz").await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_answers_is_closed() {
    let mut cfg = hs_config();
    cfg.write_timeout = Duration::from_secs(1);
    let (addr, _stop) = start(cfg, Duration::ZERO).await;
    // Hundreds of pipelined requests for the OpenAPI document (tens of KB each, no token
    // needed) and a small receive window: megabytes of answers the client never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let n = 300;
    let requests = "GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n".repeat(n);
    s.write_all(requests.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Reading now drains what was sent before the close, then ends: the server gave up.
    let mut got = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(k) => got.extend_from_slice(&buf[..k]),
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection was still open");
    let answered = String::from_utf8_lossy(&got)
        .matches("HTTP/1.1 200")
        .count();
    assert!(answered < n, "all {n} answers were delivered");
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
