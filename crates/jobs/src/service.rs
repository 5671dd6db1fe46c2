//! The batch service: what the HTTP routes and the CLI call. It owns the store, the data
//! directory holding each job's ZIP, the runner loops and the retention sweep.
//!
//! Privacy posture, enforced here: the data directory is private to the service's user (0700,
//! files 0600); an uploaded archive lives only until its batch finishes; results live until the
//! retention period after the batch ended (or until downloaded, with a retention of zero); and
//! an erase removes the archive and every row at once.

use crate::database::Database;
use crate::intake::{self, IntakeError, Limits};
use crate::judging_pin::{JudgingKey, Pin};
use crate::owner::{Access, Owner};
use crate::pairing;
use crate::places::{Place, Places, Refused};
use crate::store::{
    Claim, Cursor, ItemState, JobRecord, JobStatus, MediaSource, NewJob, Store, StoreError, Usage,
    check_quota,
};
use liveness::{Analyse, AnalysisOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one client may hold at once, so that no client can fill the disk or the batch queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// Batches queued or running.
    pub active_jobs: u64,
    /// Bytes those batches hold: their uploaded archives, or in a store that keeps the
    /// items' files (PostgreSQL), those files unpacked.
    pub bytes: u64,
    /// Uploads in progress.
    pub uploads: usize,
    /// Uploads in progress of all clients together: each may run for the batch upload timeout
    /// and write up to `bytes` to disk, so a handful of clients must not hold them all.
    pub uploads_in_all: usize,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            active_jobs: 4,
            bytes: 2 * 1024 * 1024 * 1024,
            uploads: 2,
            uploads_in_all: 16,
        }
    }
}

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Holds `uploads/` (in-flight uploads) and, with the embedded store, `jobs.sqlite3` and
    /// `batches/<id>.zip`.
    pub data_dir: PathBuf,
    /// Where jobs are kept: the embedded SQLite file, or PostgreSQL shared by replicas.
    pub database: Database,
    /// How long an item stays with the worker that claimed it without a heartbeat; the work
    /// of a replica that died is taken up by another one after this long.
    pub lease: Duration,
    pub limits: Limits,
    /// Items analysed at once across all batches. Batches share the machine with interactive
    /// requests, so the default is one.
    pub workers: usize,
    /// How long a batch waits for a replica that judges as the one that admitted it (the same
    /// PAD weights and threshold) before any replica finishes it ([`crate::judging_pin`]).
    pub judging_grace: Duration,
    /// How long results are kept after their batch ended; zero erases a batch as soon as its
    /// archive has been downloaded (and after `unclaimed` at the latest).
    pub retention: Duration,
    /// With a retention of zero, how long a batch whose owner never downloads it is kept after
    /// it ended: "erase when fetched" must not mean "keep forever" when nobody fetches.
    pub unclaimed: Duration,
    /// How often an idle runner looks for work nobody told it about (other replicas wake it
    /// at once through the store when they add work).
    pub idle_poll: Duration,
    /// How often the retention sweep looks for expired batches.
    pub sweep_every: Duration,
    pub quota: Quota,
}

impl JobsConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database: Database::Sqlite,
            lease: Duration::from_secs(30),
            judging_grace: Duration::from_secs(300),
            limits: Limits::default(),
            workers: 1,
            retention: Duration::from_secs(7 * 24 * 3600),
            unclaimed: Duration::from_secs(24 * 3600),
            idle_poll: Duration::from_secs(1),
            sweep_every: Duration::from_secs(60),
            quota: Quota::default(),
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

