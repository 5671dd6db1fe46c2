-- Which PAD graphs judged a liveness result (file name → SHA-256, as JSON text): the shipped
-- model or a deployment's own layer, as the replica that ran the item had it loaded.
ALTER TABLE results ADD COLUMN pad_weights TEXT;
