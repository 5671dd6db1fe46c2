//! Per-request identity: the `X-Request-Id` (the client's when acceptable, a fresh one
//! otherwise), a span carrying it (and, once the form is read, the client's `unique_id`) around
//! everything the request logs, and the id on the response.
//!
//! tower-http sets, propagates and traces; two small pieces are ours because it has no hook for
//! them: refusing an unacceptable incoming id, and answering with the client's `unique_id`.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{self, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId as IncomingId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::Span;

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

/// Wraps `app` (outermost first): refuse an unacceptable incoming id, set one where there is
/// none, copy it to the response unless the handler answered with a `unique_id`, and run the
/// request inside its span, logging when it is finished.
pub fn layered(app: Router) -> Router {
    app.layer(middleware::from_fn(adopt_unique_id)).layer(
        ServiceBuilder::new()
            .map_request(drop_unacceptable::<Body>)
            .layer(SetRequestIdLayer::x_request_id(MakeId))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(span::<Body>)
                    .on_request(())
                    .on_response(finished::<Body>)
                    // A 5xx is logged where it happens, with its cause.
                    .on_failure(()),
            ),
    )
}

fn acceptable(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.iter().all(u8::is_ascii_graphic)
}

/// tower-http keeps whatever id the client sent and only makes one when there is none, so an
/// unacceptable one (too long, blank, not visible ASCII) is removed first and gets replaced.
fn drop_unacceptable<B>(mut req: http::Request<B>) -> http::Request<B> {
    if let Some(id) = req.headers().get(HEADER)
        && !acceptable(id.as_bytes())
    {
        req.headers_mut().remove(HEADER);
    }
    req
}

/// A v4 UUID as 32 hex digits (tower-http's own maker writes the hyphenated form).
#[derive(Clone, Copy)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<IncomingId> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        HeaderValue::from_str(&id).ok().map(IncomingId::new)
    }
}

/// The span every line the request logs is in; `unique_id` and `sub` are filled in once known.
fn span<B>(req: &http::Request<B>) -> Span {
    let id = req
        .extensions()
        .get::<IncomingId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        unique_id = tracing::field::Empty,
        sub = tracing::field::Empty,
        method = %req.method(),
        route = crate::metrics::route_label(req.uri().path()),
    )
}

/// Called inside the request's span.
fn finished<B>(resp: &http::Response<B>, latency: Duration, _: &Span) {
    tracing::info!(
        status = resp.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1e3,
        "request finished"
    );
}

/// The client's `unique_id` is only known once the handler has read the form, possibly on the
/// way to an error, so the handler leaves it in an extension and this answers with it; without
/// one, tower-http's propagation puts the request id on the response.
async fn adopt_unique_id(mut req: Request, next: Next) -> Response {
    let rid = RequestId {
        unique_id: Arc::new(OnceLock::new()),
    };
    req.extensions_mut().insert(rid.clone());
    let mut resp = next.run(req).await;
    if let Some(v) = rid
        .unique_id
        .get()
        .and_then(|u| HeaderValue::from_str(&header_safe(u)).ok())
    {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

/// Bytes a header value may carry as they are: visible ASCII and the space, `%` aside.
const KEPT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');

/// The `unique_id` as a header value every HTTP client reads alike: header values are
/// ASCII in practice (most clients decode other bytes as Latin-1, so a UTF-8 id would come
/// back altered), so anything else, and `%` itself, is percent-encoded as its UTF-8 bytes;
/// an ASCII id without `%` is echoed unchanged. Control characters were refused with the form.
fn header_safe(uid: &str) -> String {
    percent_encoding::utf8_percent_encode(uid, KEPT).to_string()
}
