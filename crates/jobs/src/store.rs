//! What the batch service keeps, and the one interface both storage backends offer: the
//! embedded SQLite file ([`crate::sqlite::SqliteStore`], the default) and PostgreSQL
//! ([`crate::postgres::PostgresStore`], for several replicas sharing one database).
//!
//! The rules are the backends' common contract, and one test suite runs against each:
//! - every query that reaches a job by id filters by its owner (unless the caller is an admin);
//! - an item is worked on by whoever holds its *lease* ([`Store::claim`]); a lease that is not
//!   renewed expires, so the work of a replica that died goes to another one;
//! - a result is written at most once (primary key, first write wins), in the same transaction
//!   that may close its job, so a crash at any point leaves the item either pending or done;
//! - an erased job leaves no row behind.

use crate::judging_pin::{JudgingKey, Pin};
use crate::owner::{Access, Owner};
use crate::pairing::{Pairing, Skipped, Task};
use crate::service::{Quota, QuotaError};
use liveness::AnalysisOptions;
use liveness::models::{PadWeights, by_file};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("job store: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("job store: migrating the schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job store: corrupt row: {0}")]
    Corrupt(String),
    #[error("job store {0}: read-only to this process; the service must be able to write it")]
    ReadOnly(String),
    /// The insert found the owner at its quota (another upload was admitted first).
    #[error("{0}")]
    OverQuota(QuotaError),
}

impl StoreError {
    /// The database cannot be reached or is busy right now (down, restarting, the pool out of
    /// connections): worth a retry, not a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Postgres(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_) => true,
                // SQLSTATE class 08 (connection exception), 57P01–57P03 (shutting down, a
                // crash restart, cannot connect now).
                sqlx::Error::Database(d) => d
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            },
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Cancelled,
}

impl JobStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "cancelled" => JobStatus::Cancelled,
            other => return Err(StoreError::Corrupt(format!("job status {other:?}"))),
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct JobRecord {
    pub id: String,
    pub owner: Owner,
    pub status: JobStatus,
    /// The client's file name, for display only.
    pub zip_name: String,
    /// Where the uploaded archive is kept while the job runs; `None` when the store keeps the
    /// items' files itself ([`Store::keeps_media`]).
    #[serde(skip)]
    pub zip_path: Option<PathBuf>,
    /// Bytes counted against the owner's quota while the job runs: the uploaded archive's
    /// size, or, in a store that keeps the items' files, their unpacked size.
    pub zip_bytes: u64,
    pub settings: AnalysisOptions,
    pub skipped: Vec<Skipped>,
    pub total: u64,
    pub done: u64,
    pub ok: u64,
    pub error: u64,
    pub created_unix_ms: u64,
    pub started_unix_ms: Option<u64>,
    pub finished_unix_ms: Option<u64>,
}

/// One item and, once it ran, its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ItemState {
    pub index: u64,
    pub stem: String,
    #[serde(flatten)]
    pub task: Task,
    pub outcome: Option<Outcome>,
    /// A replica holds a live lease on it and no result is in yet: it is being analysed (and
    /// will keep its result, even if the batch was cancelled meanwhile).
    #[serde(skip)]
    pub running: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub ok: bool,
    /// The contract's 200 body, or its error envelope.
    pub body: serde_json::Value,
    pub elapsed_ms: u64,
    /// Why a liveness verdict is fake regardless of any score (`no_face`, …), when a rule
    /// decided it: the API's `X-Livegate-Reason`.
    pub reason: Option<String>,
    /// The still scored within the review margin of its threshold (`details.review`): a
    /// verdict worth a person's look. False for facematch items and errors.
    pub near_threshold: bool,
    /// The PAD graphs that judged a liveness verdict (file name, SHA-256): the shipped model or
    /// a deployment's own layer, as the replica that ran the item had it loaded. Empty for
    /// facematch items, errors and results stored before the column existed.
    #[serde(skip)]
    pub pad_weights: PadWeights,
    /// The still threshold the verdict applied (a deployment's own operating point or the
    /// policy's), as the replica that ran the item had it: replicas that disagree show in the
    /// archive. `None` for facematch items, errors and results stored before the column.
    #[serde(skip)]
    pub image_real_threshold: Option<f32>,
    /// The replica that ran the item (operators' view; not part of the API).
    #[serde(skip)]
    pub worker: Option<String>,
}

