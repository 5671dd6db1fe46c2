//! The server's own machinery through HTTP, in process: validation and error envelopes, body
//! limit, back-pressure, panics, rate limits, request ids, OpenAPI, health and metrics.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use liveness::{AnalysisOptions, LivenessReport};
use serde_json::{Value, json};
use server::{Auth, RateLimit};
use std::sync::Arc;
use std::time::Duration;

fn app_with(analyzer: Arc<dyn liveness::Analyse>) -> axum::Router {
    server::router(&hs_config(), analyzer, server::Extensions::default())
}

fn refuse() -> Arc<dyn liveness::Analyse> {
    Arc::new(Refuse {
        pause: Duration::ZERO,
    })
}

#[tokio::test]
async fn every_bad_tuning_field_is_listed_in_one_422() {
    let app = app_with(refuse());
    let long_id = "x".repeat(129);
    let form = Form::new()
        .file("image", "a.jpg", b"jpeg")
        .text("enhanced_detection", "maybe")
        .text("facematch_frames", "0")
        .text("facematch_threshold", "1.5")
        .text("frame_sampling_rate", "abc")
        .text("max_frames_to_analyze", "-3")
        .text("image_type", "url")
        .text("details", "yes")
        .text("unique_id", &long_id);
    for path in ["/liveness", "/v2/liveness"] {
        let a = send(&app, form.request(path, Some(&good_token("c")))).await;
        assert_eq!(a.status, 422, "{}", a.text);
        for f in AnalysisOptions::FIELDS.iter().chain(["unique_id"].iter()) {
            let msgs =
                body_field(&a.json, f).unwrap_or_else(|| panic!("{f} not listed: {}", a.text));
            assert!(!msgs.is_empty() && msgs[0].is_string());
        }
        assert!(a.json["message"].is_string());
    }
}

#[tokio::test]
async fn good_tuning_values_pass_validation() {
    let cap = Arc::new(Capture::default());
    let app = app_with(cap.clone());
    let form = Form::new()
        .file("video", "v.mp4", b"not really a video")
        .text("enhanced_detection", "False")
        .text("facematch_frames", "5")
        .text("facematch_threshold", "0.75")
        .text("frame_sampling_rate", "10")
        .text("max_frames_to_analyze", "30")
        .text("image_type", "file")
        .text("details", "1")
        .text("unknown_vendor_field", "ignored");
    let a = send(&app, form.request("/liveness", Some(&good_token("c")))).await;
    // The capture analyser answers 400 naming `video` once it has the request.
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(body_field(&a.json, "video").is_some());
    let seen = cap
        .seen
        .lock()
        .unwrap()
        .clone()
        .expect("analyser was called");
    let o = seen.options;
    assert!(!o.enhanced_detection && o.details);
    assert_eq!(
        (
            o.facematch_frames,
            o.frame_sampling_rate,
            o.max_frames_to_analyze
        ),
        (5, 10, 30)
    );
    assert!((o.facematch_threshold - 0.75).abs() < 1e-6);
    assert_eq!(seen.video.as_deref(), Some(&b"not really a video"[..]));
    assert!(seen.image.is_none());
}

#[tokio::test]
async fn work_sizes_above_their_caps_are_served_at_the_caps() {
    // The contract bounds these only below: a vendor client's 500 frames is not an error.
    let cap = Arc::new(Capture::default());
    let app = app_with(cap.clone());
    let form = Form::new()
        .file("video", "v.mp4", b"not really a video")
        .text("facematch_frames", "51")
        .text("frame_sampling_rate", "5000")
        .text("max_frames_to_analyze", "500");
    let a = send(&app, form.request("/liveness", Some(&good_token("c")))).await;
    assert_eq!(a.status, 400, "the capture analyser's answer: {}", a.text);
    let o = cap.seen.lock().unwrap().clone().unwrap().options;
    assert_eq!(
        (
            o.facematch_frames,
            o.frame_sampling_rate,
            o.max_frames_to_analyze
        ),
        (50, 1000, 300)
    );
}

