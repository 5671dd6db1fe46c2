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
        AnalysisError::BothMedia { image, video } => {
            let (mut image, video) = (analysis_error(image), analysis_error(video));
            if let (Some(into), Some(from)) = (
                image["detail"]["body"].as_object_mut(),
                video["detail"]["body"].as_object(),
            ) {
                into.extend(from.clone());
            }
            image["message"] = json!(format!(
                "{}; {}",
                image["message"].as_str().unwrap_or_default(),
                video["message"].as_str().unwrap_or_default()
            ));
            image
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use liveness::MediaField;

    #[test]
    fn both_bad_parts_are_named_in_one_body() {
        let bad = |field, message: &str| AnalysisError::Media {
            field,
            message: message.into(),
        };
        let both = AnalysisError::of_both::<(), ()>(
            Err(bad(MediaField::Image, "unrecognised image data")),
            Err(bad(MediaField::Video, "unrecognised video data")),
        )
        .unwrap_err();
        let body = analysis_error(&both);
        assert_eq!(
            body["detail"]["body"]["image"][0],
            "unrecognised image data"
        );
        assert_eq!(
            body["detail"]["body"]["video"][0],
            "unrecognised video data"
        );
        assert_eq!(
            body["message"],
            "image: unrecognised image data; video: unrecognised video data"
        );
        // A failure of ours beside a bad video is ours: the video is not blamed for it.
        let ours = AnalysisError::of_both::<(), ()>(
            Err(AnalysisError::Internal("model".into())),
            Err(bad(MediaField::Video, "x")),
        )
        .unwrap_err();
        assert!(matches!(ours, AnalysisError::Internal(_)));
    }
}
