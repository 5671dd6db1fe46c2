//! `/v1/batches`: submit a ZIP (202 + id), list the caller's batches, poll one with its results
//! so far, download the output archive, cancel, erase.
//!
//! Every route goes through the same [`Caller`] extractor as `/liveness` and every lookup is by
//! (id, caller): a batch that belongs to someone else answers exactly like one that does not
//! exist (404). Each access to stored data leaves one audit line.

use crate::app::AppState;
use crate::audit::{self, Action, Outcome};
use crate::auth::Caller;
use crate::error::{ApiError, name_capped, name_ignored};
use crate::multipart::reportable_names;
use crate::openapi::{BatchJob, BatchList, BatchLookupErrors, BatchUploadForm, ErrorEnvelope};
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use jobs::{Access, Cursor, Download, ItemState, JobRecord, JobService, Owner, SubmitError};
use liveness::AnalysisOptions;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Form fields other than the archive are short strings; anything longer is not a tuning value.
const MAX_TEXT_FIELD: usize = 1024;
const MAX_FIELDS: usize = 32;
/// Page size of `GET /v1/batches` when the client does not say, and the most it may ask for.
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// Room for the multipart framing and the text fields around the archive.
const MULTIPART_OVERHEAD: u64 = 1024 * 1024;

pub fn routes(max_zip_bytes: u64) -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    let body_limit = max_zip_bytes.saturating_add(MULTIPART_OVERHEAD);
    vec![
        (
            Method::POST,
            "/v1/batches",
            post(submit).layer(DefaultBodyLimit::max(
                usize::try_from(body_limit).unwrap_or(usize::MAX),
            )),
        ),
        (Method::GET, "/v1/batches", get(list)),
        (Method::GET, "/v1/batches/{id}", get(status)),
        (Method::DELETE, "/v1/batches/{id}", delete(erase)),
        (Method::POST, "/v1/batches/{id}/cancel", post(cancel)),
        (Method::GET, "/v1/batches/{id}/archive", get(archive)),
    ]
}

fn service(st: &AppState) -> Result<&Arc<JobService>, ApiError> {
    // The routes are only mounted with a service; this is a wiring bug if it ever fires.
    st.jobs.as_ref().ok_or_else(|| {
        tracing::error!("batch route without a batch service");
        ApiError::internal()
    })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "batch route");
    ApiError::internal()
}

/// Runs blocking store work off the reactor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, jobs::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(internal)?
        .map_err(|e| ApiError::from_store(&e))
}

