//! The embedded job store: SQLite in WAL mode, one file under the data directory. The
//! default: nothing to set up, and enough for one machine.
//!
//! Erasing a job deletes its rows with `secure_delete` on and truncates the write-ahead log, so
//! the biometric-derived results do not linger in free pages or in the WAL. The items' files
//! stay in the uploaded archive on this machine's disk ([`crate::store::MediaSource::Archive`]).

use crate::judging_pin::Pin;
use crate::owner::{Access, Owner};
use crate::pairing::Item;
use crate::store::{
    Claim, ClaimRow, Cursor, ItemRow, ItemState, JobRecord, JobRow, JobStatus, NewJob, Outcome,
    Store, StoreError, Usage, check_quota, corrupt, lease_ms, now_ms, weights_column,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

/// Schema changes in order; `PRAGMA user_version` counts how many a database has had. The
/// first is the schema before versioning (hence `IF NOT EXISTS`: older files already have it).
const MIGRATIONS: [&str; 11] = [
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
    // Leases: who works on an item and until when, so that several processes can share the
    // store and a dead one's item goes back to the queue; and which worker wrote a result.
    "
ALTER TABLE items ADD COLUMN lease_owner TEXT;
ALTER TABLE items ADD COLUMN lease_until_ms INTEGER;
ALTER TABLE results ADD COLUMN worker TEXT;
",
    // Whether a liveness result's still scored near its threshold, for the review column.
    "ALTER TABLE results ADD COLUMN near_threshold INTEGER;",
    // Which PAD graphs judged a liveness result (file name → SHA-256, JSON).
    "ALTER TABLE results ADD COLUMN pad_weights TEXT;",
    // When an item of the job was last claimed: the job served longest ago goes first.
    "ALTER TABLE jobs ADD COLUMN last_claim_ms INTEGER;",
    // The still threshold a liveness result applied, beside its PAD graphs.
    "ALTER TABLE results ADD COLUMN image_real_threshold REAL;",
    // The owner's issuer: a `sub` is unique only within it. Jobs stored before it keep '' and
    // are reached, once the server names its issuers, by the admin scope and the retention
    // sweep only (who issued their owner's token was never recorded).
    "
ALTER TABLE jobs ADD COLUMN owner_issuer TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS jobs_by_issued_owner
    ON jobs(owner_issuer, owner_tenant, owner_sub, created_ms);
",
    // The judging a batch is pinned to (weights and threshold of the replica that admitted
    // it; NULL before pinning: anyone's), and when a replica judging alike last took an item.
    "
ALTER TABLE jobs ADD COLUMN judging TEXT;
ALTER TABLE jobs ADD COLUMN pinned_claim_ms INTEGER;
",
];

/// The columns of a [`JobRecord`], counts included; `WHERE` clauses are appended.
const JOB_SELECT: &str = "SELECT id, status, zip_name, zip_path, settings, skipped, created_ms,
        started_ms, finished_ms, owner_tenant, owner_sub, zip_bytes, owner_issuer,
        (SELECT COUNT(*) FROM items i WHERE i.job_id = jobs.id),
        (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id),
        (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id AND r.ok = 1)
     FROM jobs";

/// `?2`/`?3`/`?4` are the owner's tenant, sub and issuer ([`Access::reach`]): the sub NULL for
/// a tenant's administrator, all three for the operator.
const OWNED: &str = "(?2 IS NULL OR (owner_tenant = ?2 AND owner_issuer = ?4
                                     AND (?3 IS NULL OR owner_sub = ?3)))";

/// An item no one works on: no result, and no lease or an expired one (`?1` is now).
const FREE_ITEM: &str =
    "NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = i.job_id AND r.idx = i.idx)
    AND (i.lease_until_ms IS NULL OR i.lease_until_ms <= ?1)";

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        writable(&conn, path)?;
        // WAL lets the HTTP handlers read progress while the runner writes results.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten, not left in free pages: erasure must reach the disk.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(Duration::from_secs(5))?;
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
}

