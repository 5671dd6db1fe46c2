//! A batch without a server: `livegate batch in.zip -o out.zip`. It goes through the same
//! intake, pairing, store, runner and archive as `/v1/batches`, in a scratch data directory,
//! so the offline archive and the server's are the same for the same input.

use crate::service::{JobService, JobsConfig, SubmitError};
use crate::store::JobRecord;
use liveness::{Analyse, AnalysisOptions};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error(transparent)]
    Submit(#[from] SubmitError),
    #[error(transparent)]
    Service(#[from] crate::service::ServiceError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// Progress after each item: done, total, and the job as it stands.
pub type Progress<'a> = dyn Fn(&JobRecord) + Send + Sync + 'a;

/// Runs every item of `zip` with `workers` threads and writes the output archive to `out`.
/// `scratch` holds the job store and a copy of the input for the duration of the run.
pub fn run_offline(
    zip: &Path,
    out: &Path,
    settings: AnalysisOptions,
    config: JobsConfig,
    analyser: Arc<dyn Analyse>,
    on_progress: &Progress<'_>,
) -> Result<JobRecord, OfflineError> {
    let io = |path: &Path, e: std::io::Error| OfflineError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let workers = config.workers.max(1);
    let svc = JobService::open(config, analyser)?;
    // The handle keeps the upload locked (not a crash's leftover) until `submit` has taken it.
    let (upload, mut file) = svc
        .new_upload()
        .map_err(|e| io(Path::new("the data directory's uploads/"), e))?;
    std::fs::File::open(zip)
        .and_then(|mut from| std::io::copy(&mut from, &mut file))
        .map_err(|e| io(zip, e))?;
    let name = zip
        .file_name()
        .map_or_else(|| "batch.zip".into(), |n| n.to_string_lossy().into_owned());
    let owner = crate::owner::Owner::local();
    let access = crate::owner::Access::Owner(owner.clone());
    let job = svc.submit(&owner, &upload, &name, settings)?;
    drop(file);
    on_progress(&job);
    // A worker per stem at most: more would only start threads with nothing to do.
    let workers = workers.min(usize::try_from(job.total).unwrap_or(usize::MAX).max(1));

    let failure: std::sync::Mutex<Option<crate::store::StoreError>> = Default::default();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    match svc.run_one() {
                        Ok(true) => {
                            if let Ok(Some(j)) = svc.job(&job.id, &access) {
                                on_progress(&j);
                            }
                        }
                        Ok(false) => break,
                        Err(e) => {
                            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e.into());
    }
    let bytes = svc
        .archive(&job.id, &access)?
        .and_then(crate::Download::ready)
        .ok_or_else(|| crate::store::StoreError::Corrupt("job vanished or unfinished".into()))?;
    std::fs::write(out, bytes).map_err(|e| io(out, e))?;
    let done = svc
        .job(&job.id, &access)?
        .ok_or_else(|| crate::store::StoreError::Corrupt("job vanished".into()))?;
    Ok(done)
}
