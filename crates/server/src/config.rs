//! Everything an operator can tune about the server, with defaults safe for a small host.

use crate::jwt::Verifier;
pub use crate::upload_pace::MinRate;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Who may call the analysis endpoints.
#[derive(Clone)]
pub enum Auth {
    /// Every request must carry a valid `Authorization: Bearer <JWT>`.
    Jwt(Arc<Verifier>),
    /// No token is checked. Only for local development; `serve` logs a warning.
    Disabled,
}

/// A token bucket per caller (`sub` of the token): `burst` requests at once, refilled at
/// `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Largest accepted request body, in bytes; larger bodies get 413.
    pub body_limit: usize,
    /// Analyses running at once; each one is CPU-bound, so the core count is the sensible value.
    pub workers: usize,
    /// Requests allowed to wait for a worker; one more gets 503.
    pub queue_depth: usize,
    /// Wall-clock budget of one analysis, queueing included.
    pub deadline: Duration,
    /// Time a client gets to deliver its whole body once admitted; a trickling upload would
    /// otherwise hold a queue place indefinitely.
    pub upload_timeout: Duration,
    /// What 503 answers advise in `Retry-After`.
    pub retry_after: Duration,
    pub auth: Auth,
    /// `None`: no rate limiting.
    pub rate_limit: Option<RateLimit>,
    /// Failed authentications allowed per peer address; past it, 429. `None`: unlimited.
    pub auth_failures: Option<RateLimit>,
    /// Places in the analysis queue (running or waiting) one client may hold at once; 0 means
    /// half of `workers + queue_depth`.
    pub client_share: usize,
    /// Analysis request bodies being received at once (each up to `body_limit` in memory);
    /// one more gets 503. Uploads hold these, never a queue place.
    pub max_uploads: usize,
    /// Uploads in progress one client may hold at once; 0 means its share of the queue
    /// (`client_share`): more bodies at once than it may have analyses queued is no use to it.
    pub upload_share: usize,
    /// The slowest a request body may arrive; slower ones are cut with 408. `None`: no floor
    /// (the upload timeouts still apply).
    pub upload_min_rate: Option<MinRate>,
    /// Time a connection gets to send a request's headers, and to sit idle between requests
    /// (hyper runs one timer for both); then it is closed.
    pub header_timeout: Duration,
    /// Connections open at once; more wait in the kernel's accept backlog.
    pub max_connections: usize,
    /// Connections one remote address (an IPv6 /64) may hold; more are answered 503 and
    /// closed. `None`: no cap (every client arrives through one proxy).
    pub max_connections_per_address: Option<usize>,
    /// Longest a response write may wait for the client to read; then the connection closes.
    pub write_timeout: Duration,
    /// Time a client gets to upload a whole batch archive.
    pub batch_upload_timeout: Duration,
    /// When set, `/metrics` is served only on this address (e.g. a private interface) and not
    /// on `bind`.
    pub metrics_bind: Option<SocketAddr>,
    /// How long in-flight requests may take to finish once shutdown starts.
    pub shutdown_grace: Duration,
}

impl Config {
    /// Defaults for everything but the credentials, which the operator must choose.
    pub fn new(auth: Auth) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: 50 * 1024 * 1024,
            workers: cores,
            queue_depth: cores * 4,
            deadline: Duration::from_secs(60),
            upload_timeout: Duration::from_secs(60),
            retry_after: Duration::from_secs(2),
            auth,
            rate_limit: None,
            auth_failures: Some(RateLimit {
                per_minute: 30,
                burst: 30,
            }),
            client_share: 0,
            max_uploads: 64,
            upload_share: 0,
            // 32 kbit/s after 10 s: below any working mobile data link, far above a trickle.
            upload_min_rate: Some(MinRate {
                bytes_per_sec: 4096,
                grace: Duration::from_secs(10),
            }),
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_connections_per_address: Some(64),
            write_timeout: Duration::from_secs(30),
            batch_upload_timeout: Duration::from_secs(600),
            metrics_bind: None,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}
