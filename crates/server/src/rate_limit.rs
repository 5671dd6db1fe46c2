//! Token buckets per key, on `governor`: per client (`Owner`) for requests, per peer address
//! for failed authentications.

use crate::config::RateLimit;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

/// Keys remembered at once; beyond this, keys whose bucket has refilled are forgotten.
const MAX_TRACKED: usize = 100_000;

pub struct RateLimiter<K: Hash + Eq + Clone> {
    buckets: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(limit: RateLimit) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        Self {
            buckets: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        }
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.buckets.len() >= MAX_TRACKED {
            self.buckets.retain_recent();
        }
        self.buckets
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.buckets.clock().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_per_key() {
        let rl = RateLimiter::new(RateLimit {
            per_minute: 60,
            burst: 2,
        });
        assert!(rl.check(&"a").is_ok());
        assert!(rl.check(&"a").is_ok());
        let wait = rl.check(&"a").unwrap_err();
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1));
        // Another key has its own bucket.
        assert!(rl.check(&"b").is_ok());
        // One token per second comes back.
        std::thread::sleep(wait + Duration::from_millis(20));
        assert!(rl.check(&"a").is_ok());
        assert!(rl.check(&"a").is_err());
    }
}
