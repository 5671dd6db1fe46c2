//! The on-disk cache of verified model files.
//!
//! Files are written to a temporary file in the cache directory and renamed into place only once
//! their sha256 matches the pin, so a concurrent reader (another test process, a second server)
//! sees either nothing or a complete, verified file — never a partial one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ProvisionError;
use super::catalog::{CatalogEntry, ModelId};
use super::sources;

/// What [`ModelStore::fetch`] reports while it works.
#[derive(Debug, Clone)]
pub enum FetchEvent {
    AlreadyCached {
        id: ModelId,
        path: PathBuf,
    },
    Downloading {
        id: ModelId,
        origin: String,
    },
    Verified {
        id: ModelId,
        bytes: u64,
        path: PathBuf,
    },
    Converted {
        id: ModelId,
        path: PathBuf,
    },
}

impl std::fmt::Display for FetchEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchEvent::AlreadyCached { id, .. } => write!(f, "{id}: already cached"),
            FetchEvent::Downloading { id, origin } => write!(f, "{id}: fetching {origin} ..."),
            FetchEvent::Verified { id, bytes, path } => {
                write!(f, "{id}: {bytes} bytes, sha256 ok -> {}", path.display())
            }
            FetchEvent::Converted { id, path } => {
                write!(f, "{id}: converted -> {}", path.display())
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    pub id: ModelId,
    pub name: &'static str,
    pub source: String,
    pub licence: &'static str,
    pub required: bool,
    pub path: PathBuf,
    pub present: bool,
    /// `Some(true)` when the file on disk hashes to its pin (only computed for present files).
    pub verified: Option<bool>,
    pub description: &'static str,
}

#[derive(Debug, Clone)]
pub struct ModelStore {
    root: PathBuf,
    url_mirror: Option<String>,
    clients: sources::Clients,
}

