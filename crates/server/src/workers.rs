//! The bounded pool the CPU-heavy analysis runs on, away from the async reactor.
//!
//! The workers are handed out in turns among the clients waiting (`turns`); an admission
//! counter caps how many may wait, so a burst turns into quick 503s instead of an unbounded
//! queue. Both the worker and the admission slot travel into the blocking task: an analysis
//! that overran its deadline still occupies its worker until it really ends, and the pool never
//! over-commits the CPU.
//!
//! Each client may hold at most its share of those places (running or waiting), so one client
//! cannot take every slot, and a freed worker goes to the client served longest ago, so one
//! client's backlog does not make the others wait. Uploads are not counted here: a route takes
//! its place only once the body is in memory (see `routes::flow`), so a slow upload holds an
//! upload place, never a queue place.

use crate::turns::Turns;
use jobs::Owner;
use jobs::places::{Place, Places, Refused};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// Every worker is busy and the queue is at its limit.
    Full,
    /// This client already holds its share of the places (the share is given).
    ClientShare(usize),
    /// The job did not finish (queueing included) within the deadline, mostly for want of a
    /// free worker: the same request may succeed when the server is less busy.
    TimedOut(Duration),
    /// The job did not finish within the deadline though it got a worker within the first
    /// half of it: the work itself is too long for this server, and will be again.
    Overran(Duration),
    /// The job panicked; the message is for the log.
    Panicked(String),
}

impl From<Refused> for PoolError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Full => PoolError::Full,
            Refused::Share(n) => PoolError::ClientShare(n),
        }
    }
}

pub struct WorkerPool {
    turns: Arc<Turns>,
    admitted: Places,
    deadline: Duration,
}

/// How long a job waited and ran, for the stage histograms.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobTimes {
    pub queued: Duration,
    pub ran: Duration,
}

impl WorkerPool {
    /// `client_share`: places one client may hold at once (0: half the capacity, at least 1).
    pub fn new(
        workers: usize,
        queue_depth: usize,
        client_share: usize,
        deadline: Duration,
    ) -> Self {
        let workers = workers.max(1);
        let capacity = workers + queue_depth;
        let client_share = if client_share == 0 {
            capacity.div_ceil(2)
        } else {
            client_share
        };
        Self {
            turns: Turns::new(workers),
            admitted: Places::new(capacity, client_share),
            deadline,
        }
    }

    /// Places in the queue (waiting or running) one client may hold.
    pub fn client_share(&self) -> usize {
        self.admitted.share()
    }

    /// Jobs running right now.
    pub fn busy(&self) -> usize {
        self.turns.busy()
    }

    /// Requests admitted and not yet running: waiting for a worker.
    pub fn queued(&self) -> usize {
        self.admitted.held().saturating_sub(self.busy())
    }

    /// Whether `client` would be admitted now, without taking a place: routes ask before they
    /// read a body, so a full server refuses without taking the upload.
    pub fn room(&self, client: &Owner) -> Result<(), PoolError> {
        Ok(self.admitted.room(client)?)
    }

    /// Reserves a place in the queue, or refuses at once when it is full.
    pub fn admit(&self, client: &Owner) -> Result<Ticket, PoolError> {
        let admission = self.admitted.take(client)?;
        Ok(Ticket {
            admission,
            client: client.clone(),
            turns: Arc::clone(&self.turns),
            deadline: self.deadline,
        })
    }

    /// [`Self::admit`] then [`Ticket::run`].
    #[cfg(test)]
    pub async fn run<T, F>(&self, job: F) -> Result<(T, JobTimes), PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.admit(&Owner::local())?.run(job).await
    }
}

/// A reserved place in the queue; dropping it gives the place back.
pub struct Ticket {
    admission: Place,
    client: Owner,
    turns: Arc<Turns>,
    deadline: Duration,
}

