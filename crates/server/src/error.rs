//! The one place where every failure becomes the contract's error envelope:
//! `{"detail": {"<location>": {"<field>": ["message"]}}, "message": "..."}`.

use crate::jwt::AuthError;
use crate::workers::PoolError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobs::places::Refused;
use liveness::{AnalysisError, OptionError};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The contract's locations: form fields live in `body`, credentials in `header`.
pub const BODY: &str = "body";

/// How long a client waits when the job store cannot be reached: the pool gives up on a
/// connection after 5 s, and a database back from a restart serves within seconds (measured:
/// about 3 s after PostgreSQL returned, every replica answered again).
const STORE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Names the fields the server read and ignored (unknown names, another route's media), on
/// successes and errors alike, so a typo such as `enhanced_detetion` does not pass silently;
/// the contract's body is unchanged.
pub const IGNORED_HEADER: &str = "x-livegate-ignored-fields";

/// Names the tuning fields served at their caps (`max_frames_to_analyze=300`), comma-separated.
pub const CAPPED_HEADER: &str = "x-livegate-capped-fields";

/// Sets [`CAPPED_HEADER`] when any field was served at its cap.
pub fn name_capped(headers: &mut axum::http::HeaderMap, capped: &[String]) {
    if !capped.is_empty()
        && let Ok(v) = HeaderValue::from_str(&capped.join(", "))
    {
        headers.insert(CAPPED_HEADER, v);
    }
}

/// Sets [`IGNORED_HEADER`] when any field was ignored (the names are header-safe:
/// `multipart::Form::ignored_fields`).
pub fn name_ignored(headers: &mut axum::http::HeaderMap, ignored: &[String]) {
    if !ignored.is_empty()
        && let Ok(v) = HeaderValue::from_str(&ignored.join(", "))
    {
        headers.insert(IGNORED_HEADER, v);
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// `location -> field -> messages`.
    detail: Map<String, Value>,
    pub message: String,
    retry_after: Option<Duration>,
    challenge: bool,
    /// Form fields the server read and ignored ([`IGNORED_HEADER`]).
    ignored: Vec<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: Map::new(),
            message: message.into(),
            retry_after: None,
            challenge: false,
            ignored: Vec::new(),
        }
    }

    /// Names the form fields that were read and ignored, in the same header a success
    /// carries. An error is where a misnamed field matters most: `photo=` instead of `image=`
    /// is answered "no image and no video", and the answer then says what was sent instead.
    pub fn with_ignored(mut self, ignored: &[String]) -> Self {
        if ignored.is_empty() {
            return self;
        }
        if self.detail_has(BODY, "image") && self.detail_has(BODY, "video") {
            self.message = format!(
                "{} (ignored, as fields this route does not read: {})",
                self.message,
                ignored.join(", ")
            );
        }
        self.ignored = ignored.to_vec();
        self
    }

    fn detail_has(&self, location: &str, field: &str) -> bool {
        self.detail
            .get(location)
            .and_then(Value::as_object)
            .is_some_and(|f| f.contains_key(field))
    }

    /// Adds every field message of `other` to this error's.
    fn with_details_of(self, other: ApiError) -> Self {
        let mut merged = self;
        for (location, fields) in other.detail {
            let Value::Object(fields) = fields else {
                continue;
            };
            for (field, messages) in fields {
                for m in messages.as_array().into_iter().flatten() {
                    merged = merged.with_field(&location, &field, m.as_str().unwrap_or_default());
                }
            }
        }
        merged
    }

    /// Adds one message for `field` at `location`; repeated fields collect their messages.
    pub fn with_field(mut self, location: &str, field: &str, msg: impl Into<String>) -> Self {
        let loc = self
            .detail
            .entry(location.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(fields) = loc {
            let list = fields
                .entry(field.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(Value::String(msg.into()));
            }
        }
        self
    }

    /// 400: a media part is missing, empty or not decodable.
    pub fn bad_media(field: &str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Self::new(StatusCode::BAD_REQUEST, format!("{field}: {msg}")).with_field(BODY, field, msg)
    }

    /// 400: the body is not a readable multipart form at all.
    pub fn bad_form(msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Self::new(StatusCode::BAD_REQUEST, format!("invalid form: {msg}"))
            .with_field(BODY, "form", msg)
    }

    /// 400 (the contract has no 415): the body is neither multipart nor URL-encoded.
    pub fn unsupported_body(content_type: &str) -> Self {
        let shown: String = content_type.chars().take(100).collect();
        let got = if shown.is_empty() {
            "no Content-Type".to_owned()
        } else {
            shown
        };
        Self::bad_form(format!(
            "expected multipart/form-data (files, or base64 with image_type=base64) or \
             application/x-www-form-urlencoded (base64 media), got {got}"
        ))
    }

    /// 422 listing every bad tuning field at once.
    pub fn invalid_fields(errors: &[OptionError]) -> Self {
        let names: Vec<&str> = errors.iter().map(|e| e.field).collect();
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid value for {}", names.join(", ")),
        );
        for err in errors {
            e = e.with_field(BODY, err.field, err.message.clone());
        }
        e
    }

    /// 401 with `WWW-Authenticate: Bearer`; the body has an empty `detail`, as the contract says.
    pub fn unauthorized(err: &AuthError) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, err.to_string());
        e.challenge = true;
        e
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds {limit} bytes"),
        )
        .with_field(BODY, "request", format!("larger than {limit} bytes"))
    }

    pub fn rate_limited(retry_after: Duration) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded").with_field(
            "header",
            "authorization",
            "too many requests for this client",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 429 for a peer past its budget of failed authentications.
    pub fn auth_rate_limited(retry_after: Duration) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed authentications from this address",
        )
        .with_field("header", "authorization", "too many failed attempts");
        e.retry_after = Some(retry_after);
        e.challenge = true;
        e
    }

    /// 429: this client already holds its share of the analysis queue.
    pub fn client_share(share: usize, retry_after: Duration) -> Self {
        let msg = format!(
            "this client already holds its share of the analysis queue ({share} places: waiting or running)"
        );
        Self::retry_later(StatusCode::TOO_MANY_REQUESTS, "queue", msg, retry_after)
    }

    /// Refused an upload place: 503 when every place is taken, 429 when this client holds its
    /// share.
    pub fn from_uploads(refused: Refused, retry_after: Duration) -> Self {
        let (status, msg) = match refused {
            Refused::Full => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many uploads in progress on this server".to_owned(),
            ),
            Refused::Share(share) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!("this client already has {share} uploads in progress"),
            ),
        };
        Self::retry_later(status, "uploads", msg, retry_after)
    }

    /// A batch client over its quota: 413 for bytes, 429 (retry later) for its counts, 503
    /// (retry later) when every batch upload place of the server is taken.
    pub fn quota(err: &jobs::QuotaError, retry_after: Duration) -> Self {
        let msg = err.to_string();
        match err {
            jobs::QuotaError::Bytes { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, msg.clone()).with_field(BODY, "file", msg)
            }
            // The same envelope as a refused analysis upload place (`from_uploads`).
            jobs::QuotaError::UploadsInAll { .. } => {
                Self::retry_later(StatusCode::SERVICE_UNAVAILABLE, "uploads", msg, retry_after)
            }
            jobs::QuotaError::ActiveJobs { .. } | jobs::QuotaError::Uploads { .. } => {
                Self::retry_later(StatusCode::TOO_MANY_REQUESTS, "quota", msg, retry_after)
            }
        }
    }

    /// `status` with one message for a form field (location `body`).
    pub fn field(status: StatusCode, field: &str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Self::new(status, format!("{field}: {msg}")).with_field(BODY, field, msg)
    }

    /// `status` with one message for a path parameter (location `path`).
    pub fn path_field(status: StatusCode, field: &str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Self::new(status, format!("{field}: {msg}")).with_field("path", field, msg)
    }

    /// 404 for a stored object the caller does not reach: the same answer whether it exists
    /// for someone else or not at all.
    pub fn no_such(kind: &str, id: &str) -> Self {
        let shown: String = id.chars().take(64).collect();
        Self::new(StatusCode::NOT_FOUND, format!("no {kind} {shown:?}")).with_field(
            "path",
            "id",
            format!("no such {kind}"),
        )
    }

    /// 400 for a bad query parameter.
    pub fn bad_query(field: &str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        Self::new(StatusCode::BAD_REQUEST, format!("{field}: {msg}"))
            .with_field("query", field, msg)
    }

    pub fn busy(message: impl Into<String>, retry_after: Duration) -> Self {
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "queue",
            message,
            retry_after,
        )
    }

    /// A refusal for want of room on the server (location `server`, `field` naming the
    /// resource) that the client may retry after `retry_after`.
    fn retry_later(
        status: StatusCode,
        field: &str,
        msg: impl Into<String>,
        retry_after: Duration,
    ) -> Self {
        let msg = msg.into();
        let mut e = Self::new(status, msg.clone()).with_field("server", field, msg);
        e.retry_after = Some(retry_after);
        e
    }

    /// 503: the job store (the database) cannot be reached; the client may retry.
    pub fn store_unavailable() -> Self {
        let message = "the job store (database) cannot be reached; try again shortly";
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "store",
            message,
            STORE_RETRY_AFTER,
        )
    }

    /// A store failure: 503 when the database is out of reach (worth a retry), else 500.
    pub fn from_store(e: &jobs::StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "job store unavailable");
            Self::store_unavailable()
        } else {
            tracing::error!(error = %e, "job store");
            Self::internal()
        }
    }

    /// 500: details go to the log, never to the client.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").with_field(
            "server",
            "analysis",
            "internal error; see the server log for this request id",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    }

    /// 408: the body did not arrive within the upload timeout.
    pub fn upload_timeout(limit: Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("request body not received within {} s", limit.as_secs()),
        )
        .with_field(BODY, "request", "upload too slow")
    }

    /// 503: this remote address already holds its share of the server's connections.
    pub fn too_many_connections() -> Self {
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "connections",
            "too many open connections from this address",
            Duration::from_secs(1),
        )
    }

    /// 408: the body arrived slower than the server's minimum upload rate.
    pub fn upload_too_slow(bytes_per_sec: u64) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("request body arrived slower than {bytes_per_sec} bytes per second"),
        )
        .with_field(BODY, "request", "upload too slow")
    }

    pub fn from_pool(err: PoolError, retry_after: Duration) -> Self {
        match err {
            PoolError::Full => Self::busy("analysis queue is full", retry_after),
            PoolError::ClientShare(share) => Self::client_share(share, retry_after),
            PoolError::TimedOut(d) => Self::busy(
                format!(
                    "analysis did not finish within {} s: it waited for a free worker",
                    d.as_secs()
                ),
                retry_after,
            ),
            // No Retry-After: the same request would overrun again.
            PoolError::Overran(d) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "analysis did not finish within this server's deadline of {} s; send a \
                     shorter video or fewer frames to analyse",
                    d.as_secs()
                ),
            )
            .with_field("server", "deadline", "analysis overran the deadline"),
            PoolError::Panicked(msg) => {
                tracing::error!(panic = %msg, "analysis panicked");
                Self::internal()
            }
        }
    }

    pub fn body(&self) -> Value {
        json!({"detail": Value::Object(self.detail.clone()), "message": self.message})
    }
}

