//! The shared job store: PostgreSQL, for several replicas behind one load balancer.
//!
//! Everything a replica needs lives in the database, the items' files included (`media`,
//! bytea), so no replica needs another's disk. Work is handed out with
//! `SELECT … FOR UPDATE SKIP LOCKED` under a lease on the database's clock: a replica renews the
//! leases it holds (the heartbeat), and an item whose replica died becomes free again when its
//! lease runs out. Results are written once (primary key, `ON CONFLICT DO NOTHING`), so an item
//! run twice after a lost lease still has exactly one result.
//!
//! The schema is versioned by sqlx's migrator (`migrations/postgres/`), applied at start under
//! its advisory lock, so replicas starting together do not race. Deleted rows disappear from
//! every query at once; PostgreSQL reclaims their space at the next vacuum (README, "Deployment").
//!
//! sqlx is asynchronous while the store's interface blocks (its callers run off the reactor):
//! each call runs on the store's own small runtime and the caller waits for the answer, which is
//! safe from any thread, inside a tokio runtime or not.

use crate::judging_pin::Pin;
use crate::owner::{Access, Owner};
use crate::pairing::Item;
use crate::store::{
    Claim, ClaimRow, Cursor, ItemRow, ItemState, JobRecord, JobRow, JobStatus, NewJob, Outcome,
    Store, StoreError, Usage, Wake, check_quota, corrupt, lease_ms, now_ms, weights_column,
};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row, migrate::Migrator};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Milliseconds on the database's clock: leases of different replicas compare on one clock.
const NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// The columns of a [`JobRecord`], counts included; `WHERE` clauses are appended.
const JOB_SELECT: &str = "SELECT id, status, zip_name, NULL::TEXT, settings, skipped, created_ms,
        started_ms, finished_ms, owner_tenant, owner_sub, zip_bytes, owner_issuer,
        (SELECT COUNT(*) FROM items i WHERE i.job_id = jobs.id),
        (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id),
        (SELECT COUNT(*) FROM results r WHERE r.job_id = jobs.id AND r.ok)
     FROM jobs";

/// `$2`/`$3`/`$4` are the owner's tenant, sub and issuer ([`Access::reach`]): the sub NULL for
/// a tenant's administrator, all three for the operator.
const OWNED: &str = "($2::TEXT IS NULL OR (owner_tenant = $2 AND owner_issuer = $4::TEXT
                                          AND ($3::TEXT IS NULL OR owner_sub = $3)))";

/// The channel on which replicas tell each other that there is work (a new job, leases
/// handed back); the payload is empty.
const WORK_CHANNEL: &str = "livegate_work";

/// PostgreSQL's code for a foreign-key violation: the job was erased under a running item.
const FOREIGN_KEY_VIOLATION: &str = "23503";

pub struct PostgresStore {
    pool: PgPool,
    /// `Some` until drop; see [`Drop`].
    runtime: Option<tokio::runtime::Runtime>,
}