/// SQLite opens a file it may not write read-only without a word, and reads still work: a
/// store owned by another user would start, pass `/readyz`, and fail every write with a 500.
fn writable(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::ReadOnly(path.display().to_string()));
    }
    Ok(())
}

impl Store for SqliteStore {
    fn ping(&self) -> Result<(), StoreError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
            params![name, fresh],
        )?;
        Ok(
            conn.query_row("SELECT value FROM secrets WHERE name = ?1", [name], |r| {
                r.get(0)
            })?,
        )
    }

    fn consume_challenge(&self, nonce: &str, expires_ms: u64) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM used_challenges WHERE expires_ms < ?1",
            [now_ms() as i64],
        )?;
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO used_challenges (nonce, expires_ms) VALUES (?1, ?2)",
            params![nonce, expires_ms as i64],
        )?;
        Ok(inserted == 1)
    }

    fn release_challenge(&self, nonce: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM used_challenges WHERE nonce = ?1", [nonce])?;
        Ok(())
    }

    fn keeps_media(&self) -> bool {
        false
    }

    fn insert_job(&self, job: &NewJob<'_>) -> Result<(), StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE: the write lock from the start, so that another process on this file
        // cannot admit an upload between the quota check and the insert.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let usage = usage_on(&tx, job.owner)?;
        check_quota(&job.quota, usage, job.zip_bytes).map_err(StoreError::OverQuota)?;
        let now = now_ms();
        let (status, finished) = if job.pairing.items.is_empty() {
            (JobStatus::Done, Some(now))
        } else {
            (JobStatus::Queued, None)
        };
        tx.execute(
            "INSERT INTO jobs (id, status, zip_name, zip_path, settings, skipped, created_ms,
                finished_ms, owner_tenant, owner_sub, zip_bytes, owner_issuer, judging)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                job.id,
                status.as_str(),
                job.zip_name,
                job.zip_path
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                serde_json::to_string(job.settings).map_err(corrupt)?,
                serde_json::to_string(&job.pairing.skipped).map_err(corrupt)?,
                now as i64,
                finished.map(|f| f as i64),
                job.owner.tenant,
                job.owner.sub,
                job.zip_bytes as i64,
                job.owner.issuer,
                job.judging.as_str(),
            ],
        )?;
        {
            let mut stmt =
                tx.prepare("INSERT INTO items (job_id, idx, stem, task) VALUES (?1, ?2, ?3, ?4)")?;
            for (i, Item { stem, task }) in job.pairing.items.iter().enumerate() {
                stmt.execute(params![
                    job.id,
                    i as i64,
                    stem,
                    serde_json::to_string(task).map_err(corrupt)?
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn job(&self, id: &str, access: &Access) -> Result<Option<JobRecord>, StoreError> {
        let conn = self.conn();
        let (tenant, sub, issuer) = owner_params(access);
        let sql = format!("{JOB_SELECT} WHERE id = ?1 AND {OWNED}");
        let row = conn
            .query_row(&sql, params![id, tenant, sub, issuer], read_job)
            .optional()?;
        row.map(JobRow::into_record).transpose()
    }

    fn list(
        &self,
        access: &Access,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let conn = self.conn();
        let (tenant, sub, issuer) = owner_params(access);
        let sql = format!(
            "{JOB_SELECT} WHERE {OWNED} AND (?5 IS NULL OR (created_ms, id) < (?5, ?6))
             ORDER BY created_ms DESC, id DESC LIMIT ?1"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                limit as i64,
                tenant,
                sub,
                issuer,
                after.map(|c| c.created_ms as i64),
                after.map(|c| c.id.as_str()),
            ],
            read_job,
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.into_record()?);
        }
        Ok(out)
    }

    fn items(&self, job_id: &str) -> Result<Vec<ItemState>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT i.idx, i.stem, i.task, r.ok, r.body, r.elapsed_ms, r.reason, r.worker,
                    r.near_threshold, r.pad_weights, i.lease_until_ms, r.image_real_threshold
             FROM items i LEFT JOIN results r ON r.job_id = i.job_id AND r.idx = i.idx
             WHERE i.job_id = ?1 ORDER BY i.idx",
        )?;
        let rows = stmt.query_map(params![job_id], |r| {
            Ok(ItemRow {
                idx: r.get(0)?,
                stem: r.get(1)?,
                task: r.get(2)?,
                ok: r.get::<_, Option<i64>>(3)?.map(|v| v != 0),
                body: r.get(4)?,
                elapsed: r.get(5)?,
                reason: r.get(6)?,
                worker: r.get(7)?,
                near_threshold: r.get::<_, Option<i64>>(8)?.map(|v| v != 0),
                pad_weights: r.get(9)?,
                lease_until_ms: r.get(10)?,
                image_real_threshold: r.get(11)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.into_state()?);
        }
        Ok(out)
    }

    fn media(&self, _job_id: &str, _name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        // The files stay in the uploaded archive (`MediaSource::Archive`).
        Ok(None)
    }

    fn claim(&self, worker: &str, lease: Duration, pin: &Pin) -> Result<Option<Claim>, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE takes the write lock up front: another process on the same file waits
        // instead of picking the same item between our read and our write.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_ms() as i64;
        let row = tx
            .query_row(
                &format!(
                    "SELECT i.job_id, i.idx, i.stem, i.task, j.settings, j.zip_path, i.attempts,
                            j.judging IS NOT NULL AND j.judging <> ?2
                     FROM jobs j JOIN items i ON i.job_id = j.id
                     WHERE j.status IN ('queued', 'running') AND {FREE_ITEM}
                       AND (j.judging IS NULL OR j.judging = ?2
                            OR COALESCE(j.pinned_claim_ms, j.created_ms) <= ?1 - ?3)
                     ORDER BY j.last_claim_ms IS NOT NULL, j.last_claim_ms, j.created_ms,
                              j.id, i.idx
                     LIMIT 1"
                ),
                params![now, pin.key.as_str(), lease_ms(pin.grace)],
                |r| {
                    Ok(ClaimRow {
                        job_id: r.get(0)?,
                        idx: r.get(1)?,
                        stem: r.get(2)?,
                        task: r.get(3)?,
                        settings: r.get(4)?,
                        zip_path: r.get(5)?,
                        attempts_before: r.get(6)?,
                        foreign: r.get(7)?,
                    })
                },
            )
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE items SET attempts = attempts + 1, lease_owner = ?3, lease_until_ms = ?4
             WHERE job_id = ?1 AND idx = ?2",
            params![row.job_id, row.idx, worker, now + lease_ms(lease)],
        )?;
        tx.execute(
            "UPDATE jobs SET status = 'running', started_ms = COALESCE(started_ms, ?2)
             WHERE id = ?1 AND status = 'queued'",
            params![row.job_id, now],
        )?;
        // Only a replica judging alike keeps the batch's own replicas counted as present.
        tx.execute(
            "UPDATE jobs SET last_claim_ms = ?2,
                pinned_claim_ms = CASE WHEN ?3 THEN pinned_claim_ms ELSE ?2 END
             WHERE id = ?1",
            params![row.job_id, now, row.foreign],
        )?;
        tx.commit()?;
        row.into_claim().map(Some)
    }

    fn renew(&self, worker: &str, lease: Duration) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE items SET lease_until_ms = ?2 WHERE lease_owner = ?1
               AND NOT EXISTS (SELECT 1 FROM results r
                               WHERE r.job_id = items.job_id AND r.idx = items.idx)",
            params![worker, now_ms() as i64 + lease_ms(lease)],
        )?;
        Ok(())
    }

    fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let n = self.conn().execute(
            "UPDATE items SET lease_owner = NULL, lease_until_ms = NULL,
                        attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                 WHERE lease_owner = ?1
               AND NOT EXISTS (SELECT 1 FROM results r
                               WHERE r.job_id = items.job_id AND r.idx = items.idx)",
            params![worker],
        )?;
        Ok(n as u64)
    }

    fn record(
        &self,
        job_id: &str,
        index: u64,
        worker: &str,
        outcome: &Outcome,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms() as i64;
        // A job erased while its item ran has no item row left to attach the result to.
        tx.execute(
            "INSERT OR IGNORE INTO results
                (job_id, idx, ok, body, elapsed_ms, finished_ms, reason, worker, near_threshold,
                 pad_weights, image_real_threshold)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11
             WHERE EXISTS (SELECT 1 FROM items WHERE job_id = ?1 AND idx = ?2)",
            params![
                job_id,
                index as i64,
                outcome.ok as i64,
                outcome.body.to_string(),
                outcome.elapsed_ms as i64,
                now,
                outcome.reason,
                worker,
                outcome.near_threshold as i64,
                weights_column(&outcome.pad_weights),
                outcome.image_real_threshold.map(f64::from),
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

    fn cancel(&self, job_id: &str, access: &Access) -> Result<Option<JobStatus>, StoreError> {
        let conn = self.conn();
        let (tenant, sub, issuer) = owner_params(access);
        conn.execute(
            &format!(
                "UPDATE jobs SET status = 'cancelled', finished_ms = ?5
                 WHERE id = ?1 AND {OWNED} AND status IN ('queued', 'running')"
            ),
            params![job_id, tenant, sub, issuer, now_ms() as i64],
        )?;
        let status: Option<String> = conn
            .query_row(
                &format!("SELECT status FROM jobs WHERE id = ?1 AND {OWNED}"),
                params![job_id, tenant, sub, issuer],
                |r| r.get(0),
            )
            .optional()?;
        status.map(|s| JobStatus::parse(&s)).transpose()
    }

    fn erase(&self, job_id: &str, access: &Access) -> Result<Option<Option<PathBuf>>, StoreError> {
        let mut conn = self.conn();
        let (tenant, sub, issuer) = owner_params(access);
        let tx = conn.transaction()?;
        let zip: Option<String> = tx
            .query_row(
                &format!("SELECT zip_path FROM jobs WHERE id = ?1 AND {OWNED}"),
                params![job_id, tenant, sub, issuer],
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
        Ok(zip.map(|z| Some(PathBuf::from(z)).filter(|p| !p.as_os_str().is_empty())))
    }

    fn drop_media(&self, _job_id: &str) -> Result<(), StoreError> {
        // Nothing in the database: the service removes the archive file.
        Ok(())
    }

    fn finished_before(&self, cutoff_ms: u64) -> Result<Vec<String>, StoreError> {
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

    fn finished_archives(&self) -> Result<Vec<PathBuf>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT zip_path FROM jobs WHERE status IN ('done', 'cancelled') AND zip_path != ''",
        )?;
        let paths = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paths.into_iter().map(PathBuf::from).collect())
    }

    fn unfinished_jobs(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_ms, id",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    fn usage(&self, owner: &Owner) -> Result<Usage, StoreError> {
        usage_on(&self.conn(), owner)
    }
}

/// What `owner` holds in unfinished jobs, on the store's connection or inside a transaction.
fn usage_on(conn: &Connection, owner: &Owner) -> Result<Usage, StoreError> {
    let (jobs, bytes): (i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(zip_bytes), 0) FROM jobs
         WHERE owner_tenant = ?1 AND owner_sub = ?2 AND owner_issuer = ?3
           AND status IN ('queued', 'running')",
        params![owner.tenant, owner.sub, owner.issuer],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Usage {
        active_jobs: jobs.max(0) as u64,
        bytes: bytes.max(0) as u64,
    })
}

fn owner_params(access: &Access) -> (Option<&str>, Option<&str>, Option<&str>) {
    match access.reach() {
        Some(r) => (Some(r.tenant), r.sub, Some(r.issuer)),
        None => (None, None, None),
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

fn read_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
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
        issuer: r.get(12)?,
        total: r.get(13)?,
        done: r.get(14)?,
        ok: r.get(15)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_this_process_may_only_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite3");
        SqliteStore::open(&path).unwrap();
        // As SQLite opens a file whose permissions forbid writing (root, who runs these
        // tests, is never refused by permissions).
        let ro =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let err = writable(&ro, &path).unwrap_err();
        assert!(matches!(err, StoreError::ReadOnly(_)), "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
        let rw = Connection::open(&path).unwrap();
        writable(&rw, &path).unwrap();
    }
}
