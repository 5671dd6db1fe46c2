//! A floor under the rate at which a request body arrives.
//!
//! The upload timeouts bound how long one body may take in all (60 s for an analysis, 10 min
//! for a batch archive), but a client that sends a byte now and then holds its upload place
//! (and a connection, and the memory of what it sent) that whole time. Here a body must keep
//! ahead of a schedule, in the manner of Apache's `mod_reqtimeout` `MinRate`: t seconds after
//! its headers arrived it must have delivered `bytes_per_sec` for every second past the grace
//! period (so the first grace × rate bytes are a head start, and a body that sends nothing is
//! cut when the grace ends). A body that falls behind is cut and the request answered 408 at
//! once, whatever the handler was doing with the body when it failed.

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use http_body::Body as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The least a client must send: `bytes_per_sec` on average, counted from `grace` after the
/// request began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    pub bytes_per_sec: u64,
    pub grace: Duration,
}

impl MinRate {
    /// When the body must have delivered more than `received` bytes.
    fn due(&self, start: Instant, received: u64) -> Instant {
        let earned = Duration::from_secs_f64(received as f64 / self.bytes_per_sec.max(1) as f64);
        start + self.grace + earned
    }
}

/// Why the body stopped: behind the schedule.
#[derive(Debug, thiserror::Error)]
#[error("the upload fell below {0} bytes per second")]
struct TooSlow(u64);

/// The middleware: paces every request that has a body; `None` leaves bodies alone.
pub async fn enforce(State(rate): State<Option<MinRate>>, req: Request, next: Next) -> Response {
    let Some(rate) = rate else {
        return next.run(req).await;
    };
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let cut = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cut);
    let req = req.map(|body| Body::from_stream(paced(body, rate, flag)));
    let resp = next.run(req).await;
    if cut.load(Ordering::SeqCst) {
        tracing::info!(
            min_rate = rate.bytes_per_sec,
            "upload cut: below the minimum rate"
        );
        return ApiError::upload_too_slow(rate.bytes_per_sec).into_response();
    }
    resp
}

/// `body`'s data, ended with an error (and `cut` set) when the next bytes are overdue.
fn paced(
    body: Body,
    rate: MinRate,
    cut: Arc<AtomicBool>,
) -> impl Stream<Item = Result<Bytes, axum::Error>> {
    let start = Instant::now();
    let state = Some((body.into_data_stream(), 0u64));
    futures_util::stream::unfold(state, move |state| {
        let cut = Arc::clone(&cut);
        async move {
            let (mut data, received) = state?;
            match tokio::time::timeout_at(rate.due(start, received), data.next()).await {
                Ok(Some(Ok(chunk))) => {
                    let received = received + chunk.len() as u64;
                    Some((Ok(chunk), Some((data, received))))
                }
                Ok(Some(Err(e))) => Some((Err(e), None)),
                Ok(None) => None,
                Err(_) => {
                    cut.store(true, Ordering::SeqCst);
                    Some((Err(axum::Error::new(TooSlow(rate.bytes_per_sec))), None))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_starts_after_the_grace_and_grows_with_what_arrived() {
        let rate = MinRate {
            bytes_per_sec: 1000,
            grace: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        assert_eq!(rate.due(t0, 0), t0 + Duration::from_secs(10));
        assert_eq!(rate.due(t0, 5000), t0 + Duration::from_secs(15));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_cut_and_a_steady_one_is_not() {
        let rate = MinRate {
            bytes_per_sec: 100,
            grace: Duration::from_secs(2),
        };
        // 100 bytes every second: on schedule.
        let steady = futures_util::stream::unfold(0, |i| async move {
            (i < 5).then_some(())?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 100])), i + 1))
        });
        let cut = Arc::new(AtomicBool::new(false));
        let got: Vec<_> = paced(Body::from_stream(steady), rate, cut.clone())
            .collect()
            .await;
        assert!(got.iter().all(Result::is_ok) && got.len() == 5);
        assert!(!cut.load(Ordering::SeqCst));
        // 10 bytes, then nothing: cut 2 s + 0.1 s after the start.
        let stalled =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 10]))])
                .chain(futures_util::stream::pending());
        let t0 = Instant::now();
        let got: Vec<_> = paced(Body::from_stream(stalled), rate, cut.clone())
            .collect()
            .await;
        assert_eq!(got.len(), 2);
        assert!(got[1].is_err());
        assert!(cut.load(Ordering::SeqCst));
        assert_eq!(t0.elapsed(), Duration::from_millis(2100));
    }
}