/// Where the files of a claimed item are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// The uploaded archive on this machine's disk (SQLite backend).
    Archive(PathBuf),
    /// The store's own rows ([`Store::media`]): any replica can run the item.
    Store,
}

/// An item a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct Claim {
    pub job_id: String,
    pub index: u64,
    pub stem: String,
    pub task: Task,
    pub settings: AnalysisOptions,
    pub media: MediaSource,
    /// Runs of this item that started before this one (and never recorded a result).
    pub attempts_before: u32,
    /// The batch is pinned to another judging, whose replicas have not taken an item for the
    /// pin's grace: this replica finishes it with its own weights and threshold.
    pub foreign: bool,
}

/// A job as intake hands it to the store.
pub struct NewJob<'a> {
    pub id: &'a str,
    pub owner: &'a Owner,
    pub zip_name: &'a str,
    pub zip_path: Option<&'a std::path::Path>,
    /// As [`JobRecord::zip_bytes`].
    pub zip_bytes: u64,
    pub settings: &'a AnalysisOptions,
    pub pairing: &'a Pairing,
    /// For a store that [keeps media](Store::keeps_media): the names of the items' files, and
    /// how to read one. The store reads them one at a time while it writes, so a large batch
    /// never sits in memory whole.
    pub media: Vec<String>,
    pub read_media: &'a ReadMedia<'a>,
    /// The owner's quota, checked again inside the insert's transaction under a per-owner lock:
    /// replicas admitting uploads at the same moment each saw the usage from before the others.
    pub quota: Quota,
    /// The admitting replica's judging: the batch's items go to replicas that judge alike.
    pub judging: &'a JudgingKey,
}

/// Reads one file of an upload by its archive name.
pub type ReadMedia<'a> = dyn Fn(&str) -> Result<Vec<u8>, String> + Sync + 'a;

/// The job store's operations. Every method blocks: callers run them off the async reactor.
pub trait Store: Send + Sync {
    /// Fails when the database cannot be reached (readiness).
    fn ping(&self) -> Result<(), StoreError>;

    /// The secret called `name`: `fresh` the first time, the stored value ever after (for
    /// every process on this store).
    fn secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>, StoreError>;

    /// Marks the challenge `nonce` answered; `false` when it already was. Expired entries are
    /// dropped on the way (an expired challenge is refused before it gets here).
    fn consume_challenge(&self, nonce: &str, expires_ms: u64) -> Result<bool, StoreError>;

    /// Gives a consumed challenge back: its answer was never analysed (undecodable media, a
    /// server error), so the client may send it again.
    fn release_challenge(&self, nonce: &str) -> Result<(), StoreError>;

    /// Whether the items' files live in the store (so no replica needs the uploader's disk).
    fn keeps_media(&self) -> bool;