#[tokio::test]
async fn missing_empty_and_undecodable_media_are_400_naming_the_field() {
    let app = app_with(refuse());
    let t = good_token("c");
    // (what is sent, where, the fields the 400 must name, what the first message must say)
    let cases = [
        (
            Form::new().text("details", "True"),
            "/liveness",
            &["image", "video"][..],
            "",
        ),
        (
            Form::new().file("image", "e.jpg", b""),
            "/liveness",
            &["image"],
            "empty",
        ),
        (
            Form::new()
                .file("image", "i.jpg", b"x")
                .file("video", "v.mp4", b""),
            "/v2/liveness",
            &["video"],
            "",
        ),
        (
            Form::new()
                .text("image", "%%% not base64 %%%")
                .text("image_type", "base64"),
            "/liveness",
            &["image"],
            "base64",
        ),
        // base64 text sent as the file itself: told which field to add
        (
            Form::new().text("image", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"),
            "/liveness",
            &["image"],
            "send image_type=base64",
        ),
        // the analysis's own media errors name their field too
        (
            Form::new().file("image", "i.jpg", b"x"),
            "/liveness",
            &["image"],
            "",
        ),
        (
            Form::new().file("image1", "a.jpg", b"x"),
            "/facematch",
            &["image2"],
            "",
        ),
    ];
    for (form, path, fields, says) in cases {
        let a = send(&app, form.request(path, Some(&t))).await;
        assert_eq!(a.status, 400, "{path} {fields:?}: {}", a.text);
        for field in fields {
            let messages = body_field(&a.json, field)
                .unwrap_or_else(|| panic!("{path}: no `{field}` in {}", a.text));
            let first = messages[0].as_str().unwrap();
            assert!(first.contains(says), "{path} `{field}`: {first}");
        }
    }

    // Not multipart at all.
    let req = Request::post("/liveness")
        .header("authorization", format!("Bearer {t}"))
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.json["detail"]["body"].is_object());
}

#[tokio::test]
async fn misnamed_fields_are_named_in_the_error_too() {
    let app = app_with(refuse());
    let t = good_token("c");
    // Media under the wrong names: the 400 says what was sent instead.
    let form = Form::new()
        .file("photo", "p.jpg", b"x")
        .file("selfie_video", "v.mp4", b"x");
    let a = send(&app, form.request("/liveness", Some(&t))).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(
        a.headers["x-livegate-ignored-fields"],
        "photo, selfie_video"
    );
    let message = a.json["message"].as_str().unwrap();
    assert!(
        message.starts_with("no image and no video") && message.contains("photo, selfie_video"),
        "{message}"
    );
    assert!(body_field(&a.json, "image").is_some(), "{}", a.text);

    // An error of the analysis itself carries the header, its message unchanged.
    let form = Form::new()
        .file("image", "i.jpg", b"x")
        .text("enhanced_detetion", "False");
    let a = send(&app, form.request("/liveness", Some(&t))).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.headers["x-livegate-ignored-fields"], "enhanced_detetion");
    assert!(
        !a.json["message"].as_str().unwrap().contains("ignored"),
        "{}",
        a.text
    );

    // A 422 too.
    let form = Form::new()
        .file("image", "i.jpg", b"x")
        .text("max_frames_to_analyze", "0")
        .text("enhanced_detetion", "False");
    let a = send(&app, form.request("/liveness", Some(&t))).await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert_eq!(a.headers["x-livegate-ignored-fields"], "enhanced_detetion");
}

