//! The persistent job store: SQLite in WAL mode, one file under the data directory.
//!
//! A result is written in the same transaction that may close its job, so a crash at any point
//! leaves either the item pending (it runs again) or done (it is never run twice). Nothing about
//! progress lives only in memory: a restart reads the same tables and carries on.
//!
//! Every job has an owner and every query that reaches a job by id filters by it (unless the
//! caller is an admin), so ownership is enforced where the data is, not in each handler.
//! Erasing a job deletes its rows with `secure_delete` on and truncates the write-ahead log, so
//! the biometric-derived results do not linger in free pages or in the WAL.

use crate::owner::{Access, Owner};
use crate::pairing::{Item, Pairing, Skipped, Task};
use liveness::AnalysisOptions;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("job store: corrupt row: {0}")]
    Corrupt(String),
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
    fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
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
    #[serde(skip)]
    pub zip_path: PathBuf,
    /// Size of the uploaded archive, counted against the owner's quota while the job runs.
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
}

/// Work the runner can claim.
#[derive(Debug, Clone)]
pub struct Pending {
    pub job_id: String,
    pub index: u64,
    pub stem: String,
    pub task: Task,
    pub settings: AnalysisOptions,
    pub zip_path: PathBuf,
}

pub struct Store {
    conn: Mutex<Connection>,
}

/// Schema changes in order; `PRAGMA user_version` counts how many a database has had. The
/// first is the schema before versioning (hence `IF NOT EXISTS`: older files already have it).
const MIGRATIONS: [&str; 4] = [
    "
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    zip_name    TEXT NOT NULL,
    zip_path    TEXT NOT NULL,
    settings    TEXT NOT NULL,
    skipped     TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    finished_ms INTEGER
);
CREATE TABLE IF NOT EXISTS items (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx    INTEGER NOT NULL,
    stem   TEXT NOT NULL,
    task   TEXT NOT NULL,
    -- Runs started; an item that keeps killing the process must not be retried forever.
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE IF NOT EXISTS results (
    job_id      TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    body        TEXT NOT NULL,
    elapsed_ms  INTEGER NOT NULL,
    finished_ms INTEGER NOT NULL,
    PRIMARY KEY (job_id, idx),
    FOREIGN KEY (job_id, idx) REFERENCES items(job_id, idx) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, created_ms);
",
    // Ownership. Jobs stored before it belong to nobody a token can name: only an admin (or
    // the retention sweep) reaches them.
    "
ALTER TABLE jobs ADD COLUMN owner_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN owner_sub TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN zip_bytes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs(owner_tenant, owner_sub, created_ms);
",
    // Why a verdict is fake regardless of scores, for the results' `reason` column.
    "ALTER TABLE results ADD COLUMN reason TEXT;",
    // Active challenges: the key that signs their ids (shared by every process on this store)
    // and the ids already answered (single use), kept until they expire.
    "
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS used_challenges (nonce TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL);
",
];

/// The columns of a [`JobRecord`], counts included; `WHERE` clauses are appended.
const JOB_SELECT: &str = "SELECT id, status, zip_name, zip_path, settings, skipped, created_ms,
        started_ms, finished_ms, owner_tenant, owner_sub, zip_bytes,
        (SELECT COUNT(*) FROM items i WHERE i.job_id = jobs.id),
        (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id),
        (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id AND r.ok = 1)
     FROM jobs";

