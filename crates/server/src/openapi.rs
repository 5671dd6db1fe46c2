//! The OpenAPI 3.1 document, generated from these types and the handlers' annotations.
//!
//! The multipart forms are described here rather than deserialized: the server reads parts by
//! hand (to stream limits and report every bad field at once), so these types exist only to be
//! published. The response bodies are the types the handlers serialise (`liveness::LivenessReport`,
//! `liveness::FacematchReport`, the `/v2` blocks), so their schema cannot drift from them.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// The tuning fields' defaults as the forms publish them: [`AnalysisOptions::default`], written
/// once.
pub mod defaults {
    use liveness::AnalysisOptions;

    fn text(f: impl FnOnce(AnalysisOptions) -> String) -> String {
        f(AnalysisOptions::default())
    }
    pub fn enhanced_detection() -> String {
        text(|o| {
            if o.enhanced_detection {
                "True"
            } else {
                "False"
            }
            .into()
        })
    }
    pub fn facematch_frames() -> String {
        text(|o| o.facematch_frames.to_string())
    }
    pub fn facematch_threshold() -> String {
        text(|o| o.facematch_threshold.to_string())
    }
    pub fn frame_sampling_rate() -> String {
        text(|o| o.frame_sampling_rate.to_string())
    }
    pub fn max_frames_to_analyze() -> String {
        text(|o| o.max_frames_to_analyze.to_string())
    }
}

/// One multipart form of the liveness endpoints: its media parts (required) plus the optional
/// tuning strings every mode shares. Unknown fields are closed off in the schema so that each
/// request matches exactly one of the three `oneOf` branches (the server itself ignores extras).
macro_rules! liveness_form {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $media:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[schema(content_media_type = "application/octet-stream")]
                pub $media: String,
            )+
            /// Image+video only. `True`: multi-frame analysis of the video; `False`: still-image
            /// PAD plus a blink check on the video. Booleans accept True/False/true/false/1/0.
            #[serde(default)]
            #[schema(default = $crate::openapi::defaults::enhanced_detection, pattern = "^(True|False|true|false|1|0)$")]
            pub enhanced_detection: String,
            /// Image+video: video frames compared to the still. Integer ≥ 1; above 50 served at 50 and named in `X-Livegate-Capped-Fields`.
            #[serde(default)]
            #[schema(default = $crate::openapi::defaults::facematch_frames)]
            pub facematch_frames: String,
            /// Image+video: fraction of tested frames that must match. Number 0..=1.
            #[serde(default)]
            #[schema(default = $crate::openapi::defaults::facematch_threshold)]
            pub facematch_threshold: String,
            /// Enhanced: analyse every Nth frame. Integer ≥ 1; above 1000 served at 1000 and named in `X-Livegate-Capped-Fields`.
            #[serde(default)]
            #[schema(default = $crate::openapi::defaults::frame_sampling_rate)]
            pub frame_sampling_rate: String,
            /// Enhanced: cap on frames analysed. Integer ≥ 1; above 300 served at 300 and named in `X-Livegate-Capped-Fields`.
            #[serde(default)]
            #[schema(default = $crate::openapi::defaults::max_frames_to_analyze)]
            pub max_frames_to_analyze: String,
            /// `file`: `image` is an uploaded file; `base64`: `image` is base64 text (a `data:`
            /// URI prefix is accepted).
            #[serde(default)]
            #[schema(default = "file", pattern = "^(file|base64)$")]
            pub image_type: String,
            /// Correlation id, at most 128 characters; echoed in `X-Request-Id` and in every log
            /// line of the request.
            #[serde(default)]
            #[schema(max_length = 128)]
            pub unique_id: String,
            /// `True` adds a `details` object with the evidence behind the verdict.
            #[serde(default)]
            #[schema(default = "False", pattern = "^(True|False|true|false|1|0)$")]
            pub details: String,
            /// Optional, with a video: the id from `POST /v1/challenges`. The video must show
            /// the challenge's steps, in order, each inside its window; otherwise, or when the
            /// id is expired, used, another client's or not this server's, the result is `fake`
            /// with the reason in `X-Livegate-Reason` (`challenge_failed`,
            /// `challenge_face_changed`, `challenge_expired`, `challenge_reused`,
            /// `challenge_foreign`, `challenge_invalid`). A malformed or empty id is a 422. An
            /// answer whose media cannot be analysed (400, 413) or that meets a server error
            /// does not use the id up.
            #[serde(default)]
            pub challenge_id: String,
        }
    };
}

liveness_form! {
    /// Still and video: liveness over both plus a face comparison between them.
    ImageAndVideoForm {
        /// The still selfie (a file, or base64 text with `image_type=base64`).
        image,
        /// A short selfie video: MP4/H.264, MOV, WebM (VP8/VP9), HEVC.
        video,
    }
}

liveness_form! {
    /// Still only: presentation-attack detection on one image.
    ImageOnlyForm {
        /// The still selfie (a file, or base64 text with `image_type=base64`).
        image,
    }
}

