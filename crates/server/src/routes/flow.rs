//! The flow every analysis route shares, written once: a look at the queue *before* the body is
//! read (so a full server answers 503/429 without taking the upload), an upload place while the
//! body arrives, the form parsed with every bad field reported at once, a queue place once the
//! work is whole (so stalled uploads never hold the queue), the work on a worker thread (never
//! on the async runtime), and the queue and analysis times recorded.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, name_capped, name_ignored};
use crate::multipart::{self, Form};
use crate::request_id::RequestId;
use axum::extract::Request;
use axum::response::Response;
use liveness::{Analyse, AnalysisError};
use std::sync::Arc;
use std::time::Instant;

/// What a route's work produced, the form fields it ignored and those served at their caps.
pub struct Analysed<T> {
    pub value: T,
    pub ignored: Vec<String>,
    pub capped: Vec<String>,
}

impl<T> Analysed<T> {
    pub fn annotate(&self, mut resp: Response) -> Response {
        name_ignored(resp.headers_mut(), &self.ignored);
        name_capped(resp.headers_mut(), &self.capped);
        resp
    }
}

/// `media`: the media parts this route reads (`image`, `video`; `image1`, `image2`).
pub async fn analyse<P, T>(
    st: &AppState,
    rid: &RequestId,
    caller: &Caller,
    req: Request,
    media: &[&str],
    parse: fn(Form) -> Result<P, ApiError>,
    work: impl FnOnce(Arc<dyn Analyse>, P) -> Result<T, AnalysisError> + Send + 'static,
) -> Result<Analysed<T>, ApiError>
where
    P: Send + 'static,
    T: Send + 'static,
{
    // Refused before the body is read when the queue could not take the work now.
    st.pool
        .room(&caller.owner)
        .map_err(|e| ApiError::from_pool(e, st.retry_after))?;
    let upload = st
        .uploads
        .take(&caller.owner)
        .map_err(|e| ApiError::from_uploads(e, st.retry_after))?;
    let t = Instant::now();
    let raw = multipart::read(req, st.body_limit, st.upload_timeout).await?;
    if let Some(uid) = multipart::valid_unique_id(&raw) {
        rid.set_unique_id(uid);
    }
    let ignored = raw.ignored_fields(media);
    let capped = multipart::capped_fields(&raw);
    if !ignored.is_empty() {
        tracing::warn!(fields = ?ignored, "form fields ignored");
    }
    let parsed = parse(raw).map_err(|e| e.with_ignored(&ignored))?;
    st.metrics.observe_stage("parse", t.elapsed());
    // The queue place is taken only now that the work is whole; the upload place goes back.
    let ticket = st
        .pool
        .admit(&caller.owner)
        .map_err(|e| ApiError::from_pool(e, st.retry_after).with_ignored(&ignored))?;
    drop(upload);
    let analyzer = st.analyzer.clone();
    let (outcome, times) = ticket
        .run(move || work(analyzer, parsed))
        .await
        .map_err(|e| ApiError::from_pool(e, st.retry_after))?;
    st.metrics.observe_stage("queue", times.queued);
    st.metrics.observe_stage("analysis", times.ran);
    match outcome {
        Ok(value) => Ok(Analysed {
            value,
            ignored,
            capped,
        }),
        Err(e) => Err(ApiError::from(e).with_ignored(&ignored)),
    }
}