/// `?2`/`?3` are the owner's tenant and sub, both NULL for an admin.
const OWNED: &str = "(?2 IS NULL OR (owner_tenant = ?2 AND owner_sub = ?3))";

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

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // WAL lets the HTTP handlers read progress while the runner writes results.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten, not left in free pages: erasure must reach the disk.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (it has its own
        // transactions), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The secret called `name`, made by `make` the first time and the same ever after (for
    /// every process that opens this store).
    pub fn secret(
        &self,
        name: &str,
        make: impl FnOnce() -> Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
            rusqlite::params![name, make()],
        )?;
        Ok(
            conn.query_row("SELECT value FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })?,
        )
    }

    /// Marks the challenge `nonce` answered; `false` when it already was. Expired entries are
    /// dropped on the way (an expired challenge is refused before it gets here).
    pub fn consume_challenge(&self, nonce: &str, expires_ms: u64) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM used_challenges WHERE expires_ms < ?1",
            [now_ms() as i64],
        )?;
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO used_challenges (nonce, expires_ms) VALUES (?1, ?2)",
            rusqlite::params![nonce, expires_ms as i64],
        )?;
        Ok(inserted == 1)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_job(
        &self,
        id: &str,
        owner: &Owner,
        zip_name: &str,
        zip_path: &Path,
        zip_bytes: u64,
        settings: &AnalysisOptions,
        pairing: &Pairing,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        let (status, finished) = if pairing.items.is_empty() {
            (JobStatus::Done, Some(now))
        } else {
            (JobStatus::Queued, None)
        };
        tx.execute(
            "INSERT INTO jobs (id, status, zip_name, zip_path, settings, skipped, created_ms,
                finished_ms, owner_tenant, owner_sub, zip_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                status.as_str(),
                zip_name,
                zip_path.to_string_lossy(),
                serde_json::to_string(settings).map_err(corrupt)?,
                serde_json::to_string(&pairing.skipped).map_err(corrupt)?,
                now as i64,
                finished.map(|f| f as i64),
                owner.tenant,
                owner.sub,
                zip_bytes as i64,
            ],
        )?;
        {
            let mut stmt =
                tx.prepare("INSERT INTO items (job_id, idx, stem, task) VALUES (?1, ?2, ?3, ?4)")?;
            for (i, Item { stem, task }) in pairing.items.iter().enumerate() {
                stmt.execute(params![
                    id,
                    i as i64,
                    stem,
                    serde_json::to_string(task).map_err(corrupt)?
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The job `id` if `access` reaches it.
    pub fn job(&self, id: &str, access: &Access) -> Result<Option<JobRecord>, StoreError> {
        let conn = self.conn();
        let (tenant, sub) = owner_params(access);
        let sql = format!("{JOB_SELECT} WHERE id = ?1 AND {OWNED}");
        let row = conn
            .query_row(&sql, params![id, tenant, sub], JobRow::read)
            .optional()?;
        row.map(JobRow::into_record).transpose()
    }

    /// Up to `limit` jobs `access` reaches, newest first, after `cursor`.
    pub fn list(
        &self,
        access: &Access,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let conn = self.conn();
        let (tenant, sub) = owner_params(access);
        let sql = format!(
            "{JOB_SELECT} WHERE {OWNED} AND (?4 IS NULL OR (created_ms, id) < (?4, ?5))
             ORDER BY created_ms DESC, id DESC LIMIT ?1"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                limit as i64,
                tenant,
                sub,
                after.map(|c| c.created_ms as i64),
                after.map(|c| c.id.as_str()),
            ],
            JobRow::read,
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.into_record()?);
        }
        Ok(out)
    }

    pub fn items(&self, job_id: &str) -> Result<Vec<ItemState>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT i.idx, i.stem, i.task, r.ok, r.body, r.elapsed_ms, r.reason
             FROM items i LEFT JOIN results r ON r.job_id = i.job_id AND r.idx = i.idx
             WHERE i.job_id = ?1 ORDER BY i.idx",
        )?;
        let rows = stmt.query_map(params![job_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (idx, stem, task, ok, body, elapsed, reason) = row?;
            let outcome = match (ok, body) {
                (Some(ok), Some(body)) => Some(Outcome {
                    ok: ok != 0,
                    body: serde_json::from_str(&body).map_err(corrupt)?,
                    elapsed_ms: elapsed.unwrap_or(0) as u64,
                    reason,
                }),
                _ => None,
            };
            out.push(ItemState {
                index: idx as u64,
                stem,
                task: serde_json::from_str(&task).map_err(corrupt)?,
                outcome,
            });
        }
        Ok(out)
    }

    /// Unfinished jobs, oldest first.
    pub fn unfinished_jobs(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_ms, id",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Items without a result, of jobs still wanting work, oldest job first; at most `limit`.
    pub fn pending(&self, limit: usize) -> Result<Vec<Pending>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT j.id, i.idx, i.stem, i.task, j.settings, j.zip_path
             FROM jobs j JOIN items i ON i.job_id = j.id
             WHERE j.status IN ('queued', 'running')
               AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = i.job_id AND r.idx = i.idx)
             ORDER BY j.created_ms, j.id, i.idx LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (job_id, idx, stem, task, settings, zip_path) = row?;
            out.push(Pending {
                job_id,
                index: idx as u64,
                stem,
                task: serde_json::from_str(&task).map_err(corrupt)?,
                settings: serde_json::from_str(&settings).map_err(corrupt)?,
                zip_path: PathBuf::from(zip_path),
            });
        }
        Ok(out)
    }

    pub fn mark_running(&self, job_id: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE jobs SET status = 'running', started_ms = COALESCE(started_ms, ?2)
             WHERE id = ?1 AND status = 'queued'",
            params![job_id, now_ms() as i64],
        )?;
        Ok(())
    }

    /// Counts one more run of an item and returns how many had started before this one, or
    /// `None` when the item was erased meanwhile. Written before the analysis, so a crash
    /// during it still counts.
    pub fn begin_attempt(&self, job_id: &str, index: u64) -> Result<Option<u32>, StoreError> {
        let conn = self.conn();
        let before: Option<i64> = conn
            .query_row(
                "UPDATE items SET attempts = attempts + 1 WHERE job_id = ?1 AND idx = ?2
                 RETURNING attempts - 1",
                params![job_id, index as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(before.map(|b| b.max(0) as u32))
    }

    /// Records one item's outcome; closes the job when it was the last one. Returns whether
    /// the job is now done.
    pub fn record(&self, job_id: &str, index: u64, outcome: &Outcome) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms() as i64;
        // A job erased while its item ran has no item row left to attach the result to.
        tx.execute(
            "INSERT OR IGNORE INTO results (job_id, idx, ok, body, elapsed_ms, finished_ms, reason)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
             WHERE EXISTS (SELECT 1 FROM items WHERE job_id = ?1 AND idx = ?2)",
            params![
                job_id,
                index as i64,
                outcome.ok as i64,
                outcome.body.to_string(),
                outcome.elapsed_ms as i64,
                now,
                outcome.reason,
            ],
        )?;
        let remaining: i64 = tx.query_row(
            "SELECT COUNT(*) FROM items i WHERE i.job_id = ?1
               AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = i.job_id AND r.idx = i.idx)",
            params![job_id],
            |r| r.get(0),
        )?;
        let mut closed = false;
        if remaining == 0 {
            closed = tx.execute(
                "UPDATE jobs SET status = 'done', finished_ms = ?2
                 WHERE id = ?1 AND status IN ('queued', 'running')",
                params![job_id, now],
            )? > 0;
        }
        tx.commit()?;
        Ok(closed)
    }

    /// Stops a job: items already done keep their results, the rest never run. Returns the
    /// status after the call, or `None` when `access` does not reach the job.
    pub fn cancel(&self, job_id: &str, access: &Access) -> Result<Option<JobStatus>, StoreError> {
        let conn = self.conn();
        let (tenant, sub) = owner_params(access);
        conn.execute(
            &format!(
                "UPDATE jobs SET status = 'cancelled', finished_ms = ?4
                 WHERE id = ?1 AND {OWNED} AND status IN ('queued', 'running')"
            ),
            params![job_id, tenant, sub, now_ms() as i64],
        )?;
        let status: Option<String> = conn
            .query_row(
                &format!("SELECT status FROM jobs WHERE id = ?1 AND {OWNED}"),
                params![job_id, tenant, sub],
                |r| r.get(0),
            )
            .optional()?;
        status.map(|s| JobStatus::parse(&s)).transpose()
    }

    /// Deletes a job with its items and results; returns its archive path for the caller to
    /// remove, or `None` when `access` does not reach the job.
    pub fn erase(&self, job_id: &str, access: &Access) -> Result<Option<PathBuf>, StoreError> {
        let mut conn = self.conn();
        let (tenant, sub) = owner_params(access);
        let tx = conn.transaction()?;
        let zip: Option<String> = tx
            .query_row(
                &format!("SELECT zip_path FROM jobs WHERE id = ?1 AND {OWNED}"),
                params![job_id, tenant, sub],
                |r| r.get(0),
            )
            .optional()?;
        if zip.is_some() {
            tx.execute("DELETE FROM results WHERE job_id = ?1", params![job_id])?;
            tx.execute("DELETE FROM items WHERE job_id = ?1", params![job_id])?;
            tx.execute("DELETE FROM jobs WHERE id = ?1", params![job_id])?;
        }
        tx.commit()?;
        if zip.is_some() {
            // The WAL still holds the pages as they were before the delete; copy the erased
            // pages into the database and empty the log.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(zip.map(PathBuf::from))
    }

    /// Finished jobs whose end lies at or before `cutoff_ms`: due for the retention sweep.
    pub fn finished_before(&self, cutoff_ms: u64) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id FROM jobs WHERE status IN ('done', 'cancelled') AND finished_ms <= ?1
             ORDER BY finished_ms",
        )?;
        let ids = stmt
            .query_map(params![cutoff_ms as i64], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Archive paths of finished jobs, which should no longer exist on disk.
    pub fn finished_archives(&self) -> Result<Vec<PathBuf>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT zip_path FROM jobs WHERE status IN ('done', 'cancelled')")?;
        let paths = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paths.into_iter().map(PathBuf::from).collect())
    }

    /// What `owner` holds in unfinished jobs.
    pub fn usage(&self, owner: &Owner) -> Result<Usage, StoreError> {
        let (jobs, bytes): (i64, i64) = self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(zip_bytes), 0) FROM jobs
             WHERE owner_tenant = ?1 AND owner_sub = ?2 AND status IN ('queued', 'running')",
            params![owner.tenant, owner.sub],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Usage {
            active_jobs: jobs.max(0) as u64,
            bytes: bytes.max(0) as u64,
        })
    }
}

