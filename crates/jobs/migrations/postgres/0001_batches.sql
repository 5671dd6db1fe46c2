-- Batch jobs, their items and results, and the items' files: with PostgreSQL the database is
-- the only shared state, so any replica can run any item and build any archive.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    zip_name     TEXT NOT NULL,
    settings     TEXT NOT NULL,
    skipped      TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    started_ms   BIGINT,
    finished_ms  BIGINT,
    owner_tenant TEXT NOT NULL,
    owner_sub    TEXT NOT NULL,
    zip_bytes    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_status ON jobs (status, created_ms);
CREATE INDEX jobs_by_owner ON jobs (owner_tenant, owner_sub, created_ms);

CREATE TABLE items (
    job_id         TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx            BIGINT NOT NULL,
    stem           TEXT NOT NULL,
    task           TEXT NOT NULL,
    -- Runs started; an item that keeps killing its replica must not be retried forever.
    attempts       BIGINT NOT NULL DEFAULT 0,
    -- Who works on the item and until when (milliseconds on the database's clock).
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE results (
    job_id      TEXT NOT NULL,
    idx         BIGINT NOT NULL,
    ok          BOOLEAN NOT NULL,
    body        TEXT NOT NULL,
    elapsed_ms  BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    reason      TEXT,
    PRIMARY KEY (job_id, idx),
    FOREIGN KEY (job_id, idx) REFERENCES items (job_id, idx) ON DELETE CASCADE
);

CREATE TABLE media (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    bytes  BYTEA NOT NULL,
    PRIMARY KEY (job_id, name)
);
-- Photos and videos are compressed already: store them out of line without trying again.
ALTER TABLE media ALTER COLUMN bytes SET STORAGE EXTERNAL;