#[utoipa::path(
    post,
    path = "/v1/batches",
    tag = "batches",
    summary = "Upload a ZIP of stills/videos; every item analysed in the background",
    request_body(content = BatchUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Accepted; `Location` names the batch", body = BatchJob, headers(("Location" = String, description = "`/v1/batches/{id}`"), ("X-Request-Id" = String, description = "The request's id, also in the logs"), ("X-Livegate-Ignored-Fields" = String, description = "Form fields no batch setting reads (unknown or misspelt names), comma-separated; absent when none"), ("X-Livegate-Capped-Fields" = String, description = "Tuning fields sent above their caps and served at them (`max_frames_to_analyze=300`), comma-separated; absent when none"))),
        (status = 400, description = "Not a usable ZIP (unreadable, empty, encrypted, a link, a name with `..` or a root, a compression bomb), or no `file` part", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorEnvelope),
        (status = 408, description = "The archive did not arrive within the batch upload timeout", body = ErrorEnvelope),
        (status = 413, description = "Archive over a limit (1 GiB, 2,000 entries, 100 MiB an entry or 2 GiB in all unpacked) or the client's byte quota", body = ErrorEnvelope),
        (status = 422, description = "Bad tuning fields, all listed", body = ErrorEnvelope),
        (status = 429, description = "Client over its rate limit, its batch or upload quota", body = ErrorEnvelope),
        (status = 503, description = "Every batch upload place of the server is taken (`--batch-max-uploads`), or the job store is out of reach", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let svc = Arc::clone(service(&st)?);
    let refused = |e: ApiError| {
        audit::record(&caller, "", Action::Submit, Outcome::Refused);
        e
    };
    // Not multipart at all (a raw ZIP body, a missing boundary): the envelope, not axum's text.
    let mut form = form.map_err(|e| {
        refused(ApiError::bad_form(format!(
            "{}; send the archive as multipart/form-data in a part named \"file\"",
            e.body_text()
        )))
    })?;
    let (admit, owner) = (Arc::clone(&svc), caller.owner.clone());
    let slot = tokio::task::spawn_blocking(move || admit.begin_upload(&owner))
        .await
        .map_err(internal)?
        .map_err(|e| refused(submit_error(e, &st)))?;
    // A declared length past what could be accepted is refused before a byte is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let most = svc.limits().max_zip_bytes.min(slot.allowance);
    if declared.is_some_and(|n| n > most.saturating_add(MULTIPART_OVERHEAD)) {
        return Err(refused(ApiError::field(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file",
            format!("the upload declares more than the {most} bytes this client may send now"),
        )));
    }
    let mut upload = Upload::default();
    let read = tokio::time::timeout(
        st.batch_upload_timeout,
        read_form(&svc, &mut form, &mut upload, slot.allowance),
    )
    .await;
    let read = match read {
        Ok(r) => r,
        Err(_) => Err(ApiError::upload_timeout(st.batch_upload_timeout)),
    };
    let ignored = upload.ignored();
    let refused = |e: ApiError| refused(e.with_ignored(&ignored));
    if let Err(e) = read {
        upload.discard().await;
        return Err(refused(e));
    }
    let Some((path, zip_name)) = upload.file.take() else {
        return Err(refused(ApiError::field(
            StatusCode::BAD_REQUEST,
            "file",
            "a .zip file part named \"file\" is required",
        )));
    };
    let fields = std::mem::take(&mut upload.fields);
    let capped = AnalysisOptions::capped(|k| fields.get(k).map(String::as_str));
    let setting = |k: &str| (k != NOT_A_BATCH_SETTING).then(|| fields.get(k)).flatten();
    let settings = match AnalysisOptions::from_fields(|k| setting(k).map(String::as_str)) {
        Ok(s) => s,
        Err(errors) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(refused(ApiError::invalid_fields(&errors)));
        }
    };
    let owner = caller.owner.clone();
    let worker = Arc::clone(&svc);
    let lock = upload.lock.take();
    let job = tokio::task::spawn_blocking(move || {
        let job = worker.submit(&owner, &path, &zip_name, settings);
        drop((slot, lock));
        job
    })
    .await
    .map_err(internal)?
    .map_err(|e| refused(submit_error(e, &st)))?;
    audit::record(&caller, &job.id, Action::Submit, Outcome::Ok);
    let access = caller.access();
    let id = job.id.clone();
    let items = blocking(move || svc.items(&id, &access)).await?;
    let location = format!("/v1/batches/{}", job.id);
    let mut response = (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job_json(&job, &items)),
    )
        .into_response();
    name_ignored(response.headers_mut(), &ignored);
    name_capped(response.headers_mut(), &capped);
    Ok(response)
}

fn submit_error(e: SubmitError, st: &AppState) -> ApiError {
    match e {
        SubmitError::Intake(e) if e.is_over_a_limit() => {
            ApiError::field(StatusCode::PAYLOAD_TOO_LARGE, "file", e.to_string())
        }
        SubmitError::Intake(e) => ApiError::field(StatusCode::BAD_REQUEST, "file", e.to_string()),
        SubmitError::Quota(q) => ApiError::quota(&q, st.retry_after),
        SubmitError::Service(jobs::ServiceError::Store(e)) => ApiError::from_store(&e),
        SubmitError::Service(e) => internal(e),
    }
}

/// `/liveness`'s `image_type` says how the `image` part is encoded; a batch's entries are
/// files whatever it says, so it is reported as ignored rather than echoed as a setting.
const NOT_A_BATCH_SETTING: &str = "image_type";

/// What an upload in progress has produced so far.
#[derive(Default)]
struct Upload {
    fields: HashMap<String, String>,
    file: Option<(PathBuf, String)>,
    /// Holds the upload file's lock until the job has taken the file (or it is discarded), so
    /// that a sweep does not take it for a crash's leftover.
    lock: Option<std::fs::File>,
}

impl Upload {
    /// The text fields no batch setting reads, for the ignored-fields header.
    fn ignored(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .fields
            .keys()
            .filter(|k| {
                !AnalysisOptions::FIELDS.contains(&k.as_str()) || k.as_str() == NOT_A_BATCH_SETTING
            })
            .cloned()
            .collect();
        reportable_names(&mut names, 0);
        names
    }

