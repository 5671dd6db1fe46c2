//! Every log line emitted while a request is handled, after its form is read, carries the
//! client's `unique_id` — including lines logged by the analysis on a worker thread.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_id_is_in_every_log_line_of_the_request() {
    let buf = LogBuffer::default();
    let writer = buf.clone();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .init();

    let app = server::router(
        &hs_config(),
        Arc::new(Refuse {
            pause: Duration::from_millis(5),
        }),
        server::Extensions::default(),
    );
    let form = Form::new()
        .file("image", "i.jpg", b"x")
        .text("unique_id", "trace-me-123");
    let a = send(&app, form.request("/liveness", Some(&good_token("c")))).await;
    assert_eq!(a.status, 400);

    let text = buf.text();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    for want in [
        "analysis started",
        "refuse analyser ran",
        "request finished",
    ] {
        assert!(
            messages.contains(&want),
            "{want:?} not logged: {messages:?}"
        );
    }
    for l in &lines {
        assert_eq!(
            l["span"]["unique_id"], "trace-me-123",
            "line without unique_id: {l}"
        );
        assert!(l["span"]["request_id"].is_string());
    }
}