impl PostgresStore {
    /// Connects to `url` and brings the schema up to date.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url)?;
        let pool = store.pool.clone();
        store.run(async move { MIGRATOR.run(&pool).await.map_err(StoreError::from) })?;
        Ok(store)
    }

    /// Applies the migrations up to and including `version` only, as an older release would
    /// have left the database (upgrade tests; staged upgrades).
    pub fn migrate_to(url: &str, version: i64) -> Result<(), StoreError> {
        let store = Self::connect(url)?;
        let pool = store.pool.clone();
        store.run(async move {
            MIGRATOR
                .run_to(version, &pool)
                .await
                .map_err(StoreError::from)
        })
    }

    /// The schema versions applied to the database, in order.
    pub fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let pool = self.pool.clone();
        self.run(async move {
            let rows = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&pool)
                .await?;
            rows.iter()
                .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
                .collect()
        })
    }

    fn connect(url: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("livegate-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Corrupt(format!("starting the database runtime: {e}")))?;
        let url = url.to_owned();
        tracing::info!("connecting to the job store database");
        let pool = wait_on(&runtime, async move {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                // An unreachable database fails a call (and readiness) quickly instead of
                // holding a worker for the driver's default 30 s.
                .acquire_timeout(Duration::from_secs(5))
                .connect(&url)
                .await;
            match pool {
                // The pool says only that it gave up; one plain connection says why (refused,
                // no such host, bad password), which is what an operator needs to read.
                Err(sqlx::Error::PoolTimedOut) => {
                    use sqlx::Connection;
                    match sqlx::PgConnection::connect(&url).await {
                        Err(cause) => Err(cause.into()),
                        Ok(_) => Err(sqlx::Error::PoolTimedOut.into()),
                    }
                }
                other => Ok(other?),
            }
        })?;
        Ok(Self {
            pool,
            runtime: Some(runtime),
        })
    }

    /// Runs `work` on the store's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        wait_on(
            self.runtime.as_ref().expect("the runtime lives until drop"),
            work,
        )
    }
}

/// Runs `work` on `runtime` and blocks the calling thread until it is done. Unlike
/// `Runtime::block_on` this may be called from inside another runtime's task.
fn wait_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(work.await);
    });
    rx.recv()
        .map_err(|_| StoreError::Corrupt("the database runtime stopped".into()))?
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The last owner may be an async task; a runtime may not block on shutdown there.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// SQL put together from this file's constants (`NOW_MS`, `OWNED`, `JOB_SELECT`) only: every
/// value a client sends is a bind parameter, never text in the statement.
fn composed(sql: String) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql)
}

/// One message to the task writing a new job: a file, or why the job must not be stored.
enum FileOrAbort {
    File(String, Vec<u8>),
    Abort(String),
}

fn owner_params(access: &Access) -> (Option<String>, Option<String>, Option<String>) {
    match access.reach() {
        Some(r) => (
            Some(r.tenant.to_owned()),
            r.sub.map(str::to_owned),
            Some(r.issuer.to_owned()),
        ),
        None => (None, None, None),
    }
}

fn read_job(r: &PgRow) -> Result<JobRow, sqlx::Error> {
    Ok(JobRow {
        id: r.try_get(0)?,
        status: r.try_get(1)?,
        zip_name: r.try_get(2)?,
        zip_path: r.try_get(3)?,
        settings: r.try_get(4)?,
        skipped: r.try_get(5)?,
        created: r.try_get(6)?,
        started: r.try_get(7)?,
        finished: r.try_get(8)?,
        tenant: r.try_get(9)?,
        sub: r.try_get(10)?,
        zip_bytes: r.try_get(11)?,
        issuer: r.try_get(12)?,
        total: r.try_get(13)?,
        done: r.try_get(14)?,
        ok: r.try_get(15)?,
    })
}