    /// Removes a partial archive after a refusal.
    async fn discard(&mut self) {
        if let Some((path, _)) = self.file.take() {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
}

async fn read_form(
    service: &JobService,
    form: &mut Multipart,
    upload: &mut Upload,
    allowance: u64,
) -> Result<(), ApiError> {
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::field(status, "file", "the upload is larger than the limit")
        } else {
            ApiError::bad_form(e.body_text())
        }
    };
    let max_zip = service.limits().max_zip_bytes;
    let max = max_zip.min(allowance);
    let mut count = 0;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        count += 1;
        if count > MAX_FIELDS {
            return Err(ApiError::bad_form("too many form fields"));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" && field.file_name().is_some() {
            // Otherwise a ZIP under another name reads as an over-long text field.
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "file",
                format!(
                    "send the archive as the one file part, named \"file\" (this upload has a file \
                     in the part \"{}\")",
                    name.chars().take(64).collect::<String>()
                ),
            ));
        }
        if name == "file" {
            if upload.file.is_some() {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "file",
                    "give exactly one archive per batch",
                ));
            }
            let zip_name = field.file_name().unwrap_or("batch.zip").to_owned();
            let (path, file) = service.new_upload().map_err(internal)?;
            // A second handle on the same open file keeps its lock after `out` is done.
            upload.lock = Some(file.try_clone().map_err(internal)?);
            let mut out = tokio::fs::File::from_std(file);
            upload.file = Some((path, zip_name));
            let mut written: u64 = 0;
            while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                written += chunk.len() as u64;
                if written > max {
                    let why = if max < max_zip {
                        format!(
                            "the archive would take this client over its quota of unfinished batch bytes ({max} bytes left)"
                        )
                    } else {
                        format!("the archive is larger than {max} bytes")
                    };
                    return Err(ApiError::field(StatusCode::PAYLOAD_TOO_LARGE, "file", why));
                }
                out.write_all(&chunk).await.map_err(internal)?;
            }
            out.flush().await.map_err(internal)?;
            if written == 0 {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "file",
                    "the archive is empty",
                ));
            }
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_TEXT_FIELD {
                    return Err(ApiError::field(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &name,
                        "value too long",
                    ));
                }
            }
            let text = String::from_utf8(text).map_err(|_| {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &name, "not UTF-8 text")
            })?;
            upload.fields.insert(name, text);
        }
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/batches",
    tag = "batches",
    summary = "The caller's own batches, newest first",
    params(
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 100, description = "Batches per page, 1..=100 (default 20)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "The caller's own batches, newest first", body = BatchList),
        (status = 400, description = "Bad `limit` or `cursor`", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let svc = Arc::clone(service(&st)?);
    let limit = match q.limit.as_deref() {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_query("limit", format!("an integer from 1 to {MAX_PAGE}"))
            })?,
    };
    let cursor = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            Cursor::decode(text)
                .ok_or_else(|| ApiError::bad_query("cursor", "not a cursor this server issued"))?,
        ),
    };
    let access = caller.access();
    // One more than the page tells whether a next page exists.
    let mut jobs = blocking(move || svc.list(&access, cursor.as_ref(), limit + 1)).await?;
    let next = if jobs.len() > limit {
        jobs.truncate(limit);
        jobs.last().map(|j| {
            Cursor {
                created_ms: j.created_unix_ms,
                id: j.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    audit::record(&caller, "*", Action::List, Outcome::Ok);
    Ok(Json(json!({
        "batches": jobs.iter().map(job_summary).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

/// Looks up a job for the caller, auditing a miss.
async fn find(
    svc: &Arc<JobService>,
    caller: &Caller,
    id: &str,
    action: Action,
) -> Result<(JobRecord, Access), ApiError> {
    let access = caller.access();
    let (s, i, a) = (Arc::clone(svc), id.to_owned(), access.clone());
    match blocking(move || s.job(&i, &a)).await? {
        Some(job) => Ok((job, access)),
        None => Err(missed(svc, caller, id, action).await),
    }
}

/// Whose job `id` is, whoever asks: for the audit trail only, never for an answer.
async fn owner_of(svc: &Arc<JobService>, id: &str) -> Option<Owner> {
    if !jobs::is_job_id(id) {
        return None;
    }
    let (s, i) = (Arc::clone(svc), id.to_owned());
    let job = blocking(move || s.job(&i, &Access::Admin)).await;
    job.ok().flatten().map(|j| j.owner)
}

/// The 404 for an id the caller does not reach, audited as a missing batch or as another
/// client's (the answer is the same either way: no existence oracle).
async fn missed(svc: &Arc<JobService>, caller: &Caller, id: &str, action: Action) -> ApiError {
    match owner_of(svc, id).await {
        Some(owner) => audit::record_owned(caller, id, Some(&owner), action, Outcome::Foreign),
        None => audit::record(caller, id, action, Outcome::NotFound),
    }
    ApiError::no_such("batch", id)
}

#[utoipa::path(
    get,
    path = "/v1/batches/{id}",
    tag = "batches",
    summary = "A batch's progress and every item's result so far",
    params(("id" = String, Path, description = "The batch id from the 202 answer")),
    responses(
        (status = 200, description = "Progress and every item's verdict so far", body = BatchJob),
        BatchLookupErrors,
    ),
    security(("bearer" = []))
)]
pub async fn status(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let svc = Arc::clone(service(&st)?);
    let (job, access) = find(&svc, &caller, &id, Action::Read).await?;
    let items = blocking(move || svc.items(&id, &access)).await?;
    audit::record_owned(
        &caller,
        &job.id,
        Some(&job.owner),
        Action::Read,
        Outcome::Ok,
    );
    Ok(Json(job_json(&job, &items)))
}

#[utoipa::path(
    post,
    path = "/v1/batches/{id}/cancel",
    tag = "batches",
    summary = "Stop a batch; finished items keep their results",
    params(("id" = String, Path, description = "The batch id")),
    responses(
        (status = 200, description = "Stopped: items done keep their results, the rest never run", body = BatchJob),
        BatchLookupErrors,
    ),
    security(("bearer" = []))
)]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let svc = Arc::clone(service(&st)?);
    let access = caller.access();
    let (s, i, a) = (Arc::clone(&svc), id.clone(), access.clone());
    if blocking(move || s.cancel(&i, &a)).await?.is_none() {
        return Err(missed(&svc, &caller, &id, Action::Cancel).await);
    }
    let (job, access) = find(&svc, &caller, &id, Action::Cancel).await?;
    let items = blocking(move || svc.items(&id, &access)).await?;
    audit::record_owned(
        &caller,
        &job.id,
        Some(&job.owner),
        Action::Cancel,
        Outcome::Ok,
    );
    Ok(Json(job_json(&job, &items)))
}

#[utoipa::path(
    delete,
    path = "/v1/batches/{id}",
    tag = "batches",
    summary = "Erase a batch: its archive, items and results",
    params(("id" = String, Path, description = "The batch id")),
    responses(
        (status = 204, description = "Erased: the uploaded archive, every item and result are gone"),
        BatchLookupErrors,
    ),
    security(("bearer" = []))
)]
pub async fn erase(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let svc = Arc::clone(service(&st)?);
    let access = caller.access();
    // An admin erases any client's batch: the trail names whose, read before it is gone.
    let owner = if caller.admin.is_some() {
        owner_of(&svc, &id).await
    } else {
        None
    };
    let (s, i) = (Arc::clone(&svc), id.clone());
    if blocking(move || s.erase(&i, &access)).await? {
        audit::record_owned(&caller, &id, owner.as_ref(), Action::Erase, Outcome::Ok);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(missed(&svc, &caller, &id, Action::Erase).await)
    }
}

#[utoipa::path(
    get,
    path = "/v1/batches/{id}/archive",
    tag = "batches",
    summary = "A finished batch's results as a ZIP",
    params(("id" = String, Path, description = "The batch id")),
    responses(
        (status = 200, description = "results.csv, json/<stem>.json, summary.json", content_type = "application/zip"),
        BatchLookupErrors,
        (status = 409, description = "The batch is still running", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
pub async fn archive(
    State(st): State<AppState>,
    caller: Caller,
    method: Method,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let svc = Arc::clone(service(&st)?);
    let action = if method == Method::HEAD {
        Action::Inspect
    } else {
        Action::Download
    };
    let access = caller.access();
    let (s, i, a) = (Arc::clone(&svc), id.clone(), access.clone());
    let (job, bytes) = match blocking(move || s.archive(&i, &a)).await? {
        Some(Download::Ready { job, bytes }) => (job, bytes),
        None => return Err(missed(&svc, &caller, &id, action).await),
        Some(Download::Running { done, total }) => {
            audit::record(&caller, &id, action, Outcome::Refused);
            return Err(ApiError::path_field(
                StatusCode::CONFLICT,
                "id",
                format!("the batch is still running ({done} of {total} done)"),
            ));
        }
        Some(Download::Finishing(n)) => {
            audit::record(&caller, &id, action, Outcome::Refused);
            return Err(ApiError::path_field(
                StatusCode::CONFLICT,
                "id",
                format!("the batch was cancelled; {n} item(s) in progress are still finishing"),
            ));
        }
    };
    audit::record_owned(&caller, &id, Some(&job.owner), action, Outcome::Ok);
    // With a retention of zero the owner's download is the last look, so the batch is erased
    // once the whole archive has gone to the connection: not on a HEAD, not when the client
    // drops the connection part-way, and not when an operator's admin token looks.
    let last_look = method == Method::GET && job.owner == caller.owner;
    let after = last_look.then(|| {
        let caller = caller.clone();
        Box::new(move || {
            tokio::task::spawn_blocking(move || match svc.downloaded(&id, &access) {
                Ok(true) => audit::record(&caller, &id, Action::Erase, Outcome::Ok),
                Ok(false) => {}
                Err(e) => tracing::warn!(job = %id, error = %e, "erase after download failed"),
            });
        }) as Box<dyn FnOnce() + Send>
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"livegate-batch-{}.zip\"", job.id),
            ),
        ],
        axum::body::Body::new(SentInFull::new(bytes, after)),
    )
        .into_response())
}

