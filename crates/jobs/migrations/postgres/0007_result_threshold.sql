-- The still threshold a liveness result applied (a deployment's own operating point or the
-- policy's), as the replica that ran the item had it: replicas that disagree show in the archive.
ALTER TABLE results ADD COLUMN image_real_threshold DOUBLE PRECISION;
