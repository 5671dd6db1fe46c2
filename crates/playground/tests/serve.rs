//! The router serves the page and its modules with the right types and a CSP that keeps the
//! page on its own origin.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = playground::router()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_page_and_its_modules_are_served() {
    let (status, h, body) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(body.contains("id=\"token\""));
    for id in [
        "image", "video", "image1", "image2", "zip", "details", "run",
    ] {
        assert!(body.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    for field in [
        "enhanced_detection",
        "facematch_frames",
        "facematch_threshold",
        "frame_sampling_rate",
        "max_frames_to_analyze",
        "image_type",
        "unique_id",
    ] {
        assert!(body.contains(&format!("name=\"{field}\"")), "no {field}");
    }
    for js in ["main", "api", "single", "render", "bulk"] {
        let (status, h, body) = get(&format!("/playground/js/{js}.js")).await;
        assert_eq!(status, StatusCode::OK, "{js}");
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert!(!body.is_empty());
    }
    let (status, h, _) = get("/playground/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/css"));
    let (status, _, _) = get("/playground/js/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