fn ids(rows: Vec<PgRow>) -> Result<Vec<String>, StoreError> {
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

impl Store for PostgresStore {
    fn ping(&self) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        self.run(async move {
            sqlx::query("SELECT 1").execute(&pool).await?;
            Ok(())
        })
    }

    fn secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let (pool, name) = (self.pool.clone(), name.to_owned());
        self.run(async move {
            sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&name)
                .bind(fresh)
                .execute(&pool)
                .await?;
            let row = sqlx::query("SELECT value FROM secrets WHERE name = $1")
                .bind(&name)
                .fetch_one(&pool)
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    fn consume_challenge(&self, nonce: &str, expires_ms: u64) -> Result<bool, StoreError> {
        let (pool, nonce) = (self.pool.clone(), nonce.to_owned());
        self.run(async move {
            sqlx::query("DELETE FROM used_challenges WHERE expires_ms < $1")
                .bind(now_ms() as i64)
                .execute(&pool)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO used_challenges (nonce, expires_ms) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&nonce)
            .bind(expires_ms as i64)
            .execute(&pool)
            .await?;
            Ok(inserted.rows_affected() == 1)
        })
    }

    fn release_challenge(&self, nonce: &str) -> Result<(), StoreError> {
        let (pool, nonce) = (self.pool.clone(), nonce.to_owned());
        self.run(async move {
            sqlx::query("DELETE FROM used_challenges WHERE nonce = $1")
                .bind(&nonce)
                .execute(&pool)
                .await?;
            Ok(())
        })
    }

    fn keeps_media(&self) -> bool {
        true
    }

    fn insert_job(&self, job: &NewJob<'_>) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        let now = now_ms() as i64;
        let (status, finished) = if job.pairing.items.is_empty() {
            (JobStatus::Done, Some(now))
        } else {
            (JobStatus::Queued, None)
        };
        let id = job.id.to_owned();
        let zip_name = job.zip_name.to_owned();
        let settings = serde_json::to_string(job.settings).map_err(corrupt)?;
        let skipped = serde_json::to_string(&job.pairing.skipped).map_err(corrupt)?;
        let owner = job.owner.clone();
        let zip_bytes = job.zip_bytes as i64;
        let judging = job.judging.as_str().to_owned();
        let items = job
            .pairing
            .items
            .iter()
            .map(|Item { stem, task }| Ok((stem.clone(), serde_json::to_string(task)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(corrupt)?;
        // The files reach the writing task one at a time over a channel of one place, so at
        // most two are in memory whatever the batch's size; all rows commit together or none.
        let (files_tx, mut files) = tokio::sync::mpsc::channel::<FileOrAbort>(1);
        let quota = job.quota.clone();
        let write = async move {
            let mut tx = pool.begin().await?;
            // One admission per owner at a time across every replica (the lock ends with the
            // transaction), and the quota checked on what the others have committed.
            // (Two hashes: a collision between owners only makes them wait for each other.)
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))")
                .bind(&owner.tenant)
                .bind(&owner.sub)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(USAGE_SQL_PG)
                .bind(&owner.tenant)
                .bind(&owner.sub)
                .bind(&owner.issuer)
                .fetch_one(&mut *tx)
                .await?;
            check_quota(&quota, usage_of(&row)?, zip_bytes as u64)
                .map_err(StoreError::OverQuota)?;
            sqlx::query(
                "INSERT INTO jobs (id, status, zip_name, settings, skipped, created_ms,
                    finished_ms, owner_tenant, owner_sub, zip_bytes, owner_issuer, judging)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&id)
            .bind(status.as_str())
            .bind(&zip_name)
            .bind(&settings)
            .bind(&skipped)
            .bind(now)
            .bind(finished)
            .bind(&owner.tenant)
            .bind(&owner.sub)
            .bind(zip_bytes)
            .bind(&owner.issuer)
            .bind(&judging)
            .execute(&mut *tx)
            .await?;
            for (i, (stem, task)) in items.into_iter().enumerate() {
                sqlx::query("INSERT INTO items (job_id, idx, stem, task) VALUES ($1, $2, $3, $4)")
                    .bind(&id)
                    .bind(i as i64)
                    .bind(stem)
                    .bind(task)
                    .execute(&mut *tx)
                    .await?;
            }
            // Delivered at commit, to every replica listening.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(WORK_CHANNEL)
                .execute(&mut *tx)
                .await?;
            while let Some(file) = files.recv().await {
                let (name, bytes) = match file {
                    FileOrAbort::File(name, bytes) => (name, bytes),
                    // Dropping `tx` rolls the job back.
                    FileOrAbort::Abort(why) => return Err(StoreError::Corrupt(why)),
                };
                sqlx::query(
                    "INSERT INTO media (job_id, name, bytes) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(name)
                .bind(bytes)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        };
        let (done_tx, done) = std::sync::mpsc::sync_channel(1);
        self.runtime
            .as_ref()
            .expect("the runtime lives until drop")
            .spawn(async move {
                let _ = done_tx.send(write.await);
            });
        for name in &job.media {
            let file = match (job.read_media)(name) {
                Ok(bytes) => FileOrAbort::File(name.clone(), bytes),
                Err(why) => FileOrAbort::Abort(why),
            };
            let abort = matches!(file, FileOrAbort::Abort(_));
            // A closed channel means the writer already failed: its error is read below. (A
            // plain executor, not tokio's `blocking_send`: the caller may be inside a runtime.)
            if futures_executor::block_on(files_tx.send(file)).is_err() || abort {
                break;
            }
        }
        drop(files_tx);
        done.recv()
            .map_err(|_| StoreError::Corrupt("the database runtime stopped".into()))?
    }

    fn job(&self, id: &str, access: &Access) -> Result<Option<JobRecord>, StoreError> {
        let (pool, id) = (self.pool.clone(), id.to_owned());
        let (tenant, sub, issuer) = owner_params(access);
        self.run(async move {
            let sql = format!("{JOB_SELECT} WHERE id = $1 AND {OWNED}");
            let row = sqlx::query(composed(sql))
                .bind(&id)
                .bind(tenant)
                .bind(sub)
                .bind(issuer)
                .fetch_optional(&pool)
                .await?;
            row.map(|r| read_job(&r)?.into_record()).transpose()
        })
    }

    fn list(
        &self,
        access: &Access,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<JobRecord>, StoreError> {
        let pool = self.pool.clone();
        let (tenant, sub, issuer) = owner_params(access);
        let after = after.cloned();
        self.run(async move {
            let sql = format!(
                "{JOB_SELECT} WHERE {OWNED}
                   AND ($5::BIGINT IS NULL OR (created_ms, id) < ($5, $6::TEXT))
                 ORDER BY created_ms DESC, id DESC LIMIT $1"
            );
            let rows = sqlx::query(composed(sql))
                .bind(limit as i64)
                .bind(tenant)
                .bind(sub)
                .bind(issuer)
                .bind(after.as_ref().map(|c| c.created_ms as i64))
                .bind(after.map(|c| c.id))
                .fetch_all(&pool)
                .await?;
            rows.iter().map(|r| read_job(r)?.into_record()).collect()
        })
    }

    fn items(&self, job_id: &str) -> Result<Vec<ItemState>, StoreError> {
        let (pool, job_id) = (self.pool.clone(), job_id.to_owned());
        self.run(async move {
            let rows = sqlx::query(
                "SELECT i.idx, i.stem, i.task, r.ok, r.body, r.elapsed_ms, r.reason, r.worker,
                        r.near_threshold, r.pad_weights, i.lease_until_ms, r.image_real_threshold
                 FROM items i LEFT JOIN results r ON r.job_id = i.job_id AND r.idx = i.idx
                 WHERE i.job_id = $1 ORDER BY i.idx",
            )
            .bind(&job_id)
            .fetch_all(&pool)
            .await?;
            rows.iter()
                .map(|r| {
                    ItemRow {
                        idx: r.try_get(0)?,
                        stem: r.try_get(1)?,
                        task: r.try_get(2)?,
                        ok: r.try_get(3)?,
                        body: r.try_get(4)?,
                        elapsed: r.try_get(5)?,
                        reason: r.try_get(6)?,
                        worker: r.try_get(7)?,
                        near_threshold: r.try_get(8)?,
                        pad_weights: r.try_get(9)?,
                        lease_until_ms: r.try_get(10)?,
                        image_real_threshold: r.try_get(11)?,
                    }
                    .into_state()
                })
                .collect()
        })
    }

    fn media(&self, job_id: &str, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (pool, job_id, name) = (self.pool.clone(), job_id.to_owned(), name.to_owned());
        self.run(async move {
            let row = sqlx::query("SELECT bytes FROM media WHERE job_id = $1 AND name = $2")
                .bind(&job_id)
                .bind(&name)
                .fetch_optional(&pool)
                .await?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })
    }

    fn claim(&self, worker: &str, lease: Duration, pin: &Pin) -> Result<Option<Claim>, StoreError> {
        let (pool, worker) = (self.pool.clone(), worker.to_owned());
        let lease = lease_ms(lease);
        let (judging, grace) = (pin.key.as_str().to_owned(), lease_ms(pin.grace));
        self.run(async move {
            let mut tx = pool.begin().await?;
            // SKIP LOCKED: replicas claiming at once each get a different item, none waits.
            let row = sqlx::query(composed(format!(
                "WITH next AS (
                    SELECT i.job_id, i.idx FROM items i JOIN jobs j ON j.id = i.job_id
                    WHERE j.status IN ('queued', 'running')
                      AND NOT EXISTS (SELECT 1 FROM results r
                                      WHERE r.job_id = i.job_id AND r.idx = i.idx)
                      AND (i.lease_until_ms IS NULL OR i.lease_until_ms <= {NOW_MS})
                      AND (j.judging IS NULL OR j.judging = $3
                           OR COALESCE(j.pinned_claim_ms, j.created_ms) <= {NOW_MS} - $4)
                    ORDER BY j.last_claim_ms NULLS FIRST, j.created_ms, j.id, i.idx
                    LIMIT 1
                    FOR UPDATE OF i SKIP LOCKED)
                 UPDATE items it
                 SET attempts = it.attempts + 1, lease_owner = $1, lease_until_ms = {NOW_MS} + $2
                 FROM next, jobs j
                 WHERE it.job_id = next.job_id AND it.idx = next.idx AND j.id = it.job_id
                 RETURNING it.job_id, it.idx, it.stem, it.task, j.settings, it.attempts - 1,
                           COALESCE(j.judging <> $3, FALSE)"
            )))
            .bind(&worker)
            .bind(lease)
            .bind(&judging)
            .bind(grace)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.commit().await?;
                return Ok(None);
            };
            let claim = ClaimRow {
                job_id: row.try_get(0)?,
                idx: row.try_get(1)?,
                stem: row.try_get(2)?,
                task: row.try_get(3)?,
                settings: row.try_get(4)?,
                zip_path: None,
                attempts_before: row.try_get(5)?,
                foreign: row.try_get(6)?,
            };
            // Round robin over the jobs with work: this one goes to the back of the line. Only
            // a replica judging alike keeps the batch's own replicas counted as present.
            sqlx::query(
                "UPDATE jobs SET status = CASE WHEN status = 'queued' THEN 'running' ELSE status END,
                    started_ms = COALESCE(started_ms, $2), last_claim_ms = $2,
                    pinned_claim_ms = CASE WHEN $3 THEN pinned_claim_ms ELSE $2 END
                 WHERE id = $1",
            )
            .bind(&claim.job_id)
            .bind(now_ms() as i64)
            .bind(claim.foreign)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            claim.into_claim().map(Some)
        })
    }

    fn renew(&self, worker: &str, lease: Duration) -> Result<(), StoreError> {
        let (pool, worker) = (self.pool.clone(), worker.to_owned());
        let lease = lease_ms(lease);
        self.run(async move {
            sqlx::query(composed(format!(
                "UPDATE items SET lease_until_ms = {NOW_MS} + $2 WHERE lease_owner = $1
                   AND NOT EXISTS (SELECT 1 FROM results r
                                   WHERE r.job_id = items.job_id AND r.idx = items.idx)"
            )))
            .bind(&worker)
            .bind(lease)
            .execute(&pool)
            .await?;
            Ok(())
        })
    }

    fn release(&self, worker: &str) -> Result<u64, StoreError> {
        let (pool, worker) = (self.pool.clone(), worker.to_owned());
        self.run(async move {
            let done = sqlx::query(
                "UPDATE items SET lease_owner = NULL, lease_until_ms = NULL,
                        attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                 WHERE lease_owner = $1
                   AND NOT EXISTS (SELECT 1 FROM results r
                                   WHERE r.job_id = items.job_id AND r.idx = items.idx)",
            )
            .bind(&worker)
            .execute(&pool)
            .await?;
            if done.rows_affected() > 0 {
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(WORK_CHANNEL)
                    .execute(&pool)
                    .await?;
            }
            Ok(done.rows_affected())
        })
    }

    fn record(
        &self,
        job_id: &str,
        index: u64,
        worker: &str,
        outcome: &Outcome,
    ) -> Result<bool, StoreError> {
        let (pool, job_id, worker) = (self.pool.clone(), job_id.to_owned(), worker.to_owned());
        let outcome = outcome.clone();
        self.run(async move {
            let mut tx = pool.begin().await?;
            // One writer per job at a time: two replicas finishing the last two items must
            // not each see the other's result as missing and leave the job open.
            let job = sqlx::query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE")
                .bind(&job_id)
                .fetch_optional(&mut *tx)
                .await?;
            if job.is_none() {
                // Erased while the item ran.
                return Ok(false);
            }
            let now = now_ms() as i64;
            let inserted = sqlx::query(
                "INSERT INTO results
                    (job_id, idx, ok, body, elapsed_ms, finished_ms, reason, worker, near_threshold,
                     pad_weights, image_real_threshold)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
                 WHERE EXISTS (SELECT 1 FROM items WHERE job_id = $1 AND idx = $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&job_id)
            .bind(index as i64)
            .bind(outcome.ok)
            .bind(outcome.body.to_string())
            .bind(outcome.elapsed_ms as i64)
            .bind(now)
            .bind(&outcome.reason)
            .bind(&worker)
            .bind(outcome.near_threshold)
            .bind(weights_column(&outcome.pad_weights))
            .bind(outcome.image_real_threshold.map(f64::from))
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(sqlx::Error::Database(e))
                    if e.code().as_deref() == Some(FOREIGN_KEY_VIOLATION) =>
                {
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            }
            let remaining: i64 = sqlx::query(
                "SELECT COUNT(*) FROM items i WHERE i.job_id = $1
                   AND NOT EXISTS (SELECT 1 FROM results r
                                   WHERE r.job_id = i.job_id AND r.idx = i.idx)",
            )
            .bind(&job_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let mut closed = false;
            if remaining == 0 {
                closed = sqlx::query(
                    "UPDATE jobs SET status = 'done', finished_ms = $2
                     WHERE id = $1 AND status IN ('queued', 'running')",
                )
                .bind(&job_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    > 0;
            }
            tx.commit().await?;
            Ok(closed)
        })
    }

    fn cancel(&self, job_id: &str, access: &Access) -> Result<Option<JobStatus>, StoreError> {
        let (pool, job_id) = (self.pool.clone(), job_id.to_owned());
        let (tenant, sub, issuer) = owner_params(access);
        self.run(async move {
            sqlx::query(composed(format!(
                "UPDATE jobs SET status = 'cancelled', finished_ms = $5
                 WHERE id = $1 AND {OWNED} AND status IN ('queued', 'running')"
            )))
            .bind(&job_id)
            .bind(&tenant)
            .bind(&sub)
            .bind(&issuer)
            .bind(now_ms() as i64)
            .execute(&pool)
            .await?;
            let row = sqlx::query(composed(format!(
                "SELECT status FROM jobs WHERE id = $1 AND {OWNED}"
            )))
            .bind(&job_id)
            .bind(&tenant)
            .bind(&sub)
            .bind(&issuer)
            .fetch_optional(&pool)
            .await?;
            row.map(|r| JobStatus::parse(&r.try_get::<String, _>(0)?))
                .transpose()
        })
    }

    fn erase(&self, job_id: &str, access: &Access) -> Result<Option<Option<PathBuf>>, StoreError> {
        let (pool, job_id) = (self.pool.clone(), job_id.to_owned());
        let (tenant, sub, issuer) = owner_params(access);
        self.run(async move {
            // Items, results and files go with the job (ON DELETE CASCADE).
            let erased = sqlx::query(composed(format!(
                "DELETE FROM jobs WHERE id = $1 AND {OWNED}"
            )))
            .bind(&job_id)
            .bind(tenant)
            .bind(sub)
            .bind(issuer)
            .execute(&pool)
            .await?;
            Ok((erased.rows_affected() > 0).then_some(None))
        })
    }

    fn drop_media(&self, job_id: &str) -> Result<(), StoreError> {
        let (pool, job_id) = (self.pool.clone(), job_id.to_owned());
        self.run(async move {
            sqlx::query("DELETE FROM media WHERE job_id = $1")
                .bind(&job_id)
                .execute(&pool)
                .await?;
            Ok(())
        })
    }

    fn finished_before(&self, cutoff_ms: u64) -> Result<Vec<String>, StoreError> {
        let pool = self.pool.clone();
        self.run(async move {
            let rows = sqlx::query(
                "SELECT id FROM jobs WHERE status IN ('done', 'cancelled') AND finished_ms <= $1
                 ORDER BY finished_ms",
            )
            .bind(cutoff_ms as i64)
            .fetch_all(&pool)
            .await?;
            ids(rows)
        })
    }

    fn finished_archives(&self) -> Result<Vec<PathBuf>, StoreError> {
        // No archive is kept on disk with this backend.
        Ok(Vec::new())
    }

    fn unfinished_jobs(&self) -> Result<Vec<String>, StoreError> {
        let pool = self.pool.clone();
        self.run(async move {
            let rows = sqlx::query(
                "SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_ms, id",
            )
            .fetch_all(&pool)
            .await?;
            ids(rows)
        })
    }

    fn on_new_work(&self, wake: Wake) {
        let pool = self.pool.clone();
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        runtime.spawn(async move {
            loop {
                // The listener reconnects by itself after a lost connection; this loop covers
                // a database that could not be reached to begin with.
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if listener.listen(WORK_CHANNEL).await.is_ok() {
                            while listener.recv().await.is_ok() {
                                wake();
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "listening for work from other replicas"),
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }

    fn usage(&self, owner: &Owner) -> Result<Usage, StoreError> {
        let (pool, owner) = (self.pool.clone(), owner.clone());
        self.run(async move {
            let row = sqlx::query(USAGE_SQL_PG)
                .bind(&owner.tenant)
                .bind(&owner.sub)
                .bind(&owner.issuer)
                .fetch_one(&pool)
                .await?;
            usage_of(&row)
        })
    }
}

/// What an owner holds in unfinished jobs (the sum cast back: PostgreSQL sums BIGINT as NUMERIC).
const USAGE_SQL_PG: &str = "SELECT COUNT(*), COALESCE(SUM(zip_bytes), 0)::BIGINT FROM jobs
     WHERE owner_tenant = $1 AND owner_sub = $2 AND owner_issuer = $3
       AND status IN ('queued', 'running')";

fn usage_of(row: &PgRow) -> Result<Usage, StoreError> {
    Ok(Usage {
        active_jobs: row.try_get::<i64, _>(0)?.max(0) as u64,
        bytes: row.try_get::<i64, _>(1)?.max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No PostgreSQL needed: nothing listens on port 1.
    #[test]
    fn an_unreachable_database_says_why_and_soon() {
        let t = std::time::Instant::now();
        let err = PostgresStore::open("postgres://livegate@127.0.0.1:1/livegate")
            .err()
            .expect("nothing listens on port 1");
        let text = err.to_string();
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    }
}
