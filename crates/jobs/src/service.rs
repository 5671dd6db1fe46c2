//! The batch service: what the HTTP routes and the CLI call. It owns the store, the data
//! directory holding each job's ZIP, and the runner loops.

use crate::intake::{self, IntakeError, Limits};
use crate::pairing;
use crate::store::{ItemState, JobRecord, JobStatus, Store, StoreError};
use liveness::{Analyse, AnalysisOptions};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Holds `jobs.sqlite3`, `batches/<id>.zip` and `uploads/` (in-flight uploads).
    pub data_dir: PathBuf,
    pub limits: Limits,
    /// Items analysed at once across all batches. Batches share the machine with interactive
    /// requests, so the default is one.
    pub workers: usize,
}

impl JobsConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            limits: Limits::default(),
            workers: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("data directory {path}: {message}")]
    DataDir { path: PathBuf, message: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The client's archive is unacceptable (400).
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// Ours (500).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Runs of one item that may end with the process gone (crash, OOM kill, redeploy) before it
/// is recorded as failed instead of being tried again: a file that crashes the analysis must
/// not put the server in a restart loop.
pub const MAX_ATTEMPTS: u32 = 3;

pub struct JobService {
    store: Store,
    config: JobsConfig,
    analyser: Arc<dyn Analyse>,
    wake: tokio::sync::Notify,
    /// Items a runner is working on right now; they are still "pending" in the store, which
    /// is exactly what makes a crash re-run them.
    claimed: Mutex<HashSet<(String, u64)>>,
}

impl JobService {
    pub fn open(config: JobsConfig, analyser: Arc<dyn Analyse>) -> Result<Arc<Self>, ServiceError> {
        for dir in [
            config.data_dir.clone(),
            config.data_dir.join("batches"),
            config.data_dir.join("uploads"),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| ServiceError::DataDir {
                path: dir.clone(),
                message: e.to_string(),
            })?;
        }
        // Uploads that were cut off by a crash never became jobs.
        if let Ok(rd) = std::fs::read_dir(config.data_dir.join("uploads")) {
            for e in rd.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let store = Store::open(&config.data_dir.join("jobs.sqlite3"))?;
        let unfinished = store.unfinished_jobs()?;
        if !unfinished.is_empty() {
            tracing::info!(jobs = unfinished.len(), "resuming unfinished batch jobs");
        }
        Ok(Arc::new(Self {
            store,
            config,
            analyser,
            wake: tokio::sync::Notify::new(),
            claimed: Mutex::new(HashSet::new()),
        }))
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// Where an upload in progress is written before it becomes a job.
    pub fn new_upload_path(&self) -> PathBuf {
        self.config
            .data_dir
            .join("uploads")
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()))
    }

    /// Checks the ZIP at `upload`, pairs its files and records the job; the file is moved into
    /// the data directory (or removed when refused). Blocking: it decompresses the archive.
    pub fn submit(
        &self,
        upload: &Path,
        zip_name: &str,
        settings: AnalysisOptions,
    ) -> Result<JobRecord, SubmitError> {
        let entries = match intake::inspect(upload, &self.config.limits) {
            Ok(e) => e,
            Err(e) => {
                let _ = std::fs::remove_file(upload);
                return Err(e.into());
            }
        };
        let pairing = pairing::pair(entries.iter().map(|e| e.name.as_str()));
        let id = uuid::Uuid::new_v4().simple().to_string();
        let zip_path = self
            .config
            .data_dir
            .join("batches")
            .join(format!("{id}.zip"));
        let data_dir_err = |e: std::io::Error| ServiceError::DataDir {
            path: zip_path.clone(),
            message: e.to_string(),
        };
        if std::fs::rename(upload, &zip_path).is_err() {
            std::fs::copy(upload, &zip_path).map_err(data_dir_err)?;
            let _ = std::fs::remove_file(upload);
        }
        let name: String = zip_name.chars().take(255).collect();
        self.store
            .insert_job(&id, &name, &zip_path, &settings, &pairing)
            .map_err(ServiceError::from)?;
        tracing::info!(job = %id, items = pairing.items.len(), skipped = pairing.skipped.len(), "batch accepted");
        self.wake.notify_waiters();
        let job = self.store.job(&id).map_err(ServiceError::from)?;
        job.ok_or_else(|| {
            SubmitError::Service(ServiceError::Store(StoreError::Corrupt(
                "job vanished after insert".into(),
            )))
        })
    }

    pub fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        self.store.job(id)
    }

    pub fn items(&self, id: &str) -> Result<Vec<ItemState>, StoreError> {
        self.store.items(id)
    }

    pub fn cancel(&self, id: &str) -> Result<Option<JobStatus>, StoreError> {
        self.store.cancel(id)
    }

    /// The output archive of a job, as bytes.
    pub fn archive(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(job) = self.store.job(id)? else {
            return Ok(None);
        };
        let items = self.store.items(id)?;
        let mut buf = std::io::Cursor::new(Vec::new());
        crate::archive::write_archive(&job, &items, &mut buf)
            .map_err(|e| StoreError::Corrupt(format!("writing the archive: {e}")))?;
        Ok(Some(buf.into_inner()))
    }

    /// Claims one pending item, analyses it and records the outcome. Blocking. Returns false
    /// when there was nothing to do.
    pub fn run_one(&self) -> Result<bool, StoreError> {
        let next = {
            let mut claimed = self.claimed.lock().unwrap_or_else(|p| p.into_inner());
            let candidates = self.store.pending(claimed.len() + 1)?;
            let next = candidates
                .into_iter()
                .find(|p| !claimed.contains(&(p.job_id.clone(), p.index)));
            if let Some(p) = &next {
                claimed.insert((p.job_id.clone(), p.index));
            }
            next
        };
        let Some(item) = next else {
            return Ok(false);
        };
        let key = (item.job_id.clone(), item.index);
        let result = (|| {
            self.store.mark_running(&item.job_id)?;
            let earlier = self.store.begin_attempt(&item.job_id, item.index)?;
            let outcome = if earlier >= MAX_ATTEMPTS {
                tracing::error!(job = %item.job_id, stem = %item.stem, attempts = earlier, "batch item given up: the process died during each run");
                crate::store::Outcome {
                    ok: false,
                    body: crate::envelope::plain_error(&format!(
                        "internal error: the server stopped during each of {earlier} attempts on this item; it was not retried again"
                    )),
                    elapsed_ms: 0,
                }
            } else {
                crate::runner::execute(
                    self.analyser.as_ref(),
                    &item,
                    self.config.limits.max_entry_bytes,
                )
            };
            tracing::debug!(job = %item.job_id, stem = %item.stem, ok = outcome.ok, ms = outcome.elapsed_ms, "batch item done");
            if self.store.record(&item.job_id, item.index, &outcome)? {
                tracing::info!(job = %item.job_id, "batch done");
            }
            Ok(true)
        })();
        self.claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        result
    }

    /// Starts the runner loops on the current tokio runtime. Unfinished jobs from a previous
    /// process are picked up straight away.
    pub fn spawn_runners(self: &Arc<Self>) {
        for _ in 0..self.config.workers.max(1) {
            let this = Arc::clone(self);
            tokio::spawn(async move {
                loop {
                    let worker = Arc::clone(&this);
                    let ran = tokio::task::spawn_blocking(move || worker.run_one()).await;
                    match ran {
                        Ok(Ok(true)) => continue,
                        Ok(Ok(false)) => {}
                        Ok(Err(e)) => tracing::error!(error = %e, "batch runner"),
                        Err(e) => tracing::error!(error = %e, "batch runner task"),
                    }
                    // The timeout covers a wake-up sent between the check and the wait.
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), this.wake.notified()).await;
                }
            });
        }
    }
}
