-- Whether a liveness result's still scored within the review margin of its threshold: the
-- results.csv column that tells which verdicts are worth a person's look.
ALTER TABLE results ADD COLUMN near_threshold BOOLEAN;