    fn insert_job(&self, job: &NewJob<'_>) -> Result<(), StoreError>;

    /// The job `id` if `access` reaches it.
    fn job(&self, id: &str, access: &Access) -> Result<Option<JobRecord>, StoreError>;

    /// Up to `limit` jobs `access` reaches, newest first, after `cursor`.
    fn list(
        &self,
        access: &Access,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, StoreError>;

    fn items(&self, job_id: &str) -> Result<Vec<ItemState>, StoreError>;

    /// One file of a job kept by the store, by its archive name.
    fn media(&self, job_id: &str, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Takes the oldest item without a result whose lease is free or expired and whose batch
    /// `pin` allows, for `worker`, for `lease`; counts the attempt and marks its job running.
    /// Concurrent callers (threads or replicas) never get the same live lease.
    fn claim(&self, worker: &str, lease: Duration, pin: &Pin) -> Result<Option<Claim>, StoreError>;

    /// Extends every lease `worker` holds on unfinished items (the heartbeat).
    fn renew(&self, worker: &str, lease: Duration) -> Result<(), StoreError>;

    /// Gives back every lease `worker` holds on unfinished items, and the attempt each lease
    /// counted: a graceful stop is not a crash, and a rolling deploy must not use up an item's
    /// tries. Returns how many.
    fn release(&self, worker: &str) -> Result<u64, StoreError>;

    /// Records one item's outcome unless it already has one; closes the job when it was the
    /// last item. Returns whether this call closed the job.
    fn record(
        &self,
        job_id: &str,
        index: u64,
        worker: &str,
        outcome: &Outcome,
    ) -> Result<bool, StoreError>;

    /// Stops a job: items already done keep their results, the rest never run. Returns the
    /// status after the call, or `None` when `access` does not reach the job.
    fn cancel(&self, job_id: &str, access: &Access) -> Result<Option<JobStatus>, StoreError>;

    /// Deletes a job with its items, files and results. Returns `None` when `access` does not
    /// reach it, else the archive path (if any) for the caller to remove from disk.
    fn erase(&self, job_id: &str, access: &Access) -> Result<Option<Option<PathBuf>>, StoreError>;

    /// Drops the files a finished job no longer needs (results stay).
    fn drop_media(&self, job_id: &str) -> Result<(), StoreError>;

    /// Finished jobs whose end lies at or before `cutoff_ms`: due for the retention sweep.
    fn finished_before(&self, cutoff_ms: u64) -> Result<Vec<String>, StoreError>;

    /// Archive paths of finished jobs, which should no longer exist on disk.
    fn finished_archives(&self) -> Result<Vec<PathBuf>, StoreError>;

    /// Unfinished jobs, oldest first.
    fn unfinished_jobs(&self) -> Result<Vec<String>, StoreError>;

    /// What `owner` holds in unfinished jobs.
    fn usage(&self, owner: &Owner) -> Result<Usage, StoreError>;

    /// Calls `wake` whenever another process adds work or hands some back, so idle runners
    /// start at once instead of at their next poll (PostgreSQL: LISTEN/NOTIFY). The embedded
    /// store has nobody to hear from; its runners poll.
    fn on_new_work(&self, _wake: Wake) {}
}

/// What [`Store::on_new_work`] calls.
pub type Wake = std::sync::Arc<dyn Fn() + Send + Sync>;

/// A position in a listing, newest first: jobs strictly older than this one come next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_ms: u64,
    pub id: String,
}

impl Cursor {
    /// The opaque text a client sends back (`<created_ms>.<id>`).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_ms, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (ms, id) = text.split_once('.')?;
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Self {
            created_ms: ms.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

/// Whether one more upload of `incoming` bytes fits `quota` beside `usage`.
pub(crate) fn check_quota(quota: &Quota, usage: Usage, incoming: u64) -> Result<(), QuotaError> {
    if usage.active_jobs >= quota.active_jobs {
        return Err(QuotaError::ActiveJobs {
            max: quota.active_jobs,
        });
    }
    if usage.bytes.saturating_add(incoming) > quota.bytes {
        return Err(QuotaError::Bytes { max: quota.bytes });
    }
    Ok(())
}

/// What a client holds in jobs that have not finished: counted against its quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub active_jobs: u64,
    pub bytes: u64,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// A job row as either backend reads it, before its JSON columns are parsed.
pub(crate) struct JobRow {
    pub id: String,
    pub status: String,
    pub zip_name: String,
    pub zip_path: Option<String>,
    pub settings: String,
    pub skipped: String,
    pub created: i64,
    pub started: Option<i64>,
    pub finished: Option<i64>,
    pub tenant: String,
    pub sub: String,
    pub zip_bytes: i64,
    pub issuer: String,
    pub total: i64,
    pub done: i64,
    pub ok: i64,
}

impl JobRow {
    pub fn into_record(self) -> Result<JobRecord, StoreError> {
        Ok(JobRecord {
            id: self.id,
            owner: Owner::new(self.tenant, self.sub).issued_by(self.issuer),
            status: JobStatus::parse(&self.status)?,
            zip_name: self.zip_name,
            zip_path: self.zip_path.filter(|p| !p.is_empty()).map(PathBuf::from),
            zip_bytes: self.zip_bytes.max(0) as u64,
            settings: serde_json::from_str(&self.settings).map_err(corrupt)?,
            skipped: serde_json::from_str(&self.skipped).map_err(corrupt)?,
            total: self.total.max(0) as u64,
            done: self.done.max(0) as u64,
            ok: self.ok.max(0) as u64,
            error: (self.done - self.ok).max(0) as u64,
            created_unix_ms: self.created.max(0) as u64,
            started_unix_ms: self.started.map(|v| v.max(0) as u64),
            finished_unix_ms: self.finished.map(|v| v.max(0) as u64),
        })
    }
}

/// An item row as either backend reads it (`items` left-joined with `results`).
pub(crate) struct ItemRow {
    pub idx: i64,
    pub stem: String,
    pub task: String,
    pub ok: Option<bool>,
    pub body: Option<String>,
    pub elapsed: Option<i64>,
    pub reason: Option<String>,
    pub near_threshold: Option<bool>,
    /// [`weights_column`]'s text.
    pub pad_weights: Option<String>,
    pub image_real_threshold: Option<f64>,
    pub worker: Option<String>,
    /// `items.lease_until_ms`.
    pub lease_until_ms: Option<i64>,
}

impl ItemRow {
    pub fn into_state(self) -> Result<ItemState, StoreError> {
        let outcome = match (self.ok, self.body) {
            (Some(ok), Some(body)) => Some(Outcome {
                ok,
                body: serde_json::from_str(&body).map_err(corrupt)?,
                elapsed_ms: self.elapsed.unwrap_or(0).max(0) as u64,
                reason: self.reason,
                near_threshold: self.near_threshold.unwrap_or(false),
                pad_weights: match self.pad_weights {
                    Some(text) => weights_from_column(&text)?,
                    None => PadWeights::default(),
                },
                image_real_threshold: self.image_real_threshold.map(|t| t as f32),
                worker: self.worker,
            }),
            _ => None,
        };
        let running = outcome.is_none()
            && self
                .lease_until_ms
                .is_some_and(|until| until > now_ms() as i64);
        Ok(ItemState {
            index: self.idx.max(0) as u64,
            stem: self.stem,
            task: serde_json::from_str(&self.task).map_err(corrupt)?,
            outcome,
            running,
        })
    }
}

/// The `results.pad_weights` column: a JSON object of file name → SHA-256, or NULL when no PAD
/// model judged the item.
pub(crate) fn weights_column(weights: &PadWeights) -> Option<String> {
    // Serialising a map of strings cannot fail.
    (!weights.is_empty()).then(|| serde_json::to_string(&by_file(weights)).unwrap_or_default())
}

fn weights_from_column(text: &str) -> Result<PadWeights, StoreError> {
    let map: BTreeMap<String, String> = serde_json::from_str(text).map_err(corrupt)?;
    Ok(map.into_iter().collect())
}

/// A claimed row as either backend reads it.
pub(crate) struct ClaimRow {
    pub job_id: String,
    pub idx: i64,
    pub stem: String,
    pub task: String,
    pub settings: String,
    pub zip_path: Option<String>,
    pub attempts_before: i64,
    pub foreign: bool,
}

impl ClaimRow {
    pub fn into_claim(self) -> Result<Claim, StoreError> {
        Ok(Claim {
            job_id: self.job_id,
            index: self.idx.max(0) as u64,
            stem: self.stem,
            task: serde_json::from_str(&self.task).map_err(corrupt)?,
            settings: serde_json::from_str(&self.settings).map_err(corrupt)?,
            media: match self.zip_path.filter(|p| !p.is_empty()) {
                Some(p) => MediaSource::Archive(PathBuf::from(p)),
                None => MediaSource::Store,
            },
            attempts_before: u32::try_from(self.attempts_before.max(0)).unwrap_or(u32::MAX),
            foreign: self.foreign,
        })
    }
}

/// Milliseconds in a lease, as the stores count them.
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_or_busy_database_is_unavailable_not_a_bug() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(StoreError::Postgres(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Postgres(sqlx::Error::Io(io)).is_unavailable());
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(StoreError::Sqlite(busy).is_unavailable());
        assert!(!StoreError::Corrupt("bad row".into()).is_unavailable());
        assert!(!StoreError::Postgres(sqlx::Error::RowNotFound).is_unavailable());
    }
}