fn owner_params(access: &Access) -> (Option<&str>, Option<&str>) {
    match access.owner() {
        Some(o) => (Some(o.tenant.as_str()), Some(o.sub.as_str())),
        None => (None, None),
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version.max(0)).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the job store has schema version {version}; this build knows {}",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// A `JOB_SELECT` row before its JSON columns are parsed.
struct JobRow {
    id: String,
    status: String,
    zip_name: String,
    zip_path: String,
    settings: String,
    skipped: String,
    created: i64,
    started: Option<i64>,
    finished: Option<i64>,
    tenant: String,
    sub: String,
    zip_bytes: i64,
    total: i64,
    done: i64,
    ok: i64,
}

impl JobRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            status: r.get(1)?,
            zip_name: r.get(2)?,
            zip_path: r.get(3)?,
            settings: r.get(4)?,
            skipped: r.get(5)?,
            created: r.get(6)?,
            started: r.get(7)?,
            finished: r.get(8)?,
            tenant: r.get(9)?,
            sub: r.get(10)?,
            zip_bytes: r.get(11)?,
            total: r.get(12)?,
            done: r.get(13)?,
            ok: r.get(14)?,
        })
    }

    fn into_record(self) -> Result<JobRecord, StoreError> {
        Ok(JobRecord {
            id: self.id,
            owner: Owner::new(self.tenant, self.sub),
            status: JobStatus::parse(&self.status)?,
            zip_name: self.zip_name,
            zip_path: PathBuf::from(self.zip_path),
            zip_bytes: self.zip_bytes.max(0) as u64,
            settings: serde_json::from_str(&self.settings).map_err(corrupt)?,
            skipped: serde_json::from_str(&self.skipped).map_err(corrupt)?,
            total: self.total as u64,
            done: self.done as u64,
            ok: self.ok as u64,
            error: (self.done - self.ok) as u64,
            created_unix_ms: self.created as u64,
            started_unix_ms: self.started.map(|v| v as u64),
            finished_unix_ms: self.finished.map(|v| v as u64),
        })
    }
}
