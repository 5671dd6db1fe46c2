-- The judging a batch is pinned to (weights and threshold of the replica that admitted it;
-- NULL before pinning: anyone's), and when a replica judging alike last took an item.
ALTER TABLE jobs ADD COLUMN judging TEXT;
ALTER TABLE jobs ADD COLUMN pinned_claim_ms BIGINT;