#[tokio::test]
async fn base64_image_is_decoded_at_the_edge() {
    let Some(dir) = testdata() else { return };
    let jpeg = std::fs::read_dir(dir.join("faces"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg")))
        .expect("a JPEG under faces/");
    let bytes = std::fs::read(&jpeg).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    for text in [b64.clone(), format!("data:image/jpeg;base64,{b64}")] {
        let cap = Arc::new(Capture::default());
        let app = app_with(cap.clone());
        let form = Form::new()
            .text("image", &text)
            .text("image_type", "base64");
        let a = send(&app, form.request("/liveness", Some(&good_token("c")))).await;
        assert_eq!(a.status, 400, "{}", a.text);
        let seen = cap.seen.lock().unwrap().clone().unwrap();
        assert_eq!(seen.image.as_deref(), Some(&bytes[..]));
    }
}

#[tokio::test]
async fn a_url_encoded_form_carries_base64_media_and_other_bodies_are_told_what_to_send() {
    use base64::Engine;
    let bytes = b"\xff\xd8\xff\xe0 a still".to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("image", &b64)
        .append_pair("details", "True")
        .finish();
    let cap = Arc::new(Capture::default());
    let app = app_with(cap.clone());
    let req = Request::post("/liveness")
        .header("authorization", format!("Bearer {}", good_token("c")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, 400, "the capture analyser's answer: {}", a.text);
    let seen = cap
        .seen
        .lock()
        .unwrap()
        .clone()
        .expect("analyser was called");
    assert_eq!(
        seen.image.as_deref(),
        Some(&bytes[..]),
        "base64 is the default here"
    );
    assert!(seen.options.details);

    for content_type in ["application/json", "text/plain"] {
        let req = Request::post("/liveness")
            .header("authorization", format!("Bearer {}", good_token("c")))
            .header("content-type", content_type)
            .body(Body::from("{}"))
            .unwrap();
        let a = send(&app_with(refuse()), req).await;
        assert_eq!(a.status, 400, "{content_type}: {}", a.text);
        assert!(
            a.json["message"]
                .as_str()
                .unwrap()
                .contains("multipart/form-data")
        );
        assert!(body_field(&a.json, "form").is_some(), "{}", a.text);
    }
}

#[tokio::test]
async fn oversized_body_is_413_with_or_without_content_length() {
    let app = app_with(refuse());
    let t = good_token("c");
    let big = vec![7u8; 2 * 1024 * 1024];
    let form = Form::new().file("video", "v.mp4", &big);
    let a = send(&app, form.request("/liveness", Some(&t))).await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(a.json["detail"]["body"].is_object() && a.json["message"].is_string());

    // Chunked: no Content-Length, the limit trips while streaming.
    let body = form.body();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let req = Request::post("/liveness")
        .header("authorization", format!("Bearer {t}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(a.json["detail"]["body"].is_object());
}

#[tokio::test]
async fn stalled_upload_is_408_and_frees_its_place() {
    let mut cfg = hs_config();
    cfg.upload_timeout = Duration::from_millis(300);
    let app = server::router(&cfg, refuse(), server::Extensions::default());
    let t = good_token("c");
    let head = Form::new().file("image", "i.jpg", b"x").body();
    let first: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(head[..40].to_vec())];
    let stalled = futures_util::StreamExt::chain(
        futures_util::stream::iter(first),
        futures_util::stream::pending(),
    );
    let req = Request::post("/liveness")
        .header("authorization", format!("Bearer {t}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from_stream(stalled))
        .unwrap();
    let started = std::time::Instant::now();
    let a = send(&app, req).await;
    assert_eq!(a.status, 408, "{}", a.text);
    assert!(started.elapsed() < Duration::from_secs(3));
    // With one worker and no queue, the place is free again.
    let ok = send(
        &app,
        Form::new()
            .file("image", "i.jpg", b"x")
            .request("/liveness", Some(&t)),
    )
    .await;
    assert_eq!(ok.status, 400);
}

#[tokio::test]
async fn wrong_method_and_unknown_path_use_the_envelope() {
    let app = app_with(refuse());
    let a = send(&app, Request::get("/liveness").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, 405);
    assert!(a.json["message"].is_string() && a.json["detail"].is_object());
    let a = send(
        &app,
        Request::get("/v3/liveness").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, 404);
    assert!(a.json["message"].is_string() && a.json["detail"].is_object());
    // Pages mounted beside the API (the Playground, the reference) answer a wrong method in
    // the envelope too, and say which methods they take.
    let page = axum::Router::new().route("/page", axum::routing::get(|| async { "a page" }));
    let app = server::router(
        &hs_config(),
        refuse(),
        server::Extensions {
            public: page,
            jobs: None,
        },
    );
    let a = send(&app, Request::post("/page").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.json["message"], "method not allowed", "{}", a.text);
    assert!(a.headers["allow"].to_str().unwrap().contains("GET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_is_503_with_retry_after() {
    let app = app_with(Arc::new(Refuse {
        pause: Duration::from_millis(800),
    }));
    let t = good_token("c");
    let form = Form::new().file("image", "i.jpg", b"x");
    let first = {
        let (app, req) = (app.clone(), form.request("/liveness", Some(&t)));
        tokio::spawn(async move { send(&app, req).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another client: the same one would be over its share of the queue first (429).
    let busy = send(&app, form.request("/liveness", Some(&good_token("c2")))).await;
    assert_eq!(busy.status, 503, "{}", busy.text);
    let after: u64 = busy.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(after >= 1);
    assert!(busy.json["message"].as_str().unwrap().contains("queue"));
    // The occupying request finishes normally, and the worker is free again.
    assert_eq!(first.await.unwrap().status, 400);
    assert_eq!(
        send(&app, form.request("/liveness", Some(&t))).await.status,
        400
    );
}

#[tokio::test]
async fn panicking_analysis_is_500_and_the_server_keeps_serving() {
    let app = app_with(Arc::new(PanicOn));
    let t = good_token("c");
    let a = send(
        &app,
        Form::new()
            .file("image", "p.jpg", b"PANIC!")
            .request("/liveness", Some(&t)),
    )
    .await;
    assert_eq!(a.status, 500, "{}", a.text);
    assert!(a.json["detail"].is_object() && a.json["message"].is_string());
    assert!(
        !a.text.contains("on purpose"),
        "panic text must not leak: {}",
        a.text
    );
    for _ in 0..3 {
        let a = send(
            &app,
            Form::new()
                .file("image", "ok.jpg", b"fine")
                .request("/liveness", Some(&t)),
        )
        .await;
        assert_eq!(a.status, 400);
    }
    let a = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn rate_limit_is_per_client_with_retry_after() {
    let mut cfg = hs_config();
    cfg.rate_limit = Some(RateLimit {
        per_minute: 2,
        burst: 2,
    });
    let app = server::router(&cfg, refuse(), server::Extensions::default());
    let (alice, bob) = (good_token("alice"), good_token("bob"));
    let form = Form::new();
    assert_eq!(
        send(&app, form.request("/liveness", Some(&alice)))
            .await
            .status,
        400
    );
    assert_eq!(
        send(&app, form.request("/liveness", Some(&alice)))
            .await
            .status,
        400
    );
    let a = send(&app, form.request("/liveness", Some(&alice))).await;
    assert_eq!(a.status, 429, "{}", a.text);
    let after: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&after), "{after}");
    assert!(a.json["detail"].is_object() && a.json["message"].is_string());
    assert_eq!(
        send(&app, form.request("/liveness", Some(&bob)))
            .await
            .status,
        400
    );
    // Unauthenticated requests are refused before they spend a client's budget.
    assert_eq!(
        send(&app, form.request("/liveness", None)).await.status,
        401
    );
}

#[tokio::test]
async fn x_request_id_carries_unique_id_or_a_generated_id() {
    let app = app_with(refuse());
    let t = good_token("c");
    let a = send(
        &app,
        Form::new()
            .file("image", "i.jpg", b"x")
            .text("unique_id", "order-42/ß")
            .request("/liveness", Some(&t)),
    )
    .await;
    // Header values are ASCII to every client: the id's UTF-8 bytes (and `%`) are
    // percent-encoded, the rest of it is echoed as sent.
    assert_eq!(a.headers["x-request-id"], "order-42/%C3%9F");
    let a = send(
        &app,
        Form::new()
            .file("image", "i.jpg", b"x")
            .text("unique_id", "50% off")
            .request("/liveness", Some(&t)),
    )
    .await;
    assert_eq!(a.headers["x-request-id"], "50%25 off");
    // Even when validation fails elsewhere in the form.
    let a = send(
        &app,
        Form::new()
            .text("unique_id", "batch-7")
            .text("facematch_frames", "zero")
            .request("/liveness", Some(&t)),
    )
    .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.headers["x-request-id"], "batch-7");
    let a = send(&app, Form::new().request("/liveness", Some(&t))).await;
    let id = a.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let b = send(&app, Form::new().request("/liveness", Some(&t))).await;
    assert_ne!(b.headers["x-request-id"], a.headers["x-request-id"]);
    // Also on 401 and 404.
    assert!(
        send(&app, Form::new().request("/liveness", None))
            .await
            .headers
            .contains_key("x-request-id")
    );
    let nf = send(&app, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(nf.status, 404);
    assert!(nf.headers.contains_key("x-request-id"));
}

/// The router is built from one table; the document must list exactly its routes, each with a
/// summary, and an example for every JSON success answer (in the response or its schema).
#[test]
fn openapi_documents_every_mounted_route_with_a_summary_and_examples() {
    let doc = server::openapi::document();
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((method.to_uppercase(), path.clone()));
            let summary = op["summary"].as_str().unwrap_or_default();
            assert!(!summary.is_empty(), "{method} {path} has no summary");
            for (status, r) in op["responses"].as_object().unwrap() {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
                if !status.starts_with('2') {
                    continue;
                }
                for (media, content) in r["content"].as_object().into_iter().flatten() {
                    if media.contains("zip") {
                        continue;
                    }
                    let schema_example = content["schema"]["$ref"]
                        .as_str()
                        .map(|r| &doc["components"]["schemas"][r.rsplit('/').next().unwrap()])
                        .is_some_and(|s| !s["example"].is_null());
                    assert!(
                        !content["example"].is_null() || schema_example,
                        "{method} {path} {status} ({media}) has no example"
                    );
                }
            }
        }
    }
    let mounted: std::collections::BTreeSet<(String, String)> = server::mounted_routes()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_string(), p.to_string()))
        .collect();
    assert_eq!(mounted, documented);
    assert!(mounted.len() >= 13, "{mounted:?}");
    // The statuses and headers the README promises for the analysis routes are published:
    // a client generated from the document knows the 408 and where the reason is.
    for path in ["/liveness", "/v2/liveness", "/facematch"] {
        let responses = &doc["paths"][path]["post"]["responses"];
        for status in ["408", "429", "503"] {
            assert!(responses[status].is_object(), "{path} lacks {status}");
        }
        assert!(
            responses["429"]["headers"]["Retry-After"].is_object(),
            "{path}"
        );
        let ok = &responses["200"]["headers"];
        assert!(ok["X-Livegate-Ignored-Fields"].is_object(), "{path}: {ok}");
        assert!(ok["X-Request-Id"].is_object(), "{path}: {ok}");
    }
    assert!(
        doc["paths"]["/liveness"]["post"]["responses"]["200"]["headers"]["X-Livegate-Reason"]
            .is_object()
    );
}

#[tokio::test]
async fn openapi_is_3_1_with_one_of_over_three_modes() {
    let app = app_with(refuse());
    let a = send(
        &app,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, 200);
    let doc = a.json;
    if std::env::var_os("DUMP_OPENAPI").is_some() {
        eprintln!("{}", serde_json::to_string_pretty(&doc).unwrap());
    }
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    // A published range is the one the server enforces (`?limit=0` is a 400).
    let limit = doc["paths"]["/v1/batches"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
    assert_eq!(limit["schema"]["maximum"], 100, "{limit}");
    let schemas = &doc["components"]["schemas"];
    // The verdict strings publish the only words they take.
    let words = |schema: &str, key: &str| {
        let r = schemas[schema]["properties"][key]["$ref"].as_str().unwrap();
        schemas[r.rsplit('/').next().unwrap()]["enum"].clone()
    };
    assert_eq!(words("LivenessReport", "result"), json!(["real", "fake"]));
    assert_eq!(
        words("LivenessReport", "image_result"),
        json!(["real", "fake", "N/A"])
    );
    for (schema, key) in [
        ("LivenessReport", "facematch_result"),
        ("LivenessReport", "overall_result"),
        ("FacematchReport", "facematch_result"),
    ] {
        assert_eq!(
            words(schema, key),
            json!(["True", "False"]),
            "{schema}.{key}"
        );
    }
    let one_of = schemas["LivenessMultipartRequest"]["oneOf"]
        .as_array()
        .unwrap();
    assert_eq!(one_of.len(), 3);
    let refs: Vec<&str> = one_of.iter().filter_map(|s| s["$ref"].as_str()).collect();
    assert_eq!(refs.len(), 3, "{one_of:?}");
    for (name, media) in [
        ("ImageAndVideoForm", vec!["image", "video"]),
        ("ImageOnlyForm", vec!["image"]),
        ("VideoOnlyForm", vec!["video"]),
    ] {
        let form = &schemas[name];
        assert_eq!(form["required"], json!(media), "{name}");
        // Closed, so that a request matches exactly one branch of the oneOf.
        assert_eq!(form["additionalProperties"], json!(false), "{name}");
        for f in AnalysisOptions::FIELDS.iter().chain(["unique_id"].iter()) {
            assert_eq!(form["properties"][f]["type"], "string", "{name}.{f}");
        }
        for m in media {
            assert_eq!(
                form["properties"][m]["contentMediaType"],
                "application/octet-stream"
            );
        }
    }
    for path in ["/liveness", "/v2/liveness"] {
        let body = &doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"];
        assert_eq!(
            body["schema"]["$ref"],
            "#/components/schemas/LivenessMultipartRequest"
        );
        assert!(doc["paths"][path]["post"]["responses"]["401"].is_object());
    }
    assert!(doc["paths"]["/facematch"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // The published response schema lists exactly the keys the analysis serializes.
    let report = LivenessReport {
        result: "fake".into(),
        confidence: 0.0,
        blink_detection: false,
        image_input: true,
        video_input: false,
        facematch_result: "False".into(),
        facematch_confidence: 0.0,
        facematch_frames_tested: 0,
        overall_result: "False".into(),
        overall_confidence: 0.0,
        image_result: "fake".into(),
        image_confidence: 0.0,
        video_frames_analyzed: 0,
        real_video_frames: 0,
        total_video_frames: 0,
        enhanced_detection: true,
        frame_sampling_rate: 15,
        max_frames_analyzed: 20,
        details: Some(json!({})),
    };
    let mut serialized: Vec<String> = serde_json::to_value(&report)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut published: Vec<String> = schemas["LivenessReport"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    serialized.sort();
    published.sort();
    assert_eq!(serialized, published);
    let required: Vec<&Value> = schemas["LivenessReport"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        required.len(),
        published.len() - 1,
        "all but details are required"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = app_with(refuse());
    let get = |p: &str| Request::get(p).body(Body::empty()).unwrap();
    assert_eq!(send(&app, get("/healthz")).await.status, 200);
    let r = send(&app, get("/readyz")).await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("ready")));
    let t = good_token("c");
    send(
        &app,
        Form::new()
            .file("image", "i.jpg", b"x")
            .request("/liveness", Some(&t)),
    )
    .await;
    send(&app, Form::new().request("/liveness", None)).await;
    let m = send(&app, get("/metrics")).await;
    assert_eq!(m.status, 200);
    assert!(
        m.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for line in [
        "livegate_http_requests_total{route=\"/liveness\",status=\"400\"} 1",
        "livegate_http_requests_total{route=\"/liveness\",status=\"401\"} 1",
        "livegate_http_request_duration_seconds_count{route=\"/liveness\"} 2",
        "livegate_stage_duration_seconds_count{stage=\"analysis\"} 1",
        "livegate_stage_duration_seconds_count{stage=\"queue\"} 1",
        "livegate_queue_depth 0",
        "livegate_workers_busy 0",
        "livegate_uploads_in_progress 0",
    ] {
        assert!(m.text.contains(line), "missing {line:?} in\n{}", m.text);
    }
}

#[tokio::test]
async fn metrics_keep_their_help_buckets_and_bounded_routes() {
    let app = app_with(refuse());
    let get = |p: &str| Request::get(p).body(Body::empty()).unwrap();
    // A scanner's paths all land in one series.
    for p in [
        "/wp-admin",
        "/.env",
        "/v1/batches/abc/archive",
        "/v1/batches/def",
        "/v1/challenges",
        "/docs",
        "/docs/docs.js",
    ] {
        send(&app, get(p)).await;
    }
    let m = send(&app, get("/metrics")).await;
    for line in [
        "# HELP livegate_http_requests_total HTTP requests by route and status.",
        "# TYPE livegate_http_requests_total counter",
        "# HELP livegate_http_request_duration_seconds Request latency by route.",
        "# TYPE livegate_http_request_duration_seconds histogram",
        "# HELP livegate_queue_depth Analyses admitted and waiting for a worker.",
        "# TYPE livegate_queue_depth gauge",
        "# HELP livegate_workers_busy Analyses running now.",
        "# TYPE livegate_workers_busy gauge",
        "# HELP livegate_uploads_in_progress Analysis request bodies being received now.",
        "# TYPE livegate_uploads_in_progress gauge",
        "livegate_http_requests_total{route=\"other\",status=\"404\"} 2",
        "livegate_http_request_duration_seconds_count{route=\"other\"} 2",
        "livegate_http_request_duration_seconds_count{route=\"/v1/batches\"} 2",
    ] {
        assert!(m.text.contains(line), "missing {line:?} in\n{}", m.text);
    }
    let les: Vec<&str> = m
        .text
        .lines()
        .filter(|l| l.starts_with("livegate_http_request_duration_seconds_bucket{route=\"other\""))
        .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        les,
        [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30",
            "60", "+Inf"
        ]
    );
    let routes: std::collections::BTreeSet<&str> = m
        .text
        .lines()
        .filter(|l| l.starts_with("livegate_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .collect();
    // Every route of the app is named (the API reference and challenges were "other").
    assert_eq!(
        routes,
        ["/docs", "/v1/batches", "/v1/challenges", "other"].into()
    );
}

/// Each app counts its own requests: no recorder is shared through a global.
#[tokio::test]
async fn each_app_has_its_own_metrics() {
    let get = |p: &str| Request::get(p).body(Body::empty()).unwrap();
    let a = app_with(refuse());
    let b = app_with(refuse());
    send(&a, get("/healthz")).await;
    send(&a, get("/healthz")).await;
    send(&b, get("/healthz")).await;
    let line =
        |n: u32| format!("livegate_http_requests_total{{route=\"/healthz\",status=\"200\"}} {n}");
    let ma = send(&a, get("/metrics")).await.text;
    let mb = send(&b, get("/metrics")).await.text;
    assert!(ma.contains(&line(2)), "{ma}");
    assert!(mb.contains(&line(1)), "{mb}");
}

#[tokio::test]
async fn an_incoming_request_id_is_kept_only_when_acceptable() {
    let app = app_with(refuse());
    let with_id = |id: &[u8]| {
        Request::get("/healthz")
            .header(
                "x-request-id",
                axum::http::HeaderValue::from_bytes(id).unwrap(),
            )
            .body(Body::empty())
            .unwrap()
    };
    let a = send(&app, with_id(b"client-7:abc")).await;
    assert_eq!(a.headers["x-request-id"], "client-7:abc");
    let long = "x".repeat(128);
    let a = send(&app, with_id(long.as_bytes())).await;
    assert_eq!(a.headers["x-request-id"], long.as_str());
    for bad in [
        "x".repeat(129).into_bytes(),
        b"".to_vec(),
        b"has space".to_vec(),
        "caf\u{e9}".as_bytes().to_vec(),
    ] {
        let a = send(&app, with_id(&bad)).await;
        let id = a.headers["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 32, "{bad:?} kept as {id:?}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    // The client's unique_id still wins over an incoming id on the response.
    let mut req = Form::new()
        .text("unique_id", "order-9")
        .request("/liveness", Some(&good_token("c")));
    req.headers_mut()
        .insert("x-request-id", "from-header".parse().unwrap());
    assert_eq!(send(&app, req).await.headers["x-request-id"], "order-9");
}

#[tokio::test]
async fn auth_disabled_still_validates() {
    let app = server::router(
        &config_with(Auth::Disabled),
        refuse(),
        server::Extensions::default(),
    );
    let a = send(
        &app,
        Form::new()
            .text("facematch_threshold", "2")
            .request("/liveness", None),
    )
    .await;
    assert_eq!(a.status, 422);
}
