//! `POST /v1/challenges`: a random active challenge for the caller to perform on camera, then
//! answer with `challenge_id` on `/liveness` or `/v2/liveness`.
//!
//! The id is signed with a key kept in the embedded store (so every process on it can check
//! it) and is single-use; it belongs to the caller (issuer, tenant and token `sub`).

use crate::app::AppState;
use crate::auth::Caller;
use crate::challenge_token::{self, ChallengeId};
use crate::error::ApiError;
use crate::openapi::ErrorEnvelope;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use jobs::{JobService, Owner};
use liveness::AnalysisError;
use liveness::challenge::{self, ChallengeInput, Step};
use liveness::policy;
use rand::Rng;
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![(Method::POST, "/v1/challenges", post(issue))]
}

/// One step as the client shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeStep {
    /// `turn_left`, `turn_right`, `look_up`, `look_down`, `blink` or `move_closer`.
    #[schema(value_type = String)]
    pub step: Step,
    /// What to show the person.
    pub instruction: &'static str,
    /// The step must be seen between these times, in seconds from the video's first frame.
    pub start_s: f64,
    pub end_s: f64,
}

/// A new challenge.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "challenge_id": "eyJuIjoi…In0.3q2-…",
    "steps": [
        {"step": "turn_left", "instruction": "Turn your head to your left", "start_s": 1.0, "end_s": 4.0},
        {"step": "blink", "instruction": "Blink", "start_s": 4.0, "end_s": 7.0}
    ],
    "record_s": 8.0,
    "expires_in_s": 60,
    "expires_unix_ms": 1795000060000u64
}))]
pub struct Challenge {
    /// Send it as the `challenge_id` field with the video; it works once.
    pub challenge_id: String,
    pub steps: Vec<ChallengeStep>,
    /// Record at least this long (the last window's end plus a second).
    pub record_s: f64,
    pub expires_in_s: u64,
    pub expires_unix_ms: u64,
}

#[utoipa::path(
    post,
    path = "/v1/challenges",
    tag = "liveness",
    summary = "A random active challenge to perform while recording, answered with `challenge_id`",
    responses(
        (status = 201, description = "The steps, their windows and the single-use id", body = Challenge),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorEnvelope),
        (status = 429, description = "Client over its rate limit", body = ErrorEnvelope),
        (status = 500, description = "Internal error", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
pub async fn issue(State(st): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let jobs = st.jobs.clone().ok_or_else(ApiError::internal)?;
    let key = tokio::task::spawn_blocking(move || jobs.challenge_key())
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| ApiError::from_store(&e))?;
    // The operating system's generator: the sequence must not be predictable.
    let mut rng = rand::rngs::OsRng;
    let windows = challenge::plan(|n| rng.gen_range(0..n));
    let record_s = windows.last().map_or(0.0, |w| w.end_s) + 1.0;
    let expires_unix_ms = jobs::now_ms() + policy::CHALLENGE_TTL_S * 1000;
    let body = Challenge {
        challenge_id: challenge_token::issue(&key, &caller.owner, windows.clone(), expires_unix_ms),
        steps: windows
            .iter()
            .map(|w| ChallengeStep {
                step: w.step,
                instruction: w.step.instruction(),
                start_s: w.start_s,
                end_s: w.end_s,
            })
            .collect(),
        record_s,
        expires_in_s: policy::CHALLENGE_TTL_S,
        expires_unix_ms,
    };
    tracing::info!(steps = body.steps.len(), "challenge issued");
    // A single-use id: no cache between the client and here may keep or replay it.
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

/// Gives a challenge consumed by [`resolve`] back; a store that cannot be reached leaves it
/// used (the client asks for a new one), which is logged.
pub fn release(jobs: Option<&JobService>, id: &ChallengeId) {
    if let Some(jobs) = jobs
        && let Err(e) = jobs.release_challenge(id.nonce())
    {
        tracing::warn!(error = %e, "challenge not given back after an unanalysed answer");
    }
}

/// Resolves a challenge id sent with a video, on the worker thread (it reads the store).
pub fn resolve(
    jobs: Option<&JobService>,
    id: &ChallengeId,
    owner: &Owner,
) -> Result<ChallengeInput, AnalysisError> {
    let jobs = jobs.ok_or_else(|| AnalysisError::Internal("challenges need the store".into()))?;
    let failed = |what: &str, e: &jobs::StoreError| {
        let msg = format!("{what}: {e}");
        if e.is_unavailable() {
            AnalysisError::Unavailable(msg)
        } else {
            AnalysisError::Internal(msg)
        }
    };
    let key = jobs
        .challenge_key()
        .map_err(|e| failed("challenge key", &e))?;
    let mut store_error = None;
    let input = id.resolve(&key, owner, jobs::now_ms(), |nonce, expires| {
        jobs.consume_challenge(nonce, expires).unwrap_or_else(|e| {
            store_error = Some(e);
            false
        })
    });
    match store_error {
        Some(e) => Err(failed("challenge store", &e)),
        None => Ok(input),
    }
}
