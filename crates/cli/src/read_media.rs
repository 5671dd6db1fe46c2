//! Reading a media file named on the command line without holding more of it than the media
//! layer would accept: `livegate check --image /dev/zero` (or a 2 GB file) would otherwise be
//! read whole into memory before its size is refused.

use anyhow::Context;
use std::io::Read;
use std::path::Path;

/// The file's bytes, or an error naming the `limit` when it has more.
pub fn read_at_most(path: &Path, limit: usize, what: &str) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let too_large = |size: Option<u64>| {
        let size = size.map_or(String::new(), |n| format!(" {n} bytes,"));
        anyhow::anyhow!(
            "{}: the {what} is{size} over the limit of {limit} bytes",
            path.display()
        )
    };
    // A regular file says its size; a device or a pipe is read up to one byte past the limit.
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > limit as u64
    {
        return Err(too_large(Some(meta.len())));
    }
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > limit {
        return Err(too_large(None));
    }
    Ok(bytes)
}