liveness_form! {
    /// Video only: multi-frame liveness and blink detection.
    VideoOnlyForm {
        /// A short selfie video: MP4/H.264, MOV, WebM (VP8/VP9), HEVC.
        video,
    }
}

/// The three input modes of `POST /liveness` and `POST /v2/liveness`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LivenessMultipartRequest {
    ImageAndVideo(ImageAndVideoForm),
    ImageOnly(ImageOnlyForm),
    VideoOnly(VideoOnlyForm),
}

/// `POST /facematch` form.
#[derive(Serialize, ToSchema)]
pub struct FacematchMultipartRequest {
    #[schema(content_media_type = "application/octet-stream")]
    pub image1: String,
    #[schema(content_media_type = "application/octet-stream")]
    pub image2: String,
    /// `file` or `base64`, applies to both images.
    #[serde(default)]
    #[schema(default = "file", pattern = "^(file|base64)$")]
    pub image_type: String,
    /// Correlation id, at most 128 characters.
    #[serde(default)]
    #[schema(max_length = 128)]
    pub unique_id: String,
    /// `True` adds the evidence behind the verdict.
    #[serde(default)]
    #[schema(default = "False")]
    pub details: String,
}

/// Every error: `detail` maps a location (`body`, `header`, `server`) to fields and their
/// messages; on 401 it is empty.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "detail": {"body": {"facematch_threshold": ["must be a number between 0 and 1"]}},
    "message": "Invalid request"
}))]
pub struct ErrorEnvelope {
    pub detail: HashMap<String, HashMap<String, Vec<String>>>,
    pub message: String,
}

/// `POST /v1/batches`: one ZIP plus the liveness tuning fields, applied to every item.
#[derive(Serialize, ToSchema)]
pub struct BatchUploadForm {
    /// The archive: `<stem>_image.<ext>` / `<stem>_video.<ext>` pairs for liveness,
    /// `<stem>_image1.<ext>` / `<stem>_image2.<ext>` for facematch. A file's folders are part
    /// of its stem (`alice/selfie_image.jpg` is stem `alice/selfie`), except one folder that
    /// wraps the whole archive.
    #[schema(content_media_type = "application/zip")]
    pub file: String,
    #[serde(default)]
    pub enhanced_detection: String,
    #[serde(default)]
    pub facematch_frames: String,
    #[serde(default)]
    pub facematch_threshold: String,
    #[serde(default)]
    pub frame_sampling_rate: String,
    #[serde(default)]
    pub max_frames_to_analyze: String,
    #[serde(default)]
    pub details: String,
}

/// One batch item as the progress body shows it.
#[derive(Serialize, ToSchema)]
pub struct BatchItem {
    pub index: u64,
    pub stem: String,
    /// `liveness` or `facematch`.
    pub kind: String,
    pub files: Vec<String>,
    /// `pending`, `running` (being analysed; it keeps its result even if the batch is
    /// cancelled meanwhile), `ok`, `error` or `not_run` (the batch was cancelled first).
    pub status: String,
    pub elapsed_ms: Option<u64>,
    /// Why a liveness verdict is fake regardless of any score (`no_face`, …), when a rule
    /// decided it; `null` otherwise.
    pub reason: Option<String>,
    /// Liveness items: the still scored within the review margin of its threshold
    /// (`details.review`), a verdict worth a person's look.
    pub near_threshold: Option<bool>,
    /// The answer `POST /liveness` or `/facematch` would have given (without `details`), or
    /// its error envelope.
    #[schema(value_type = Option<Object>)]
    pub response: Option<serde_json::Value>,
}

/// A batch and its progress.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0f5e2c1a-7d44-4c39-9a63-2b1f0e9d8c77", "status": "done", "zip_name": "selfies.zip",
    "total": 2, "done": 2, "ok": 2, "error": 0, "progress": 1.0,
    "created_unix_ms": 1795000000000u64, "started_unix_ms": 1795000000120u64,
    "finished_unix_ms": 1795000004310u64, "skipped": [],
    "settings": {"enhanced_detection": true, "facematch_frames": 3, "facematch_threshold": 0.6,
                 "frame_sampling_rate": 15, "max_frames_to_analyze": 20, "image_type": "file",
                 "details": false},
    "pad_weights": [{"weights": {"crop_27.onnx": "6c4600e3…", "crop_40.onnx": "d734971f…"},
                     "image_real_threshold": 0.43, "verdicts": 2}],
    "archive_url": "/v1/batches/0f5e2c1a-7d44-4c39-9a63-2b1f0e9d8c77/archive",
    "items": [{"index": 0, "stem": "alice", "kind": "liveness", "files": ["alice_image.jpg"],
               "status": "ok", "elapsed_ms": 41, "reason": null, "near_threshold": false,
               "response": {"result": "real", "confidence": 0.93}},
              {"index": 1, "stem": "dog", "kind": "liveness", "files": ["dog_image.jpg"],
               "status": "ok", "elapsed_ms": 35, "reason": "no_face", "near_threshold": false,
               "response": {"result": "fake", "confidence": 1.0}}]
}))]
pub struct BatchJob {
    pub id: String,
    /// `queued`, `running`, `done` or `cancelled`.
    pub status: String,
    pub zip_name: String,
    pub total: u64,
    pub done: u64,
    pub ok: u64,
    pub error: u64,
    pub progress: f64,
    pub created_unix_ms: u64,
    pub started_unix_ms: Option<u64>,
    pub finished_unix_ms: Option<u64>,
    /// Files that matched no pattern, with the reason.
    #[schema(value_type = Vec<Object>)]
    pub skipped: Vec<serde_json::Value>,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// Each distinct set of PAD graphs (file name → SHA-256) and still threshold that judged
    /// the batch's liveness verdicts so far, with how many it judged. More than one means
    /// replicas with different weights or operating points shared the batch; `results.csv`'s
    /// `pad_weights` and `image_real_threshold` columns name each row's.
    #[schema(value_type = Vec<Object>)]
    pub pad_weights: Vec<serde_json::Value>,
    /// Set once the batch finished.
    pub archive_url: Option<String>,
    pub items: Vec<BatchItem>,
}

