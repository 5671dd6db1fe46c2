//! Reading an uploaded ZIP as hostile input.
//!
//! The central directory can lie about sizes, so every entry is decompressed once at intake
//! into a counting sink: a bomb is caught by what it actually expands to, not by what it claims.
//! Names that could escape a directory (`..`, absolute paths, drive letters) and links are
//! refused outright rather than "sanitised", because a client that sends them is not a client
//! whose other file names we want to guess at.

use std::io::{Read, Seek};
use std::path::Path;
use zip::ZipArchive;

/// Bounds on what one batch may ask of the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Size of the uploaded `.zip` itself.
    pub max_zip_bytes: u64,
    /// Entries in the archive, directories included.
    pub max_entries: usize,
    /// Uncompressed size of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed size of all entries together.
    pub max_total_bytes: u64,
    /// Uncompressed / compressed size of one entry, checked once an entry is past
    /// [`Limits::RATIO_FLOOR`] (tiny files legitimately compress very well).
    pub max_ratio: u64,
}

impl Limits {
    pub const RATIO_FLOOR: u64 = 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        // Sized for a few hundred selfie pairs: a 10 s phone video is 5-30 MB, a still < 10 MB.
        Self {
            max_zip_bytes: 1024 * 1024 * 1024,
            max_entries: 2_000,
            max_entry_bytes: 100 * 1024 * 1024,
            max_total_bytes: 2 * 1024 * 1024 * 1024,
            max_ratio: 100,
        }
    }
}

/// One regular file of the archive, its size measured by decompressing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IntakeError {
    #[error("not a readable ZIP archive: {0}")]
    NotAZip(String),
    #[error("the archive is larger than {} MiB", mib(*max))]
    ZipTooLarge { max: u64 },
    #[error("the archive has {count} entries; at most {max} are accepted")]
    TooManyEntries { count: usize, max: usize },
    #[error("{name:?} expands to more than {} MiB", mib(*max))]
    EntryTooLarge { name: String, max: u64 },
    #[error("the archive expands to more than {} MiB in total", mib(*max))]
    TotalTooLarge { max: u64 },
    #[error("{name:?} has a compression ratio above {max}:1")]
    RatioTooHigh { name: String, max: u64 },
    #[error("{name:?}: {reason}")]
    UnsafeName { name: String, reason: &'static str },
    #[error("{name:?} is a link; links are not accepted")]
    Link { name: String },
    #[error("{name:?} is encrypted; encrypted entries are not accepted")]
    Encrypted { name: String },
    #[error("{name:?} is corrupt: {message}")]
    Corrupt { name: String, message: String },
    #[error("the archive holds no files")]
    Empty,
    #[error("two entries of the archive share a name; rename one (only one could be read)")]
    DuplicateNames,
    #[error("{0}")]
    Io(String),
}

impl IntakeError {
    /// The archive is over a size or count limit (413: send less), rather than unreadable or
    /// unsafe (400).
    pub fn is_over_a_limit(&self) -> bool {
        matches!(
            self,
            IntakeError::ZipTooLarge { .. }
                | IntakeError::TooManyEntries { .. }
                | IntakeError::EntryTooLarge { .. }
                | IntakeError::TotalTooLarge { .. }
        )
    }
}

fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

/// Lists the regular files of the ZIP at `path`, enforcing every limit.
pub fn inspect(path: &Path, limits: &Limits) -> Result<Vec<Entry>, IntakeError> {
    let file = std::fs::File::open(path).map_err(|e| IntakeError::Io(e.to_string()))?;
    let len = file
        .metadata()
        .map_err(|e| IntakeError::Io(e.to_string()))?
        .len();
    if len > limits.max_zip_bytes {
        return Err(IntakeError::ZipTooLarge {
            max: limits.max_zip_bytes,
        });
    }
    inspect_reader(std::io::BufReader::new(file), limits)
}

