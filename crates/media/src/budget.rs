//! One memory budget for still and video decoding across every worker of the process.
//!
//! A 389 KB PNG can legally decode to 10 000 × 10 000 pixels (300 MB as RGB, twice that while
//! it is converted); four of them at once took the server from 226 MiB to 1.6 GiB. Each decode
//! reserves what it will allocate, from the header's dimensions, before allocating it; when the
//! budget is spent, the next large decode waits for one to finish instead of multiplying the
//! resident set. Small stills (a phone selfie decodes at reduced size) never wait in practice.
//!
//! A video holds its decoder's pictures for as long as it decodes, reserved the same way from
//! its coded frame size (`video.rs`).
//!
//! The budget is process-wide because memory is: a per-request limit cannot see the other
//! requests. A decode larger than the whole budget still runs, alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// 1 GiB unless the operator sets another with [`set_decode_budget`].
pub const DEFAULT_DECODE_BUDGET: u64 = 1024 * 1024 * 1024;

static CAPACITY: AtomicU64 = AtomicU64::new(DEFAULT_DECODE_BUDGET);
static USED: Mutex<u64> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// Sets the bytes all concurrent still decodes may hold together.
pub fn set_decode_budget(bytes: u64) {
    CAPACITY.store(bytes.max(1), Ordering::SeqCst);
    FREED.notify_all();
}

/// The bytes currently reserved, for metrics and tests.
pub fn decode_budget_in_use() -> u64 {
    *USED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Bytes held by one decode; released on drop.
pub(crate) struct Reservation(u64);

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut used = USED.lock().unwrap_or_else(|p| p.into_inner());
        *used = used.saturating_sub(self.0);
        FREED.notify_all();
    }
}

/// Waits until `bytes` fit in the budget (or nothing else is decoding), then holds them.
pub(crate) fn reserve(bytes: u64) -> Reservation {
    let mut used = USED.lock().unwrap_or_else(|p| p.into_inner());
    let mut waited = false;
    loop {
        let capacity = CAPACITY.load(Ordering::SeqCst);
        if *used == 0 || used.saturating_add(bytes) <= capacity {
            break;
        }
        if !waited {
            tracing::debug!(
                bytes,
                in_use = *used,
                capacity,
                "still decode waits for memory"
            );
            waited = true;
        }
        // The timeout only guards against a missed wake-up; the condition is re-checked.
        used = FREED
            .wait_timeout(used, Duration::from_millis(200))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
    *used += bytes;
    Reservation(bytes)
}
