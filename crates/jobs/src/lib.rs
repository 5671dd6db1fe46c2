//! Batch jobs: ZIP intake, stem pairing, a persistent job store (embedded SQLite, or PostgreSQL
//! shared by replicas) with an owner on every job, the runner that resumes after a restart or
//! takes over a dead replica's items, retention and erasure, and the output archive.
//! The `/v1/batches` routes live in the server crate; nothing here knows HTTP.
//!
//! Every item of a batch goes through [`liveness::Analyse`], the same entry point as the
//! single-request API, so a batch row and a `POST /liveness` answer for the same files agree.

pub mod archive;
pub mod database;
pub mod envelope;
pub mod exact_json;
pub mod intake;
pub mod judging_pin;
pub mod offline;
pub mod owner;
pub mod pairing;
pub mod places;
mod portable_name;
pub mod postgres;
pub mod runner;
pub mod service;
pub mod sqlite;
pub mod store;

pub use archive::write_archive;
pub use database::{Database, DatabaseUrlError};
pub use exact_json::exact_json;
pub use intake::{Entry, IntakeError, Limits};
pub use judging_pin::{JudgingKey, Pin};
pub use offline::{OfflineError, run_offline};
pub use owner::{Access, Owner, Reach};
pub use pairing::{Item, Pairing, Skipped, Task};
pub use service::{
    Download, JobService, JobsConfig, Quota, QuotaError, ServiceError, SubmitError, UploadSlot,
    is_job_id,
};
pub use store::{
    Claim, Cursor, ItemState, JobRecord, JobStatus, MediaSource, Store, StoreError, Usage, now_ms,
};
