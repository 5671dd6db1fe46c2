//! The contract's error body, `{"detail": {"<location>": {"<field>": ["msg"]}}, "message": "..."}`,
//! as stored for a batch item that failed: the same body `POST /liveness` would have answered.
//! Internal failures are logged in full and stored in the words the API uses, never with their
//! internal text.

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

/// The stored body of a failure that is ours, not the client's: what the API answers for a 500.
pub fn internal_error() -> Value {
    plain_error("internal error; see the server log")
}

/// What `POST /liveness` or `POST /facematch` would have answered for this failure.
pub fn analysis_error(err: &AnalysisError) -> Value {
    match err {
        AnalysisError::Media { field, message }
        | AnalysisError::MediaTooLarge { field, message } => field_error(field.as_str(), message),
        AnalysisError::NothingToAnalyse => field_error("image", "give an image, a video or both"),
        AnalysisError::Internal(m) => {
            tracing::error!(error = %m, "batch item analysis failed");
            internal_error()
        }
        AnalysisError::Unavailable(m) => {
            tracing::warn!(error = %m, "batch item analysis needed an unreachable store");
            plain_error("a store the analysis needs could not be reached")
        }
    }
}
