//! The contract's error body, `{"detail": {"<location>": {"<field>": ["msg"]}}, "message": "..."}`,
//! used both for HTTP errors of the batch routes and for the stored outcome of a failed item.
//!
//! Kept local and tiny so this crate does not depend on the server crate; the shape is the
//! contract's, so the two cannot disagree on anything but wording.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use liveness::AnalysisError;
use serde_json::{Value, json};

/// An envelope naming one bad form field (location `body`).
pub fn field_error(field: &str, message: &str) -> Value {
    json!({"detail": {"body": {field: [message]}}, "message": format!("{field}: {message}")})
}

/// An envelope without a field, for failures that are nobody's input.
pub fn plain_error(message: &str) -> Value {
    json!({"detail": {}, "message": message})
}

/// What `POST /liveness` or `POST /facematch` would have answered for this failure.
pub fn analysis_error(err: &AnalysisError) -> Value {
    match err {
        AnalysisError::Media { field, message }
        | AnalysisError::MediaTooLarge { field, message } => field_error(field.as_str(), message),
        AnalysisError::NothingToAnalyse => field_error("image", "give an image, a video or both"),
        AnalysisError::Internal(m) => plain_error(&format!("internal error: {m}")),
    }
}

/// An HTTP error of the batch routes.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    pub fn field(status: StatusCode, field: &str, message: impl AsRef<str>) -> Self {
        Self {
            status,
            body: field_error(field, message.as_ref()),
        }
    }

    pub fn plain(status: StatusCode, message: impl AsRef<str>) -> Self {
        Self {
            status,
            body: plain_error(message.as_ref()),
        }
    }

    pub fn fields(status: StatusCode, errors: &[(String, String)]) -> Self {
        let mut fields = serde_json::Map::new();
        for (f, m) in errors {
            let list = fields
                .entry(f.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(Value::String(m.clone()));
            }
        }
        let names: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        Self {
            status,
            body: json!({"detail": {"body": fields}, "message": format!("invalid value for {}", names.join(", "))}),
        }
    }

    pub fn not_found(id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            body: json!({"detail": {"path": {"id": ["no such batch"]}}, "message": format!("no batch {id:?}")}),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}
