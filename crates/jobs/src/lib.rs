//! Batch jobs: ZIP intake, stem pairing, a persistent SQLite job store, the runner that resumes
//! after a restart, the output archive and the `/v1/batches` HTTP routes.
//!
//! Every item of a batch goes through [`liveness::Analyse`], the same entry point as the
//! single-request API, so a batch row and a `POST /liveness` answer for the same files agree.

pub mod archive;
pub mod envelope;
pub mod http;
pub mod intake;
pub mod offline;
pub mod pairing;
pub mod runner;
pub mod service;
pub mod store;

pub use archive::write_archive;
pub use http::router;
pub use intake::{Entry, IntakeError, Limits};
pub use offline::{OfflineError, run_offline};
pub use pairing::{Item, Pairing, Skipped, Task};
pub use service::{JobService, JobsConfig, ServiceError, SubmitError};
pub use store::{ItemState, JobRecord, JobStatus, Store, StoreError};
