-- Active challenges: the key that signs their ids (shared by every replica) and the ids
-- already answered (single use), kept until they expire.
CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE used_challenges (nonce TEXT PRIMARY KEY, expires_ms BIGINT NOT NULL);