/// `LIVEGATE_MODEL_DIR`, else `$XDG_CACHE_HOME/livegate/models`, else `~/.cache/livegate/models`.
pub fn default_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("LIVEGATE_MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(cache) = non_empty("XDG_CACHE_HOME").map(PathBuf::from)
        && cache.is_absolute()
    {
        return Some(cache.join("livegate").join("models"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".cache/livegate/models"))
}

fn is_library(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.ends_with(".so") || n.contains(".so.")
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Refuses a cached file whose SHA-256 is not its pin.
fn check_pin(entry: &CatalogEntry, path: &Path) -> Result<(), ProvisionError> {
    match pinned_hash_matches(entry, path)? {
        None => Ok(()),
        Some(actual) => Err(ProvisionError::Corrupt {
            model: entry.name.into(),
            path: path.to_path_buf(),
            message: format!("SHA-256 {actual}, pinned {}", entry.sha256),
        }),
    }
}

/// `None` when `path` hashes to `entry`'s pin, else `Some(actual hash)`. Each file is hashed
/// once a process (again only if its size or modification time changed): every analyzer a
/// process builds asks for the same files, and `fetch` checks a cached file before loading it.
fn pinned_hash_matches(
    entry: &CatalogEntry,
    path: &Path,
) -> Result<Option<String>, ProvisionError> {
    let mut mismatch = None;
    once_a_process(path, || {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        let actual = sha256_hex(&bytes);
        let good = actual == entry.sha256;
        mismatch = (!good).then_some(actual);
        Ok(good)
    })?;
    Ok(mismatch)
}

/// Whether the cached conversion at `converted` is byte for byte what the (verified) original
/// converts to. The converted file is what the runtime loads, and it has no pin of its own (it
/// is made here, from a pinned file): checking it this way, once a process, means an edited or
/// damaged cache is caught and rewritten, not loaded. The conversion is deterministic and takes
/// a few milliseconds.
fn conversion_matches(
    entry: &CatalogEntry,
    original: &Path,
    converted: &Path,
) -> Result<bool, ProvisionError> {
    let Some(convert) = entry.convert else {
        return Ok(true);
    };
    once_a_process(converted, || {
        let source = std::fs::read(original).map_err(|e| io_error(original, e))?;
        let fresh = convert(&source).map_err(|message| ProvisionError::Convert {
            model: entry.name.into(),
            message,
        })?;
        let cached = std::fs::read(converted).map_err(|e| io_error(converted, e))?;
        if cached != fresh {
            tracing::warn!(
                model = entry.name,
                path = %converted.display(),
                "the cached conversion differs from its pinned original's; converting it again"
            );
        }
        Ok(cached == fresh)
    })
}

/// Runs `check` on `path` unless this process already found the file good as it is now (same
/// size and modification time); remembers a file `check` finds good.
fn once_a_process(
    path: &Path,
    check: impl FnOnce() -> Result<bool, ProvisionError>,
) -> Result<bool, ProvisionError> {
    type FileState = (PathBuf, u64, Option<std::time::SystemTime>);
    static GOOD: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<FileState>>> =
        std::sync::OnceLock::new();
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    let good = GOOD.get_or_init(Default::default);
    if good.lock().is_ok_and(|g| g.contains(&key)) {
        return Ok(true);
    }
    let found_good = check()?;
    if found_good && let Ok(mut g) = good.lock() {
        g.insert(key);
    }
    Ok(found_good)
}

fn io_error(path: &Path, e: std::io::Error) -> ProvisionError {
    ProvisionError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl ModelStore {
    /// The store at [`default_dir`]. `LIVEGATE_MODEL_MIRROR` redirects URL sources.
    pub fn open_default() -> Result<ModelStore, ProvisionError> {
        let root = default_dir().ok_or_else(|| ProvisionError::Io {
            path: PathBuf::from("~/.cache"),
            message: "no cache directory: set LIVEGATE_MODEL_DIR or HOME".into(),
        })?;
        let mirror = std::env::var("LIVEGATE_MODEL_MIRROR")
            .ok()
            .filter(|v| !v.trim().is_empty());
        Ok(Self::open(root).with_url_mirror(mirror))
    }

    /// A store rooted at `root`; the directory is created on first fetch.
    pub fn open(root: impl Into<PathBuf>) -> ModelStore {
        ModelStore {
            root: root.into(),
            url_mirror: None,
            clients: sources::Clients::from_env(),
        }
    }

    /// Fetch URL sources from `base/<file name>` instead of their upstream address.
    pub fn with_url_mirror(mut self, base: Option<String>) -> ModelStore {
        self.url_mirror = base;
        self
    }

    /// Use these programs for `npm` and for Python (which runs `-m pip`); by default they come
    /// from `LIVEGATE_NPM` / `LIVEGATE_PYTHON`, else `npm` / `python3` on the `PATH`.
    pub fn with_clients(mut self, npm: impl Into<String>, python: impl Into<String>) -> ModelStore {
        self.clients = sources::Clients {
            npm: npm.into(),
            python: python.into(),
        };
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the pinned file lives (whether or not it is there).
    pub fn original_path(&self, id: ModelId) -> PathBuf {
        self.root.join(id.entry().file_name())
    }

    /// Where the converted file lives, for entries with a converter. The crate version and the
    /// converter's revision are part of the name because a new converter must not reuse an old
    /// conversion.
    fn converted_path(&self, entry: &CatalogEntry) -> PathBuf {
        self.root.join(format!(
            "{}.v{}.c{}.onnx",
            entry.file_name(),
            env!("CARGO_PKG_VERSION"),
            crate::tflite::CONVERTER_REVISION
        ))
    }

    /// The usable file for `id` (the converted one for entries with a converter). Never touches
    /// the network: a missing file is an error that says how to fetch it, and a file that does
    /// not match its pin (a damaged cache, a hand-copied file) is refused, not used.
    pub fn path(&self, id: ModelId) -> Result<PathBuf, ProvisionError> {
        let entry = id.entry();
        let original = self.original_path(id);
        let size = std::fs::metadata(&original).map(|m| m.len()).ok();
        match size {
            None => {
                return Err(ProvisionError::NotFetched {
                    model: entry.name.into(),
                    path: original,
                });
            }
            Some(size) if size != entry.size => {
                return Err(ProvisionError::Corrupt {
                    model: entry.name.into(),
                    path: original,
                    message: format!("{size} bytes, expected {}", entry.size),
                });
            }
            Some(_) => {}
        }
        check_pin(entry, &original)?;
        if entry.convert.is_none() {
            return Ok(original);
        }
        let converted = self.converted_path(entry);
        if converted.is_file() && conversion_matches(entry, &original, &converted)? {
            return Ok(converted);
        }
        // Verified but not yet converted (e.g. fetched by an older version), or the cached
        // conversion is not what the pinned original converts to: convert now.
        let bytes = std::fs::read(&original).map_err(|e| io_error(&original, e))?;
        self.convert_and_store(entry, &bytes)
    }

    /// True when the usable file is present and matches its pin (hashed once a process).
    pub fn is_available(&self, id: ModelId) -> bool {
        self.path(id).is_ok()
    }

    /// Fetches every id not yet cached (one package download serves every file it carries).
    /// Reports progress through `progress`. Stops at the first failure.
    pub fn fetch(
        &self,
        ids: &[ModelId],
        progress: &mut dyn FnMut(&FetchEvent),
    ) -> Result<(), ProvisionError> {
        std::fs::create_dir_all(&self.root).map_err(|e| io_error(&self.root, e))?;
        let scratch = tempfile::Builder::new()
            .prefix(".fetch-")
            .tempdir_in(&self.root)
            .map_err(|e| io_error(&self.root, e))?;
        let mut downloads = sources::Downloads::new(scratch.path(), self.clients.clone());
        for &id in ids {
            let entry = id.entry();
            let original = self.original_path(id);
            if self.verify_file(entry, &original)? {
                let path = self.path(id)?;
                progress(&FetchEvent::AlreadyCached { id, path });
                continue;
            }
            progress(&FetchEvent::Downloading {
                id,
                origin: sources::effective_origin(entry, self.url_mirror.as_deref()),
            });
            let bytes = sources::fetch_bytes(entry, &mut downloads, self.url_mirror.as_deref())?;
            self.install(entry, &bytes).map_err(|e| match e {
                ProvisionError::HashMismatch {
                    model,
                    expected,
                    actual,
                    ..
                } => ProvisionError::HashMismatch {
                    model,
                    origin: sources::effective_origin(entry, self.url_mirror.as_deref()),
                    expected,
                    actual,
                },
                other => other,
            })?;
            progress(&FetchEvent::Verified {
                id,
                bytes: bytes.len() as u64,
                path: original,
            });
            if entry.convert.is_some() {
                let path = self.convert_and_store(entry, &bytes)?;
                progress(&FetchEvent::Converted { id, path });
            }
        }
        Ok(())
    }

    /// Fetches whatever of `ids` is missing, silently. For tests and first runs.
    pub fn ensure(&self, ids: &[ModelId]) -> Result<(), ProvisionError> {
        let missing: Vec<ModelId> = ids
            .iter()
            .copied()
            .filter(|&id| !self.is_available(id))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.fetch(&missing, &mut |_| {})
    }

    /// Verifies `bytes` against the pin and atomically installs them as `entry`'s file.
    pub fn install(&self, entry: &CatalogEntry, bytes: &[u8]) -> Result<PathBuf, ProvisionError> {
        let actual = sha256_hex(bytes);
        if actual != entry.sha256 {
            return Err(ProvisionError::HashMismatch {
                model: entry.name.into(),
                origin: entry.source.describe(),
                expected: entry.sha256.into(),
                actual,
            });
        }
        let path = self.root.join(entry.file_name());
        self.write_atomically(&path, bytes)?;
        Ok(path)
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), ProvisionError> {
        std::fs::create_dir_all(&self.root).map_err(|e| io_error(&self.root, e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&self.root)
            .map_err(|e| io_error(&self.root, e))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| io_error(tmp.path(), e))?;
        // Temporary files are private; the cache is as readable as any other cache file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if is_library(path) { 0o755 } else { 0o644 };
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
                .map_err(|e| io_error(tmp.path(), e))?;
        }
        tmp.persist(path).map_err(|e| io_error(path, e.error))?;
        Ok(())
    }

    fn convert_and_store(
        &self,
        entry: &CatalogEntry,
        original: &[u8],
    ) -> Result<PathBuf, ProvisionError> {
        let Some(convert) = entry.convert else {
            return Ok(self.root.join(entry.file_name()));
        };
        let converted = convert(original).map_err(|message| ProvisionError::Convert {
            model: entry.name.into(),
            message,
        })?;
        let path = self.converted_path(entry);
        self.write_atomically(&path, &converted)?;
        Ok(path)
    }

    /// Hashes the file on disk: `Ok(false)` if absent or different from the pin.
    fn verify_file(&self, entry: &CatalogEntry, path: &Path) -> Result<bool, ProvisionError> {
        match std::fs::metadata(path) {
            Ok(m) if m.len() == entry.size => {}
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error(path, e)),
        }
        Ok(pinned_hash_matches(entry, path)?.is_none())
    }

    /// Status of every catalog entry; hashes the files that are present.
    pub fn list(&self) -> Vec<ModelStatus> {
        super::catalog::CATALOG
            .iter()
            .map(|entry| {
                let path = self.root.join(entry.file_name());
                let present = path.is_file();
                let verified = present.then(|| self.verify_file(entry, &path).unwrap_or(false));
                ModelStatus {
                    id: entry.id,
                    name: entry.name,
                    source: entry.source.describe(),
                    licence: entry.licence,
                    required: entry.required,
                    path,
                    present,
                    verified,
                    description: entry.description,
                }
            })
            .collect()
    }
}
