//! Batch jobs: ZIP intake, stem pairing, a persistent SQLite job store and the runner.