impl Ticket {
    /// Runs `job` on a worker thread under the current tracing span (so its log lines carry the
    /// request's ids). The deadline counts from here: upload time is not analysis time.
    pub async fn run<T, F>(self, job: F) -> Result<(T, JobTimes), PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Ticket {
            admission,
            client,
            turns,
            deadline,
        } = self;
        let start = Instant::now();
        let worker = tokio::time::timeout(deadline, turns.acquire(&client))
            .await
            .map_err(|_| PoolError::TimedOut(deadline))?;
        let queued = start.elapsed();
        let remaining = deadline.saturating_sub(queued);
        let span = Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _worker = worker;
            let _admission = admission;
            let t = Instant::now();
            let out = span.in_scope(|| catch_unwind(AssertUnwindSafe(job)));
            (out, t.elapsed())
        });
        match tokio::time::timeout(remaining, task).await {
            Err(_) if queued * 2 > deadline => Err(PoolError::TimedOut(deadline)),
            Err(_) => Err(PoolError::Overran(deadline)),
            Ok(Err(join)) => Err(PoolError::Panicked(join.to_string())),
            Ok(Ok((Err(panic), _))) => Err(PoolError::Panicked(panic_message(panic.as_ref()))),
            Ok(Ok((Ok(value), ran))) => Ok((value, JobTimes { queued, ran })),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_pool_refuses_and_recovers() {
        let pool = Arc::new(WorkerPool::new(1, 1, 10, Duration::from_secs(5)));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut held = Vec::new();
        for _ in 0..2 {
            let (p, rx) = (pool.clone(), rx.clone());
            held.push(tokio::spawn(async move {
                p.run(move || {
                    let _ = rx.lock().map(|r| r.recv());
                })
                .await
            }));
        }
        // Wait until one job runs and one waits.
        for _ in 0..100 {
            if pool.busy() == 1 && pool.queued() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!((pool.busy(), pool.queued()), (1, 1));
        assert_eq!(pool.run(|| ()).await.unwrap_err(), PoolError::Full);
        tx.send(()).unwrap();
        tx.send(()).unwrap();
        for h in held {
            assert!(h.await.unwrap().is_ok());
        }
        assert_eq!(pool.run(|| 7).await.unwrap().0, 7);
        assert_eq!((pool.busy(), pool.queued()), (0, 0));
    }

    #[tokio::test]
    async fn tickets_hold_their_place_until_dropped() {
        let pool = WorkerPool::new(1, 1, 10, Duration::from_secs(5));
        let me = Owner::local();
        let a = pool.admit(&me).unwrap();
        let b = pool.admit(&me).unwrap();
        assert_eq!(pool.admit(&me).err(), Some(PoolError::Full));
        drop(a);
        let c = pool.admit(&me).unwrap();
        assert_eq!(b.run(|| 1).await.unwrap().0, 1);
        assert_eq!(c.run(|| 2).await.unwrap().0, 2);
        assert_eq!((pool.busy(), pool.queued()), (0, 0));
    }

    #[test]
    fn one_client_holds_at_most_its_share() {
        let pool = WorkerPool::new(2, 4, 0, Duration::from_secs(5));
        let (a, b) = (Owner::new("", "a"), Owner::new("", "b"));
        let held: Vec<Ticket> = (0..3).map(|_| pool.admit(&a).unwrap()).collect();
        assert_eq!(pool.admit(&a).err(), Some(PoolError::ClientShare(3)));
        // Another client still gets in, up to the pool's capacity.
        let others: Vec<Ticket> = (0..3).map(|_| pool.admit(&b).unwrap()).collect();
        assert_eq!(
            pool.admit(&Owner::new("", "c")).err(),
            Some(PoolError::Full)
        );
        drop(held);
        assert!(pool.admit(&a).is_ok());
        drop(others);
    }

    #[tokio::test]
    async fn panic_is_reported_not_propagated() {
        let pool = WorkerPool::new(1, 0, 10, Duration::from_secs(5));
        let err = pool.run(|| panic!("boom")).await.unwrap_err();
        assert_eq!(err, PoolError::Panicked("boom".into()));
        assert_eq!(pool.run(|| 1).await.unwrap().0, 1);
    }

    #[tokio::test]
    async fn overrunning_job_times_out_but_keeps_its_worker() {
        let pool = WorkerPool::new(1, 0, 10, Duration::from_millis(100));
        let err = pool
            .run(|| std::thread::sleep(Duration::from_millis(400)))
            .await
            .unwrap_err();
        // It started at once: the work is too long, not the server too busy.
        assert!(matches!(err, PoolError::Overran(_)));
        // The sleeping job still holds the only worker and the only slot.
        assert_eq!(pool.busy(), 1);
        assert_eq!(pool.run(|| ()).await.unwrap_err(), PoolError::Full);
    }
}