impl From<AnalysisError> for ApiError {
    fn from(err: AnalysisError) -> Self {
        match err {
            AnalysisError::Media { field, message } => Self::bad_media(field.as_str(), message),
            AnalysisError::MediaTooLarge { field, message } => {
                let mut e = Self::bad_media(field.as_str(), message);
                e.status = StatusCode::PAYLOAD_TOO_LARGE;
                e
            }
            AnalysisError::BothMedia { image, video } => {
                let (image, video) = (Self::from(*image), Self::from(*video));
                // A part that cannot be decoded must be replaced whatever its size: 400 wins.
                let status = if image.status == StatusCode::BAD_REQUEST {
                    image.status
                } else {
                    video.status
                };
                Self {
                    status,
                    message: format!("{}; {}", image.message, video.message),
                    ..image.with_details_of(video)
                }
            }
            AnalysisError::NothingToAnalyse => missing_media(),
            AnalysisError::Internal(msg) => {
                tracing::error!(error = %msg, "analysis failed");
                Self::internal()
            }
            AnalysisError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "analysis needs an unreachable store");
                Self::store_unavailable()
            }
        }
    }
}

/// 400 when neither media part was sent: both fields are named so the client sees its options.
pub fn missing_media() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "no image and no video: send image, video, or both",
    )
    .with_field(BODY, "image", "field required when no video is sent")
    .with_field(BODY, "video", "field required when no image is sent")
}

