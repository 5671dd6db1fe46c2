//! Per-caller token buckets keyed by the token's `sub`.

use crate::config::RateLimit;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Callers remembered at once; beyond this, idle (full) buckets are forgotten first.
const MAX_TRACKED: usize = 100_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_sec(&self) -> f64 {
        f64::from(self.limit.per_minute.max(1)) / 60.0
    }

    fn burst(&self) -> f64 {
        f64::from(self.limit.burst.max(1))
    }

    /// Takes one token for `caller`, or says how long until one is available.
    pub fn check(&self, caller: &str) -> Result<(), Duration> {
        self.check_at(caller, Instant::now())
    }

    fn check_at(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let (rate, burst) = (self.per_sec(), self.burst());
        // A poisoned lock only means another request panicked mid-update; the map is still sane.
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED && !map.contains_key(caller) {
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        let b = map.entry(caller.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.updated = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_caller() {
        let rl = RateLimiter::new(RateLimit {
            per_minute: 60,
            burst: 2,
        });
        let t0 = Instant::now();
        assert!(rl.check_at("a", t0).is_ok());
        assert!(rl.check_at("a", t0).is_ok());
        let wait = rl.check_at("a", t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        // Another caller has its own bucket.
        assert!(rl.check_at("b", t0).is_ok());
        // One token per second comes back.
        assert!(rl.check_at("a", t0 + Duration::from_millis(1001)).is_ok());
        assert!(rl.check_at("a", t0 + Duration::from_millis(1002)).is_err());
    }
}
