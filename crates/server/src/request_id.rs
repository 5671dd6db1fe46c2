//! Per-request identity: a span carrying the request id (and, once the form is read, the
//! client's `unique_id`) around everything the request logs, and the `X-Request-Id` header.

use crate::app::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";
/// The contract's bound on `unique_id`; incoming `X-Request-Id` headers get the same.
pub const MAX_ID_LEN: usize = 128;

/// Handed to handlers through request extensions.
#[derive(Clone)]
pub struct RequestId {
    unique_id: Arc<OnceLock<String>>,
}

impl RequestId {
    /// Adopts the client's `unique_id` for the response header and the rest of the log lines.
    pub fn set_unique_id(&self, uid: &str) {
        tracing::Span::current().record("unique_id", uid);
        let _ = self.unique_id.set(uid.to_owned());
    }
}

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let rid = RequestId {
        unique_id: Arc::new(OnceLock::new()),
    };
    let route = crate::metrics::route_label(req.uri().path());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        unique_id = tracing::field::Empty,
        sub = tracing::field::Empty,
        method = %req.method(),
        route,
    );
    req.extensions_mut().insert(rid.clone());
    let mut resp = next.run(req).instrument(span.clone()).await;
    // A UTF-8 `unique_id` is a valid header value as opaque bytes; control characters were
    // refused when the form was read.
    let shown = rid
        .unique_id
        .get()
        .and_then(|u| HeaderValue::from_bytes(u.as_bytes()).ok())
        .or_else(|| HeaderValue::from_str(&id).ok());
    if let Some(v) = shown {
        resp.headers_mut().insert(HEADER, v);
    }
    let elapsed = start.elapsed();
    state
        .metrics
        .observe_request(route, resp.status().as_u16(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1e3,
            "request finished"
        )
    });
    resp
}
