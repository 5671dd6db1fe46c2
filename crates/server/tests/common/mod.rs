//! Shared test helpers: multipart bodies, in-process requests, keys, and the small `Analyse`
//! implementations that exercise the server's own machinery (they never fabricate a verdict).

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use liveness::{
    Analyse, Analysis, AnalysisError, AnalysisRequest, Analyzer, Comparison, MediaField, Models,
};
use serde_json::Value;
use server::{Auth, Config, Verifier};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;
use vision::ModelStore;

pub const SECRET: &[u8] = b"an-hs256-secret-of-at-least-32-bytes!!";

#[allow(unused_imports)]
pub use testkit::testdata;

#[allow(unused_imports)]
pub use testkit::multipart::{BOUNDARY, Form};

/// An in-process request carrying a [`Form`], for the router's `oneshot`.
pub trait FormRequest {
    fn request(&self, path: &str, token: Option<&str>) -> Request<Body>;
}

impl FormRequest for Form {
    fn request(&self, path: &str, token: Option<&str>) -> Request<Body> {
        let body = self.body();
        let mut b = Request::post(path)
            .header("content-type", testkit::multipart::content_type())
            .header("content-length", body.len());
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b.body(Body::from(body)).unwrap()
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub json: Value,
    pub text: String,
}

pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp: Response<Body> = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
        text,
    }
}

pub fn hs_verifier() -> Verifier {
    let mut v = Verifier::new(Duration::from_secs(30));
    v.add_hs256_secret(SECRET).unwrap();
    v
}

pub fn config_with(auth: Auth) -> Config {
    let mut c = Config::new(auth);
    c.workers = 1;
    c.queue_depth = 0;
    c.body_limit = 1024 * 1024;
    c.deadline = Duration::from_secs(10);
    c
}

pub fn hs_config() -> Config {
    config_with(Auth::Jwt(Arc::new(hs_verifier())))
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn hs_token(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

pub fn good_token(sub: &str) -> String {
    hs_token(serde_json::json!({"sub": sub, "exp": now() + 600}))
}

/// Refuses every request as undecodable media after an optional pause: lets a test hold a
/// worker, or reach the analysis without pretending to produce a verdict.
pub struct Refuse {
    pub pause: Duration,
}

impl Analyse for Refuse {
    fn analyse(&self, _: &AnalysisRequest) -> Result<Analysis, AnalysisError> {
        std::thread::sleep(self.pause);
        tracing::info!("refuse analyser ran");
        Err(AnalysisError::Media {
            field: MediaField::Image,
            message: "refused by test analyser".into(),
        })
    }
    fn facematch(&self, _: &[u8], _: &[u8]) -> Result<Comparison, AnalysisError> {
        std::thread::sleep(self.pause);
        Err(AnalysisError::Media {
            field: MediaField::Image1,
            message: "refused by test analyser".into(),
        })
    }
}

/// Panics on a request whose image starts with `b"PANIC"`, else refuses it like [`Refuse`].
pub struct PanicOn;

impl Analyse for PanicOn {
    fn analyse(&self, r: &AnalysisRequest) -> Result<Analysis, AnalysisError> {
        if r.image.as_deref().is_some_and(|i| i.starts_with(b"PANIC")) {
            panic!("test analyser panicked on purpose");
        }
        Refuse {
            pause: Duration::ZERO,
        }
        .analyse(r)
    }
    fn facematch(&self, a: &[u8], b: &[u8]) -> Result<Comparison, AnalysisError> {
        Refuse {
            pause: Duration::ZERO,
        }
        .facematch(a, b)
    }
}

/// Keeps what the server handed over, so a test can check the edge's decoding.
#[derive(Default)]
pub struct Capture {
    pub seen: Mutex<Option<AnalysisRequest>>,
}

impl Analyse for Capture {
    fn analyse(&self, r: &AnalysisRequest) -> Result<Analysis, AnalysisError> {
        *self.seen.lock().unwrap() = Some(r.clone());
        Err(AnalysisError::Media {
            field: MediaField::Video,
            message: "captured".into(),
        })
    }
    fn facematch(&self, _: &[u8], _: &[u8]) -> Result<Comparison, AnalysisError> {
        Err(AnalysisError::Internal("not used".into()))
    }
}

/// The production analyser over the installed models, loaded once per test binary; `None`
/// (loudly, or a panic under CI) when the models are missing.
pub fn real_analyzer() -> Option<Arc<dyn Analyse>> {
    static ANALYZER: std::sync::OnceLock<Option<Arc<dyn Analyse>>> = std::sync::OnceLock::new();
    ANALYZER
        .get_or_init(|| {
            let loaded = ModelStore::open_default()
                .map_err(|e| e.to_string())
                .and_then(|store| Models::load(&store).map_err(|e| e.to_string()));
            match loaded {
                Ok(models) => Some(Arc::new(Analyzer::new(models)) as Arc<dyn Analyse>),
                Err(e) => {
                    if std::env::var("CI").as_deref() == Ok("true") {
                        panic!("models missing: {e:#}");
                    }
                    eprintln!("SKIPPED: models missing: {e:#}");
                    None
                }
            }
        })
        .clone()
}

/// A request without a body (GET, DELETE, a POST that only names its target) with a token.
pub fn bodiless(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

/// Where a test's log subscriber writes, to read the lines back.
#[derive(Clone, Default)]
pub struct LogBuffer(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The envelope's messages for `field` at `body`.
pub fn body_field<'a>(json: &'a Value, field: &str) -> Option<&'a Vec<Value>> {
    json.get("detail")?.get("body")?.get(field)?.as_array()
}
