//! The `/v1/batches` routes over a real axum router (no network): 202 + progress + archive,
//! the error envelope for bad archives and bad fields, 404 and 409.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ByteAnalyser, zip_of};
use http_body_util::BodyExt;
use jobs::{JobService, JobsConfig};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const BOUNDARY: &str = "XbatchX";

fn form(zip: Option<&[u8]>, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some(z) = zip {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.zip\"\r\nContent-Type: application/zip\r\n\r\n").as_bytes(),
        );
        b.extend_from_slice(z);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, body)
}

fn post(body: Vec<u8>) -> Request<Body> {
    Request::post("/v1/batches")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap()
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_poll_download() {
    let dir = tempfile::tempdir().unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::from_millis(50)));
    let svc = JobService::open(JobsConfig::new(dir.path()), an).unwrap();
    let app = jobs::router(Arc::clone(&svc));

    let zip = zip_of(&[
        ("a_image.jpg", b"REAL"),
        ("b_video.mp4", b"v"),
        ("junk.bin", b"?"),
    ]);
    let (status, body) = call(
        &app,
        post(form(Some(&zip), &[("max_frames_to_analyze", "5")])),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let v = json(&body);
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["total"], 2);
    assert_eq!(v["skipped"][0]["name"], "junk.bin");

    // Archive before completion: 409.
    let (status, _) = call(
        &app,
        Request::get(format!("/v1/batches/{id}/archive"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    svc.spawn_runners();
    let t0 = std::time::Instant::now();
    let v = loop {
        let (status, body) = call(
            &app,
            Request::get(format!("/v1/batches/{id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let v = json(&body);
        if v["status"] == "done" {
            break v;
        }
        assert!(t0.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    assert_eq!(v["items"][0]["status"], "ok");
    assert_eq!(v["items"][0]["response"]["result"], "real");
    assert_eq!(v["items"][0]["response"]["max_frames_analyzed"], 5);
    assert_eq!(v["progress"], 1.0);

    let res = app
        .clone()
        .oneshot(
            Request::get(format!("/v1/batches/{id}/archive"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = a.file_names().map(|n| n.unwrap().to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        ["json/a.json", "json/b.json", "results.csv", "summary.json"]
    );

    let (status, body) = call(
        &app,
        Request::delete(format!("/v1/batches/{id}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json(&body)["status"],
        "done",
        "cancel must not undo a finished job"
    );
}

#[tokio::test]
async fn bad_uploads_get_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let svc = JobService::open(
        JobsConfig::new(dir.path()),
        Arc::new(ByteAnalyser::new(Duration::ZERO)),
    )
    .unwrap();
    let app = jobs::router(svc);

    let (status, body) = call(&app, post(form(None, &[]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(json(&body)["detail"]["body"]["file"][0].is_string());

    let (status, body) = call(&app, post(form(Some(b"not a zip"), &[]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v = json(&body);
    assert!(
        v["detail"]["body"]["file"][0]
            .as_str()
            .unwrap()
            .contains("ZIP"),
        "{v}"
    );
    assert!(v["message"].is_string());

    let zip = zip_of(&[("a_image.jpg", b"x")]);
    let (status, body) = call(
        &app,
        post(form(
            Some(&zip),
            &[("facematch_threshold", "2"), ("frame_sampling_rate", "x")],
        )),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let v = json(&body);
    assert!(
        v["detail"]["body"]["facematch_threshold"][0].is_string(),
        "{v}"
    );
    assert!(
        v["detail"]["body"]["frame_sampling_rate"][0].is_string(),
        "{v}"
    );

    let (status, body) = call(
        &app,
        Request::get("/v1/batches/nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(json(&body)["message"].is_string());

    // Refused uploads leave nothing behind.
    let left = std::fs::read_dir(dir.path().join("uploads"))
        .unwrap()
        .count()
        + std::fs::read_dir(dir.path().join("batches"))
            .unwrap()
            .count();
    assert_eq!(left, 0);
}