/// A client over its share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    #[error("{max} batches are already queued or running for this client; wait for one to finish")]
    ActiveJobs { max: u64 },
    #[error("{max} batch uploads are already in progress for this client")]
    Uploads { max: usize },
    #[error("{max} batch uploads are already in progress on this server; try again shortly")]
    UploadsInAll { max: usize },
    #[error("this client's unfinished batches would hold more than {max} bytes")]
    Bytes { max: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The client's archive is unacceptable (400).
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// The client is over its quota (429 / 413).
    #[error(transparent)]
    Quota(#[from] QuotaError),
    /// Ours (500).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Runs of one item that may end with the process gone (crash, OOM kill, redeploy) before it
/// is recorded as failed instead of being tried again: a file that crashes the analysis must
/// not put the server in a restart loop.
pub const MAX_ATTEMPTS: u32 = 3;

/// What asking for a batch's archive finds.
#[derive(Debug)]
pub enum Download {
    /// The archive, and the job as it was when the archive was written.
    Ready { job: Box<JobRecord>, bytes: Vec<u8> },
    /// The batch is still running.
    Running { done: u64, total: u64 },
    /// The batch was cancelled and this many items in progress are still finishing.
    Finishing(usize),
}

impl Download {
    /// The archive's bytes, if it was ready.
    pub fn ready(self) -> Option<Vec<u8>> {
        match self {
            Download::Ready { bytes, .. } => Some(bytes),
            _ => None,
        }
    }
}

pub struct JobService {
    store: Box<dyn Store>,
    config: JobsConfig,
    analyser: Arc<dyn Analyse>,
    wake: tokio::sync::Notify,
    /// This process's name on the leases it holds: unique per start, so a restarted replica
    /// never mistakes its predecessor's leases for its own.
    worker: String,
    /// Items this process is analysing right now (their leases are renewed).
    in_flight: AtomicUsize,
    /// Set by [`Self::drain`]: no new item is claimed.
    draining: AtomicBool,
    /// Batch uploads in progress, per client ([`Quota::uploads`]) and in all
    /// ([`Quota::uploads_in_all`]).
    uploads: Places,
    /// [`Self::challenge_key`], read from the store once: it never changes after creation.
    challenge_key: std::sync::OnceLock<Vec<u8>>,
    /// This replica's judging, which the batches it admits are pinned to, and the pin's grace.
    pin: Pin,
}

/// A client's place among the uploads in progress; dropping it gives the place back.
pub struct UploadSlot {
    _held: Place,
    /// Bytes this upload may still bring without taking the client over its quota.
    pub allowance: u64,
}

/// Creates `dir` (and parents) readable by the service's user only, and tightens it if it
/// already existed: biometric data must not be readable by other local accounts.
fn private_dir(dir: &Path) -> Result<(), ServiceError> {
    let err = |e: std::io::Error| ServiceError::DataDir {
        path: dir.to_owned(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// Creates (or truncates) a file only the service's user can read.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// An upload in progress holds an exclusive lock on its file ([`JobService::new_upload`]); a
/// crash releases it. An unlocked upload file untouched this long was cut off: the grace
/// covers the instant between creating a file and locking it.
const UNLOCKED_UPLOAD_GRACE: Duration = Duration::from_secs(60);
/// Past this, an upload file goes whatever its lock says (a file system without locks): an
/// upload writes as its bytes arrive, and an hour without one is far past any upload timeout.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);

/// Removes the files of uploads that a crash cut off (they never became jobs). Not one that
/// another process on the same data directory is receiving right now: a start must not pull
/// its file away (a second `serve` on one directory did, and the first one's client got a 400).
fn remove_stale_uploads(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let age = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        let Some(age) = age else { continue };
        let cut_off = age >= STALE_UPLOAD || (age >= UNLOCKED_UPLOAD_GRACE && unlocked(&e.path()));
        if cut_off {
            remove(&e.path());
        }
    }
}

/// True when no one holds the file's lock (taking it for the instant of the check).
fn unlocked(path: &Path) -> bool {
    std::fs::File::open(path).is_ok_and(|f| f.try_lock().is_ok())
}

/// Removes a file that may already be gone.
fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "could not remove a stored file")
        }
    }
}

