//! The persistent job store: SQLite in WAL mode, one file under the data directory.
//!
//! A result is written in the same transaction that may close its job, so a crash at any point
//! leaves either the item pending (it runs again) or done (it is never run twice). Nothing about
//! progress lives only in memory: a restart reads the same tables and carries on.

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
    pub status: JobStatus,
    /// The client's file name, for display only.
    pub zip_name: String,
    #[serde(skip)]
    pub zip_path: PathBuf,
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

const SCHEMA: &str = "
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
";

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
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (it has its own
        // transactions), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert_job(
        &self,
        id: &str,
        zip_name: &str,
        zip_path: &Path,
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
            "INSERT INTO jobs (id, status, zip_name, zip_path, settings, skipped, created_ms, finished_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                status.as_str(),
                zip_name,
                zip_path.to_string_lossy(),
                serde_json::to_string(settings).map_err(corrupt)?,
                serde_json::to_string(&pairing.skipped).map_err(corrupt)?,
                now as i64,
                finished.map(|f| f as i64),
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

    pub fn job(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT id, status, zip_name, zip_path, settings, skipped, created_ms, started_ms, finished_ms,
                    (SELECT COUNT(*) FROM items i WHERE i.job_id = jobs.id),
                    (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id),
                    (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id AND r.ok = 1)
                 FROM jobs WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        r.get::<_, i64>(9)?,
                        r.get::<_, i64>(10)?,
                        r.get::<_, i64>(11)?,
                    ))
                },
            )
            .optional()?;
        let Some((
            id,
            status,
            zip_name,
            zip_path,
            settings,
            skipped,
            created,
            started,
            finished,
            total,
            done,
            ok,
        )) = row
        else {
            return Ok(None);
        };
        Ok(Some(JobRecord {
            id,
            status: JobStatus::parse(&status)?,
            zip_name,
            zip_path: PathBuf::from(zip_path),
            settings: serde_json::from_str(&settings).map_err(corrupt)?,
            skipped: serde_json::from_str(&skipped).map_err(corrupt)?,
            total: total as u64,
            done: done as u64,
            ok: ok as u64,
            error: (done - ok) as u64,
            created_unix_ms: created as u64,
            started_unix_ms: started.map(|v| v as u64),
            finished_unix_ms: finished.map(|v| v as u64),
        }))
    }

    pub fn items(&self, job_id: &str) -> Result<Vec<ItemState>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT i.idx, i.stem, i.task, r.ok, r.body, r.elapsed_ms
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
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (idx, stem, task, ok, body, elapsed) = row?;
            let outcome = match (ok, body) {
                (Some(ok), Some(body)) => Some(Outcome {
                    ok: ok != 0,
                    body: serde_json::from_str(&body).map_err(corrupt)?,
                    elapsed_ms: elapsed.unwrap_or(0) as u64,
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

    /// Counts one more run of an item and returns how many had started before this one.
    /// Written before the analysis, so a crash during it still counts.
    pub fn begin_attempt(&self, job_id: &str, index: u64) -> Result<u32, StoreError> {
        let conn = self.conn();
        let before: i64 = conn.query_row(
            "UPDATE items SET attempts = attempts + 1 WHERE job_id = ?1 AND idx = ?2
             RETURNING attempts - 1",
            params![job_id, index as i64],
            |r| r.get(0),
        )?;
        Ok(before.max(0) as u32)
    }

    /// Records one item's outcome; closes the job when it was the last one. Returns whether
    /// the job is now done.
    pub fn record(&self, job_id: &str, index: u64, outcome: &Outcome) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms() as i64;
        tx.execute(
            "INSERT OR IGNORE INTO results (job_id, idx, ok, body, elapsed_ms, finished_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                job_id,
                index as i64,
                outcome.ok as i64,
                outcome.body.to_string(),
                outcome.elapsed_ms as i64,
                now
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
    /// status after the call, or `None` for an unknown id.
    pub fn cancel(&self, job_id: &str) -> Result<Option<JobStatus>, StoreError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE jobs SET status = 'cancelled', finished_ms = ?2
             WHERE id = ?1 AND status IN ('queued', 'running')",
            params![job_id, now_ms() as i64],
        )?;
        let status: Option<String> = conn
            .query_row(
                "SELECT status FROM jobs WHERE id = ?1",
                params![job_id],
                |r| r.get(0),
            )
            .optional()?;
        status.map(|s| JobStatus::parse(&s)).transpose()
    }
}
