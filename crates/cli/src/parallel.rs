//! How many threads a command may be asked for.

use clap::builder::RangedU64ValueParser;

/// `--jobs` / `--workers`: at least one, and no more than a large server has cores. An
/// unbounded count would have the command start billions of threads (or abort when the
/// system refuses one) before any work is done.
pub fn at_most_256() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(1..=256)
}