impl JobService {
    /// The key that signs challenge ids, created once per store (see [`Store::secret`]).
    pub fn challenge_key(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(key) = self.challenge_key.get() {
            return Ok(key.clone());
        }
        // Two v4 UUIDs from the OS generator: 244 random bits.
        let mut fresh = uuid::Uuid::new_v4().as_bytes().to_vec();
        fresh.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        let key = self.store.secret("challenge_key", fresh)?;
        Ok(self.challenge_key.get_or_init(|| key).clone())
    }

    /// Marks a challenge answered; `false` when it already was (single use).
    pub fn consume_challenge(&self, nonce: &str, expires_ms: u64) -> Result<bool, StoreError> {
        self.store.consume_challenge(nonce, expires_ms)
    }

    /// Gives a consumed challenge back (its answer was never analysed).
    pub fn release_challenge(&self, nonce: &str) -> Result<(), StoreError> {
        self.store.release_challenge(nonce)
    }

    /// Fails while the job store cannot be reached (readiness).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.store.ping()
    }

    /// The store itself, for operators' tools and tests.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The batches this replica takes items of ([`crate::judging_pin`]).
    pub fn pin(&self) -> &Pin {
        &self.pin
    }

    /// This process's name on its leases and on the results it writes.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    pub fn open(config: JobsConfig, analyser: Arc<dyn Analyse>) -> Result<Arc<Self>, ServiceError> {
        for dir in [
            config.data_dir.clone(),
            config.data_dir.join("batches"),
            config.data_dir.join("uploads"),
        ] {
            private_dir(&dir)?;
        }
        remove_stale_uploads(&config.data_dir.join("uploads"));
        let db = config.data_dir.join("jobs.sqlite3");
        // SQLite gives its WAL and shared-memory files the database file's mode, so creating
        // the database 0600 up front keeps all three private.
        if config.database == Database::Sqlite && !db.exists() {
            private_file(&db).map_err(|e| ServiceError::DataDir {
                path: db.clone(),
                message: e.to_string(),
            })?;
        }
        let store = config.database.open(&config.data_dir)?;
        // A crash between a batch finishing and its archive being removed leaves the file.
        for zip in store.finished_archives()? {
            remove(&zip);
        }
        let unfinished = store.unfinished_jobs()?;
        if !unfinished.is_empty() {
            tracing::info!(jobs = unfinished.len(), "resuming unfinished batch jobs");
        }
        let uploads = Places::new(config.quota.uploads_in_all, config.quota.uploads);
        let pin = Pin {
            key: JudgingKey::of(analyser.judging().as_ref()),
            grace: config.judging_grace,
        };
        Ok(Arc::new(Self {
            store,
            config,
            analyser,
            wake: tokio::sync::Notify::new(),
            worker: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            uploads,
            challenge_key: std::sync::OnceLock::new(),
            pin,
        }))
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    pub fn config(&self) -> &JobsConfig {
        &self.config
    }

    /// Admits one more upload for `owner`, or says which share it is over. Checked before a
    /// byte of the archive is read.
    pub fn begin_upload(&self, owner: &Owner) -> Result<UploadSlot, SubmitError> {
        let quota = &self.config.quota;
        let usage = self.store.usage(owner).map_err(ServiceError::from)?;
        check_quota(quota, usage, 0)?;
        let held = self.uploads.take(owner).map_err(|r| match r {
            Refused::Share(max) => QuotaError::Uploads { max },
            Refused::Full => QuotaError::UploadsInAll {
                max: quota.uploads_in_all,
            },
        })?;
        Ok(UploadSlot {
            _held: held,
            allowance: quota
                .bytes
                .saturating_sub(usage.bytes)
                .min(self.config.limits.max_zip_bytes),
        })
    }

    /// Where an upload in progress is written before it becomes a job.
    /// A new upload file that only the service's user can read, locked for as long as the
    /// returned handle (or a clone of it) stays open: the sweep removes an unlocked one as cut
    /// off by a crash. Keep it open until [`JobService::submit`] has taken the file.
    pub fn new_upload(&self) -> std::io::Result<(PathBuf, std::fs::File)> {
        let path = self
            .config
            .data_dir
            .join("uploads")
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(&path)?;
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::Error(e) => e,
            std::fs::TryLockError::WouldBlock => std::io::Error::other("new upload file locked"),
        })?;
        Ok((path, file))
    }

    /// Checks the ZIP at `upload`, pairs its files and records the job for `owner`; the file is
    /// moved into the data directory (or removed when refused). Blocking: it decompresses the
    /// archive.
    pub fn submit(
        &self,
        owner: &Owner,
        upload: &Path,
        zip_name: &str,
        settings: AnalysisOptions,
    ) -> Result<JobRecord, SubmitError> {
        let refuse = |e: SubmitError| {
            remove(upload);
            Err(e)
        };
        let zip_bytes = std::fs::metadata(upload).map_or(0, |m| m.len());
        // Concurrent uploads were admitted against the same usage; the last word is here.
        let usage = self.store.usage(owner).map_err(ServiceError::from)?;
        if let Err(e) = check_quota(&self.config.quota, usage, zip_bytes) {
            return refuse(e.into());
        }
        let entries = match intake::inspect(upload, &self.config.limits) {
            Ok(e) => e,
            Err(e) => return refuse(e.into()),
        };
        let pairing = pairing::pair(entries.iter().map(|e| e.name.as_str()));
        let id = new_job_id();
        let name: String = zip_name.chars().take(255).collect();
        // The quota counts what the store will hold: the ZIP, or, where the store keeps the
        // items' files themselves, those files unpacked (a 13 MB ZIP of well-compressed
        // entries became 1 GB in the database while charged 13 MB; outside review 2026-12-07).
        let (zip_path, media, charged) = if self.store.keeps_media() {
            // The store holds every file an item needs, so any replica can run it; the
            // upload is not kept.
            let names: Vec<String> = pairing
                .items
                .iter()
                .flat_map(|i| i.task.files())
                .map(str::to_owned)
                .collect();
            let unpacked = entries
                .iter()
                .filter(|e| names.contains(&e.name))
                .map(|e| e.size)
                .sum::<u64>();
            (None, names, unpacked)
        } else {
            (Some(self.keep_upload(upload, &id)?), Vec::new(), zip_bytes)
        };
        let max = self.config.limits.max_entry_bytes;
        let read_media = |name: &str| {
            intake::read_entry(upload, name, max).map_err(|e| format!("reading {name:?}: {e}"))
        };
        let inserted = self.store.insert_job(&NewJob {
            id: &id,
            owner,
            zip_name: &name,
            zip_path: zip_path.as_deref(),
            zip_bytes: charged,
            settings: &settings,
            pairing: &pairing,
            media,
            read_media: &read_media,
            quota: self.config.quota.clone(),
            judging: &self.pin.key,
        });
        if zip_path.is_none() || inserted.is_err() {
            remove(zip_path.as_deref().unwrap_or(upload));
        }
        match inserted {
            Err(StoreError::OverQuota(q)) => return Err(q.into()),
            other => other.map_err(ServiceError::from)?,
        }
        tracing::info!(job = %id, items = pairing.items.len(), skipped = pairing.skipped.len(), "batch accepted");
        let job = self
            .store
            .job(&id, &Access::Admin)
            .map_err(ServiceError::from)?;
        let job = job.ok_or_else(|| {
            SubmitError::Service(ServiceError::Store(StoreError::Corrupt(
                "job vanished after insert".into(),
            )))
        })?;
        if job.status.is_finished() {
            // Nothing to run: the archive is not needed beyond this point.
            self.release_archive(&job);
        }
        self.wake.notify_waiters();
        Ok(job)
    }

    /// Moves an accepted upload to `batches/<id>.zip`, private to the service's user.
    fn keep_upload(&self, upload: &Path, id: &str) -> Result<PathBuf, ServiceError> {
        let zip_path = self
            .config
            .data_dir
            .join("batches")
            .join(format!("{id}.zip"));
        let data_dir_err = |e: std::io::Error| ServiceError::DataDir {
            path: zip_path.clone(),
            message: e.to_string(),
        };
        if std::fs::rename(upload, &zip_path).is_ok() {
            // Whoever wrote the upload, the stored copy is private.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&zip_path, std::fs::Permissions::from_mode(0o600))
                    .map_err(data_dir_err)?;
            }
        } else {
            let mut out = private_file(&zip_path).map_err(data_dir_err)?;
            let mut input = std::fs::File::open(upload).map_err(data_dir_err)?;
            std::io::copy(&mut input, &mut out).map_err(data_dir_err)?;
            remove(upload);
        }
        Ok(zip_path)
    }

    pub fn job(&self, id: &str, access: &Access) -> Result<Option<JobRecord>, StoreError> {
        self.unexpired(id, access)
    }

    /// A job `access` reaches, unless its retention period is over: then it is erased now.
    /// The sweep runs once a minute; between two sweeps an expired batch must not be served.
    fn unexpired(&self, id: &str, access: &Access) -> Result<Option<JobRecord>, StoreError> {
        let Some(job) = self.store.job(id, access)? else {
            return Ok(None);
        };
        if !self.expired(&job) {
            return Ok(Some(job));
        }
        self.expire(&job)?;
        Ok(None)
    }

    /// Erases a batch whose retention period is over (the sweep's work, done on the spot);
    /// the audit line names whose data it was.
    fn expire(&self, job: &JobRecord) -> Result<bool, StoreError> {
        let erased = self.erase(&job.id, &Access::Admin)?;
        if erased {
            tracing::info!(
                target: "audit",
                sub = %job.owner.sub,
                tenant = %job.owner.tenant,
                job = %job.id,
                action = "expire",
                outcome = "erased",
                "retention period over"
            );
        }
        Ok(erased)
    }

    /// How long a finished batch is kept: the retention, or with a retention of zero (erase
    /// once downloaded) the ceiling for a batch nobody downloads.
    fn kept_ms(&self) -> u64 {
        let kept = if self.config.retention.is_zero() {
            self.config.unclaimed
        } else {
            self.config.retention
        };
        u64::try_from(kept.as_millis()).unwrap_or(u64::MAX)
    }

    fn expired(&self, job: &JobRecord) -> bool {
        let kept = self.kept_ms();
        job.finished_unix_ms
            .is_some_and(|f| f.saturating_add(kept) <= crate::store::now_ms())
    }

    /// The items of a job `access` reaches (empty otherwise).
    pub fn items(&self, id: &str, access: &Access) -> Result<Vec<ItemState>, StoreError> {
        if self.unexpired(id, access)?.is_none() {
            return Ok(Vec::new());
        }
        self.store.items(id)
    }

    pub fn list(
        &self,
        access: &Access,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, StoreError> {
        // An expired batch the sweep has not reached yet is erased now and the page read again,
        // so that it is neither listed nor short.
        let jobs = self.store.list(access, after, limit)?;
        let expired: Vec<&JobRecord> = jobs.iter().filter(|j| self.expired(j)).collect();
        if expired.is_empty() {
            return Ok(jobs);
        }
        for job in expired {
            self.expire(job)?;
        }
        self.store.list(access, after, limit)
    }

    pub fn cancel(&self, id: &str, access: &Access) -> Result<Option<JobStatus>, StoreError> {
        let status = self.store.cancel(id, access)?;
        if status.is_some_and(JobStatus::is_finished)
            && let Some(job) = self.store.job(id, &Access::Admin)?
        {
            self.release_archive(&job);
        }
        Ok(status)
    }

    /// Erases a job `access` reaches: its archive, items and results. Returns false when there
    /// was no such job for this caller.
    pub fn erase(&self, id: &str, access: &Access) -> Result<bool, StoreError> {
        match self.store.erase(id, access)? {
            Some(zip) => {
                if let Some(zip) = zip {
                    remove(&zip);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The output archive of a finished job, with the job it was written from; `None` when
    /// `access` reaches no such job.
    pub fn archive(&self, id: &str, access: &Access) -> Result<Option<Download>, StoreError> {
        let Some(job) = self.unexpired(id, access)? else {
            return Ok(None);
        };
        if !job.status.is_finished() {
            return Ok(Some(Download::Running {
                done: job.done,
                total: job.total,
            }));
        }
        let items = self.store.items(id)?;
        // A cancelled batch lets the item in progress finish: its archive waits for that result.
        let finishing = items.iter().filter(|item| item.running).count();
        if finishing > 0 {
            return Ok(Some(Download::Finishing(finishing)));
        }
        let mut buf = std::io::Cursor::new(Vec::new());
        crate::archive::write_archive(&job, &items, &mut buf)
            .map_err(|e| StoreError::Corrupt(format!("writing the archive: {e}")))?;
        Ok(Some(Download::Ready {
            job: Box::new(job),
            bytes: buf.into_inner(),
        }))
    }

    /// Called once an archive has been handed to its client: with a retention of zero, that
    /// was the last look anyone gets.
    pub fn downloaded(&self, id: &str, access: &Access) -> Result<bool, StoreError> {
        if self.config.retention.is_zero() {
            return self.erase(id, access);
        }
        Ok(false)
    }

    /// What `owner` holds in unfinished batches.
    pub fn usage(&self, owner: &Owner) -> Result<Usage, StoreError> {
        self.store.usage(owner)
    }

    /// Erases every batch that ended longer ago than it is kept (the retention, or the
    /// unclaimed ceiling under a retention of zero); returns their ids. Also removes the files
    /// of uploads a crash cut off ([`remove_stale_uploads`]).
    pub fn sweep(&self) -> Result<Vec<String>, StoreError> {
        remove_stale_uploads(&self.config.data_dir.join("uploads"));
        let cutoff = crate::store::now_ms().saturating_sub(self.kept_ms());
        let mut erased = Vec::new();
        for id in self.store.finished_before(cutoff)? {
            // Another replica's sweep may have erased it in between.
            let Some(job) = self.store.job(&id, &Access::Admin)? else {
                continue;
            };
            if self.expire(&job)? {
                erased.push(id);
            }
        }
        Ok(erased)
    }

    /// The uploaded files of a finished job are no longer needed: results are in the store.
    fn release_archive(&self, job: &JobRecord) {
        if let Some(zip) = &job.zip_path {
            remove(zip);
        }
        if let Err(e) = self.store.drop_media(&job.id) {
            tracing::error!(job = %job.id, error = %e, "could not drop a finished batch's files");
        }
    }

    /// Claims one pending item, analyses it and records the outcome. Blocking. Returns false
    /// when there was nothing to do (or the service is draining).
    pub fn run_one(&self) -> Result<bool, StoreError> {
        if self.draining.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let Some(item) = self
            .store
            .claim(&self.worker, self.config.lease, &self.pin)?
        else {
            return Ok(false);
        };
        if item.foreign {
            tracing::warn!(job = %item.job_id, stem = %item.stem, grace_s = self.pin.grace.as_secs(), "batch item judged with this replica's weights and threshold: no replica judging as the batch's own has taken an item within the grace");
        }
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let result = self.run_claimed(&item);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }

    fn run_claimed(&self, item: &Claim) -> Result<bool, StoreError> {
        let earlier = item.attempts_before;
        let outcome = if earlier >= MAX_ATTEMPTS {
            tracing::error!(job = %item.job_id, stem = %item.stem, attempts = earlier, "batch item given up: the process died during each run");
            crate::store::Outcome {
                ok: false,
                body: crate::envelope::plain_error(&format!(
                    "internal error: the server stopped during each of {earlier} attempts on this item; it was not retried again"
                )),
                elapsed_ms: 0,
                reason: None,
                near_threshold: false,
                image_real_threshold: None,
                pad_weights: Default::default(),
                worker: None,
            }
        } else {
            let max = self.config.limits.max_entry_bytes;
            let read = |name: &str| -> Result<Vec<u8>, String> {
                match &item.media {
                    MediaSource::Archive(zip) => {
                        intake::read_entry(zip, name, max).map_err(|e| e.to_string())
                    }
                    MediaSource::Store => match self.store.media(&item.job_id, name) {
                        Ok(Some(bytes)) => Ok(bytes),
                        Ok(None) => Err(format!("{name:?} is no longer stored")),
                        Err(e) => {
                            tracing::error!(job = %item.job_id, error = %e, "reading a batch file");
                            Err("internal error; see the server log".into())
                        }
                    },
                }
            };
            crate::runner::execute(self.analyser.as_ref(), item, &read)
        };
        tracing::debug!(job = %item.job_id, stem = %item.stem, ok = outcome.ok, ms = outcome.elapsed_ms, "batch item done");
        if self
            .store
            .record(&item.job_id, item.index, &self.worker, &outcome)?
        {
            tracing::info!(job = %item.job_id, "batch done");
            if let Some(job) = self.store.job(&item.job_id, &Access::Admin)? {
                self.release_archive(&job);
            }
        }
        Ok(true)
    }

    /// Stops claiming items, waits up to `grace` for the ones in progress, then gives the
    /// leases of any still running back so another replica takes them at once (graceful
    /// shutdown). Blocking.
    pub fn drain(&self, grace: Duration) -> Result<u64, StoreError> {
        self.draining.store(true, Ordering::SeqCst);
        let until = Instant::now() + grace;
        while self.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let released = self.store.release(&self.worker)?;
        tracing::info!(released, "batch runner drained");
        Ok(released)
    }

    /// Starts the retention sweep on the current tokio runtime.
    pub fn spawn_sweeper(self: &Arc<Self>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(this.config.sweep_every);
            loop {
                tick.tick().await;
                let worker = Arc::clone(&this);
                match tokio::task::spawn_blocking(move || worker.sweep()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "retention sweep"),
                    Err(e) => tracing::error!(error = %e, "retention sweep task"),
                }
            }
        });
    }

    /// Starts the runner loops on the current tokio runtime. Unfinished jobs from a previous
    /// process are picked up straight away.
    pub fn spawn_runners(self: &Arc<Self>) {
        self.spawn_heartbeat();
        // Weak: the store belongs to the service; a strong reference back would keep both.
        let service = Arc::downgrade(self);
        self.store.on_new_work(Arc::new(move || {
            if let Some(service) = service.upgrade() {
                service.wake.notify_waiters();
            }
        }));
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
                    let _ = tokio::time::timeout(this.config.idle_poll, this.wake.notified()).await;
                }
            });
        }
    }
}

impl JobService {
    /// Renews this process's leases three times per lease period while it works on items, so
    /// only a replica that stopped loses them.
    fn spawn_heartbeat(self: &Arc<Self>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval((this.config.lease / 3).max(Duration::from_millis(100)));
            loop {
                tick.tick().await;
                if this.in_flight.load(Ordering::SeqCst) == 0 {
                    continue;
                }
                let worker = Arc::clone(&this);
                let renewed = tokio::task::spawn_blocking(move || {
                    worker.store.renew(&worker.worker, worker.config.lease)
                })
                .await;
                if let Ok(Err(e)) = renewed {
                    tracing::error!(error = %e, "renewing batch leases");
                }
            }
        });
    }
}

/// A fresh batch id: 32 lowercase hexadecimal digits (a random UUID, simple form).
fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `s` has the form of a batch id. Anything else names no batch, and has no place in
/// the audit log as sent.
pub fn is_job_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
