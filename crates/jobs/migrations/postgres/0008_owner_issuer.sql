-- The owner's issuer: a `sub` is unique only within the identity provider that issued it. Jobs
-- stored before it keep '' and are reached, once the server names its issuers, by the admin
-- scope and the retention sweep only (who issued their owner's token was never recorded).
ALTER TABLE jobs ADD COLUMN owner_issuer TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_issued_owner ON jobs (owner_issuer, owner_tenant, owner_sub, created_ms);