/// axum's own extractor rejections (a path that is not UTF-8, a repeated query parameter, a
/// body that is not multipart) answer in plain text; every error a client sees must be in the
/// contract's envelope, so the router passes each plain-text client error through here.
pub async fn envelope_plain_errors(resp: Response) -> Response {
    let plain = resp.status().is_client_error()
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain {
        return resp;
    }
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let message = String::from_utf8_lossy(&bytes).trim().to_owned();
    let lower = message.to_ascii_lowercase();
    let location = if lower.contains("query") {
        "query"
    } else if lower.contains("url") || lower.contains("path") {
        "path"
    } else {
        BODY
    };
    ApiError::new(status, message.clone())
        .with_field(location, "request", message)
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        let headers = resp.headers_mut();
        if self.challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(after) = self.retry_after {
            // Retry-After is whole seconds; never advertise 0, which invites a hot loop.
            let secs = after.as_secs().max(1);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // The rest of a body that came too slowly is not worth waiting for: without this
            // hyper keeps reading it to reuse the connection, and the slow client keeps the
            // connection as long as it likes.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        name_ignored(headers, &self.ignored);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_store_is_a_503_with_retry_after_not_a_500() {
        let down = ApiError::from_store(&jobs::StoreError::Postgres(sqlx::Error::PoolTimedOut));
        let resp = down.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "5");
        let bug = ApiError::from_store(&jobs::StoreError::Corrupt("row".into())).into_response();
        assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn only_a_deadline_lost_to_waiting_invites_a_retry() {
        let wait = Duration::from_secs(2);
        let busy = ApiError::from_pool(PoolError::TimedOut(Duration::from_secs(60)), wait);
        let overran = ApiError::from_pool(PoolError::Overran(Duration::from_secs(60)), wait);
        assert!(
            overran.message.contains("deadline of 60 s"),
            "{}",
            overran.message
        );
        let (busy, overran) = (busy.into_response(), overran.into_response());
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "2");
        assert_eq!(overran.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(overran.headers().get(header::RETRY_AFTER).is_none());
    }
}