pub fn inspect_reader<R: Read + Seek>(
    reader: R,
    limits: &Limits,
) -> Result<Vec<Entry>, IntakeError> {
    let mut archive = ZipArchive::new(reader).map_err(|e| IntakeError::NotAZip(e.to_string()))?;
    // The reader keys entries by name, so a second entry of a name would vanish unreported.
    if archive.has_duplicate_names() {
        return Err(IntakeError::DuplicateNames);
    }
    if archive.len() > limits.max_entries {
        return Err(IntakeError::TooManyEntries {
            count: archive.len(),
            max: limits.max_entries,
        });
    }
    let mut entries = Vec::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| IntakeError::NotAZip(e.to_string()))?;
        let name = match file.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(file.name_raw()).into_owned(),
        };
        check_name(&name)?;
        if file.is_symlink() {
            return Err(IntakeError::Link { name });
        }
        if file.is_dir() {
            continue;
        }
        if file.encrypted() {
            return Err(IntakeError::Encrypted { name });
        }
        // Cheap rejections first, on the claimed sizes; the measured size below is the truth.
        if file.size() > limits.max_entry_bytes {
            return Err(IntakeError::EntryTooLarge {
                name,
                max: limits.max_entry_bytes,
            });
        }
        let compressed = file.compressed_size().max(1);
        let remaining = limits.max_total_bytes.saturating_sub(total);
        let size_cap = limits.max_entry_bytes.min(remaining);
        // Stop inflating as soon as a bomb is proven, not after it has expanded to the limit.
        let ratio_cap = compressed
            .saturating_mul(limits.max_ratio)
            .max(Limits::RATIO_FLOOR);
        let cap = size_cap.min(ratio_cap);
        let size =
            count_bytes(&mut file, cap.saturating_add(1)).map_err(|e| IntakeError::Corrupt {
                name: name.clone(),
                message: e.to_string(),
            })?;
        if size > cap {
            return Err(if ratio_cap < size_cap {
                IntakeError::RatioTooHigh {
                    name,
                    max: limits.max_ratio,
                }
            } else if size > limits.max_entry_bytes {
                IntakeError::EntryTooLarge {
                    name,
                    max: limits.max_entry_bytes,
                }
            } else {
                IntakeError::TotalTooLarge {
                    max: limits.max_total_bytes,
                }
            });
        }
        total += size;
        entries.push(Entry { name, size });
    }
    // A batch of nothing would be accepted and "done" at once: say so instead.
    if entries.is_empty() {
        return Err(IntakeError::Empty);
    }
    Ok(entries)
}

/// Reads one entry's bytes, at most `max` of them.
pub fn read_entry(path: &Path, name: &str, max: u64) -> Result<Vec<u8>, IntakeError> {
    let file = std::fs::File::open(path).map_err(|e| IntakeError::Io(e.to_string()))?;
    let mut archive = ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| IntakeError::NotAZip(e.to_string()))?;
    let entry = archive.by_name(name).map_err(|e| IntakeError::Corrupt {
        name: name.to_owned(),
        message: e.to_string(),
    })?;
    let mut bytes = Vec::with_capacity(entry.size().min(max) as usize);
    entry
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| IntakeError::Corrupt {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > max {
        return Err(IntakeError::EntryTooLarge {
            name: name.to_owned(),
            max,
        });
    }
    Ok(bytes)
}

fn count_bytes(r: &mut impl Read, limit: u64) -> std::io::Result<u64> {
    std::io::copy(&mut r.take(limit), &mut std::io::sink())
}

fn check_name(name: &str) -> Result<(), IntakeError> {
    let bad = |reason| {
        Err(IntakeError::UnsafeName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty name");
    }
    // A control character (NUL, a newline, a terminal escape) would reach the results
    // archive's entry names and its CSV, where it forges lines or drives a terminal.
    if name.chars().any(char::is_control) {
        return bad("name contains a control character");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return bad("absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return bad("absolute path (drive letter)");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return bad("path contains \"..\"");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_that_could_escape_are_refused() {
        for n in [
            "../x_image.jpg",
            "a/../../x_image.jpg",
            "/etc/passwd",
            "\\windows\\x",
            "C:/x_image.jpg",
            "a\\..\\b",
            "",
            "a\0b_image.jpg",
            "a\nb_image.jpg",
            "a\u{1b}[31mb_image.jpg",
        ] {
            assert!(check_name(n).is_err(), "{n:?} accepted");
        }
        for n in ["x_image.jpg", "dir/x_video.mp4", "a..b_image.jpg", "...jpg"] {
            assert!(check_name(n).is_ok(), "{n:?} refused");
        }
    }
}
