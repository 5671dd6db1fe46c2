-- When an item of the job was last claimed: workers take the job served longest ago first, so
-- a one-still batch does not wait behind another client's two thousand videos.
ALTER TABLE jobs ADD COLUMN last_claim_ms BIGINT;