/// A body in small frames that runs `after` once the connection has taken its last frame.
/// Hyper asks for the next frame only when its write buffer has room, so a client that stops
/// reading a large archive (or a HEAD, whose body is never read) never gets there; the last
/// few hundred kilobytes may still sit in hyper's buffer when it runs.
struct SentInFull {
    chunks: std::collections::VecDeque<axum::body::Bytes>,
    len: u64,
    after: Option<Box<dyn FnOnce() + Send>>,
}

impl SentInFull {
    const FRAME: usize = 16 * 1024;

    fn new(bytes: Vec<u8>, after: Option<Box<dyn FnOnce() + Send>>) -> SentInFull {
        let len = bytes.len() as u64;
        let all = axum::body::Bytes::from(bytes);
        let chunks = (0..all.len())
            .step_by(Self::FRAME)
            .map(|at| all.slice(at..(at + Self::FRAME).min(all.len())))
            .collect();
        SentInFull { chunks, len, after }
    }
}

impl http_body::Body for SentInFull {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let chunk = self.chunks.pop_front();
        // Hyper stops asking once a body of known length is complete, so the hand-over of the
        // last frame is the end.
        if self.chunks.is_empty()
            && let Some(after) = self.after.take()
        {
            after();
        }
        std::task::Poll::Ready(chunk.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

/// A job without its items: the listing's row.
fn job_summary(job: &JobRecord) -> Value {
    json!({
        "id": job.id,
        "status": job.status,
        "zip_name": job.zip_name,
        "total": job.total,
        "done": job.done,
        "ok": job.ok,
        "error": job.error,
        "progress": if job.total == 0 { 1.0 } else { job.done as f64 / job.total as f64 },
        "created_unix_ms": job.created_unix_ms,
        "started_unix_ms": job.started_unix_ms,
        "finished_unix_ms": job.finished_unix_ms,
        "url": format!("/v1/batches/{}", job.id),
    })
}

/// The progress body: the job, its counts, and every item with its response once it ran.
pub fn job_json(job: &JobRecord, items: &[ItemState]) -> Value {
    let judged_by = jobs::archive::judged_by(items);
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut v = json!({
                "index": i.index,
                "stem": i.stem,
                "kind": i.task.kind(),
                "files": i.task.files(),
                "status": match &i.outcome {
                    None if i.running => "running",
                    None if job.status.is_finished() => "not_run",
                    None => "pending",
                    Some(o) if o.ok => "ok",
                    Some(_) => "error",
                },
            });
            if let (Some(o), Value::Object(m)) = (&i.outcome, &mut v) {
                m.insert("elapsed_ms".into(), json!(o.elapsed_ms));
                m.insert("reason".into(), json!(o.reason));
                if i.task.kind() == "liveness" {
                    m.insert("near_threshold".into(), json!(o.near_threshold));
                }
                // Progress is polled every second; the evidence can be large and is in the
                // archive's json/<stem>.json, so the poll carries the verdicts only.
                let mut response = o.body.clone();
                if let Value::Object(r) = &mut response {
                    r.remove("details");
                }
                m.insert("response".into(), response);
            }
            v
        })
        .collect();
    let mut v = job_summary(job);
    if let Value::Object(m) = &mut v {
        m.remove("url");
        m.insert("skipped".into(), json!(job.skipped));
        // Per batch rather than per item: the poll stays small, and the rows of the archive's
        // results.csv name the weights of each verdict.
        m.insert("pad_weights".into(), json!(judged_by));
        m.insert(
            "settings".into(),
            jobs::exact_json(&job.settings).unwrap_or_default(),
        );
        m.insert(
            "archive_url".into(),
            json!(
                job.status
                    .is_finished()
                    .then(|| format!("/v1/batches/{}/archive", job.id))
            ),
        );
        m.insert("items".into(), Value::Array(items));
    }
    v
}