/// A page of the caller's batches (items omitted).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "batches": [{"id": "0f5e2c1a-7d44-4c39-9a63-2b1f0e9d8c77", "status": "running", "total": 40, "done": 12}],
    "next_cursor": "1795000000000.0f5e2c1a-7d44-4c39-9a63-2b1f0e9d8c77"
}))]
pub struct BatchList {
    #[schema(value_type = Vec<Object>)]
    pub batches: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The errors of the three analysis routes (`/liveness`, `/v2/liveness`, `/facematch`), listed
/// once. The variants are never built: the type exists to be published.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum AnalysisErrors {
    #[response(status = 400, description = "Missing, empty or undecodable media")]
    BadMedia(ErrorEnvelope),
    #[response(
        status = 401,
        description = "Missing or invalid bearer token",
        headers(("WWW-Authenticate" = String, description = "`Bearer`; the reason is the body's `message`"))
    )]
    Unauthorized(ErrorEnvelope),
    #[response(
        status = 408,
        description = "The body did not arrive within the upload timeout (`--upload-timeout-secs`), or fell below the minimum upload rate (`--upload-min-rate`)"
    )]
    TooSlow(ErrorEnvelope),
    #[response(status = 413, description = "Body over the configured limit")]
    TooLarge(ErrorEnvelope),
    #[response(status = 422, description = "Bad tuning fields, all listed")]
    BadFields(ErrorEnvelope),
    #[response(
        status = 429,
        description = "Client over its rate limit, its share of the queue or of the upload places",
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
    )]
    TooMany(ErrorEnvelope),
    #[response(
        status = 503,
        description = "Analysis queue full, every upload place taken, or too many connections from this address",
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
    )]
    Busy(ErrorEnvelope),
    #[response(status = 500, description = "Internal error")]
    Internal(ErrorEnvelope),
}

/// The errors of every route that names one batch, listed once (never built, like
/// [`AnalysisErrors`]).
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum BatchLookupErrors {
    #[response(status = 400, description = "An id that is not UTF-8 text")]
    BadPath(ErrorEnvelope),
    #[response(status = 401, description = "Missing or invalid bearer token")]
    Unauthorized(ErrorEnvelope),
    #[response(status = 404, description = "No such batch for this client")]
    NotFound(ErrorEnvelope),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Livegate", description = "Self-hosted face liveness detection"),
    paths(
        crate::routes::liveness::liveness,
        crate::routes::v2::liveness_v2,
        crate::routes::facematch::facematch,
        crate::routes::batches::submit,
        crate::routes::batches::list,
        crate::routes::batches::status,
        crate::routes::batches::cancel,
        crate::routes::batches::erase,
        crate::routes::batches::archive,
        crate::routes::challenges::issue,
        crate::routes::health::healthz,
        crate::routes::health::readyz,
        crate::routes::health::metrics,
        crate::routes::health::openapi,
    ),
    components(schemas(
        LivenessMultipartRequest,
        ImageAndVideoForm,
        ImageOnlyForm,
        VideoOnlyForm,
        liveness::LivenessReport,
        FacematchMultipartRequest,
        liveness::FacematchReport,
        ErrorEnvelope,
        crate::routes::v2::LivenessV2,
        BatchUploadForm,
        BatchItem,
        BatchJob,
        BatchList,
        crate::routes::challenges::Challenge,
        crate::routes::challenges::ChallengeStep,
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|e| {
        // Serializing our own static description cannot fail on input; if it ever did, the
        // endpoint says so rather than taking the server down.
        serde_json::json!({"error": e.to_string()})
    })
});

/// The document served at `GET /openapi.json`.
pub fn document() -> serde_json::Value {
    DOCUMENT.clone()
}
