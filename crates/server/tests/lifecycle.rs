//! A real listener: requests in flight when shutdown starts still get their answer, and the
//! server then returns.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

async fn raw_post(addr: std::net::SocketAddr, path: &str, form: &Form, token: &str) -> String {
    testkit::http::post_form(addr, path, token, &form.body())
        .await
        .unwrap()
        .text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut cfg = hs_config();
    cfg.shutdown_grace = Duration::from_secs(5);
    let server = tokio::spawn(server::serve(
        listener,
        cfg,
        Arc::new(Refuse {
            pause: Duration::from_millis(600),
        }),
        server::Extensions::default(),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let token = good_token("c");
    let form = Form::new()
        .file("image", "i.jpg", b"x")
        .text("unique_id", "slow-1");
    let in_flight = tokio::spawn(async move { raw_post(addr, "/liveness", &form, &token).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_tx.send(()).unwrap();
    let answer = in_flight.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id: slow-1"),
        "{answer}"
    );
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server returned after shutdown")
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}
