//! Work that must not spread over rayon's pool.
//!
//! Some model calls split themselves over the pool (the PAD model runs its two networks on two
//! cores, `vision::pad::LivegatePad`), which shortens a lone still. Beside a video the cores are
//! already taken by the decoder and the frame-by-frame analysis, and a split only adds a fourth
//! runnable thread that preempts the decoder: `video_times` on the bench clip without B-frames,
//! old and new alternated six times on an idle machine (2026-12-05), medians 576 → 560 ms for
//! the same outputs. So the side work of a video runs on a pool of one thread of its own.

use crate::AnalysisError;

/// Runs `f` with every rayon split inside it kept on one thread, in order.
pub fn run<R: Send>(f: impl FnOnce() -> R + Send) -> Result<R, AnalysisError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "livegate-one-thread".into())
        .build()
        .map_err(|e| AnalysisError::Internal(format!("one-thread pool: {e}")))?;
    Ok(pool.install(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_inside_run_on_a_single_thread() {
        let threads = run(|| {
            let (a, b) = rayon::join(
                || std::thread::current().id(),
                || std::thread::current().id(),
            );
            (a, b, rayon::current_num_threads())
        })
        .unwrap();
        assert_eq!(threads.0, threads.1);
        assert_eq!(threads.2, 1);
    }
}
