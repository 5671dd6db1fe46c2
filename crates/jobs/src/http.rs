//! `/v1/batches`: submit a ZIP (202 + id), poll progress with the results so far, download the
//! output archive, cancel. Authentication is not done here: the server wraps this router in the
//! same Bearer layer as every other route.

use crate::envelope::ApiError;
use crate::service::{JobService, SubmitError};
use crate::store::{ItemState, JobRecord};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use liveness::AnalysisOptions;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Form fields other than the archive are short strings; anything longer is not a tuning value.
const MAX_TEXT_FIELD: usize = 1024;
const MAX_FIELDS: usize = 32;

pub fn router(service: Arc<JobService>) -> axum::Router {
    // Multipart overhead on top of the archive itself.
    let body_limit = service.limits().max_zip_bytes.saturating_add(1024 * 1024);
    axum::Router::new()
        .route(
            "/v1/batches",
            post(submit).layer(DefaultBodyLimit::max(
                usize::try_from(body_limit).unwrap_or(usize::MAX),
            )),
        )
        .route("/v1/batches/{id}", get(status).delete(cancel))
        .route("/v1/batches/{id}/archive", get(archive))
        .with_state(service)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "batch route");
    ApiError::plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

async fn submit(
    State(service): State<Arc<JobService>>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut upload: Option<(std::path::PathBuf, String)> = None;
    let result = read_form(&service, &mut form, &mut fields, &mut upload).await;
    if let Err(e) = result {
        if let Some((path, _)) = &upload {
            let _ = tokio::fs::remove_file(path).await;
        }
        return Err(e);
    }
    let Some((path, zip_name)) = upload else {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "file",
            "a .zip file part named \"file\" is required",
        ));
    };
    let settings = match AnalysisOptions::from_fields(|k| fields.get(k).map(String::as_str)) {
        Ok(s) => s,
        Err(errors) => {
            let _ = tokio::fs::remove_file(&path).await;
            let list: Vec<(String, String)> = errors
                .into_iter()
                .map(|e| (e.field.to_owned(), e.message))
                .collect();
            return Err(ApiError::fields(StatusCode::UNPROCESSABLE_ENTITY, &list));
        }
    };
    let svc = Arc::clone(&service);
    let job = tokio::task::spawn_blocking(move || svc.submit(&path, &zip_name, settings))
        .await
        .map_err(internal)?;
    let job = match job {
        Ok(job) => job,
        Err(SubmitError::Intake(e)) => {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "file",
                e.to_string(),
            ));
        }
        Err(SubmitError::Service(e)) => return Err(internal(e)),
    };
    let items = service.items(&job.id).map_err(internal)?;
    let location = format!("/v1/batches/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job_json(&job, &items)),
    )
        .into_response())
}

async fn read_form(
    service: &JobService,
    form: &mut Multipart,
    fields: &mut HashMap<String, String>,
    upload: &mut Option<(std::path::PathBuf, String)>,
) -> Result<(), ApiError> {
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::field(status, "file", "the upload is larger than the limit")
        } else {
            ApiError::field(StatusCode::BAD_REQUEST, "form", e.body_text())
        }
    };
    let mut count = 0;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        count += 1;
        if count > MAX_FIELDS {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "form",
                "too many form fields",
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" || name == "zip" {
            if upload.is_some() {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "file",
                    "give exactly one archive per batch",
                ));
            }
            let zip_name = field.file_name().unwrap_or("batch.zip").to_owned();
            let path = service.new_upload_path();
            let mut out = tokio::fs::File::create(&path).await.map_err(internal)?;
            *upload = Some((path, zip_name));
            let max = service.limits().max_zip_bytes;
            let mut written: u64 = 0;
            while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                written += chunk.len() as u64;
                if written > max {
                    return Err(ApiError::field(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "file",
                        format!("the archive is larger than {max} bytes"),
                    ));
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
            fields.insert(name, text);
        }
    }
    Ok(())
}

async fn status(
    State(service): State<Arc<JobService>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = service
        .job(&id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(&id))?;
    let items = service.items(&id).map_err(internal)?;
    Ok(Json(job_json(&job, &items)))
}

async fn cancel(
    State(service): State<Arc<JobService>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    service
        .cancel(&id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(&id))?;
    let job = service
        .job(&id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(&id))?;
    let items = service.items(&id).map_err(internal)?;
    Ok(Json(job_json(&job, &items)))
}

async fn archive(
    State(service): State<Arc<JobService>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = service
        .job(&id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(&id))?;
    if !job.status.is_finished() {
        return Err(ApiError::field(
            StatusCode::CONFLICT,
            "id",
            format!(
                "the batch is still running ({} of {} done)",
                job.done, job.total
            ),
        ));
    }
    let svc = Arc::clone(&service);
    let id2 = id.clone();
    let bytes = tokio::task::spawn_blocking(move || svc.archive(&id2))
        .await
        .map_err(internal)?
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(&id))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"livegate-batch-{id}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The progress body: the job, its counts, and every item with its response once it ran.
pub fn job_json(job: &JobRecord, items: &[ItemState]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut v = json!({
                "index": i.index,
                "stem": i.stem,
                "kind": i.task.kind(),
                "files": i.task.files(),
                "status": match &i.outcome {
                    None if job.status.is_finished() => "not_run",
                    None => "pending",
                    Some(o) if o.ok => "ok",
                    Some(_) => "error",
                },
            });
            if let (Some(o), Value::Object(m)) = (&i.outcome, &mut v) {
                m.insert("elapsed_ms".into(), json!(o.elapsed_ms));
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
    json!({
        "id": job.id,
        "status": job.status,
        "zip_name": job.zip_name,
        "total": job.total,
        "done": job.done,
        "ok": job.ok,
        "error": job.error,
        "progress": if job.total == 0 { 1.0 } else { job.done as f64 / job.total as f64 },
        "skipped": job.skipped,
        "settings": job.settings,
        "created_unix_ms": job.created_unix_ms,
        "started_unix_ms": job.started_unix_ms,
        "finished_unix_ms": job.finished_unix_ms,
        "archive_url": job.status.is_finished().then(|| format!("/v1/batches/{}/archive", job.id)),
        "items": items,
    })
}
