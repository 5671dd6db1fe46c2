//! The workers, handed out in turns among clients. A first-come queue lets one client that
//! keeps its share of places full of long videos put everyone else behind its backlog (an
//! outside review measured a 0.15 s still waiting 52 s behind a client within its share); here
//! a freed worker goes to the client served longest ago among those waiting, so another
//! client's request waits for at most one running analysis per worker, not for a backlog.

use jobs::Owner;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

pub struct Turns {
    workers: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    free: usize,
    /// Clients with a request waiting, in the order they are served next. While any client
    /// waits no worker is free: a freed one goes straight to the next in turn.
    ring: VecDeque<Owner>,
    /// Each waiting client's requests, first come first served among themselves.
    waiting: HashMap<Owner, VecDeque<oneshot::Sender<()>>>,
}

/// A worker held; dropping it hands the worker on.
pub struct Worker {
    turns: Arc<Turns>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.turns.release();
    }
}

/// A request waiting for its turn. Given up (its deadline passed) after the worker was sent
/// but before it was taken, it hands that worker on instead of losing it.
struct Waiting {
    rx: Option<oneshot::Receiver<()>>,
    turns: Arc<Turns>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if rx.try_recv().is_ok() {
                self.turns.release();
            }
        }
    }
}

impl Turns {
    pub fn new(workers: usize) -> Arc<Self> {
        Arc::new(Self {
            workers,
            state: Mutex::new(State {
                free: workers,
                ..State::default()
            }),
        })
    }

    /// Workers running a job now.
    pub fn busy(&self) -> usize {
        self.workers - self.lock().free
    }

    /// Waits for `client`'s turn at a worker.
    pub async fn acquire(self: &Arc<Self>, client: &Owner) -> Worker {
        let rx = {
            let mut s = self.lock();
            if s.free > 0 {
                s.free -= 1;
                return Worker {
                    turns: Arc::clone(self),
                };
            }
            let (tx, rx) = oneshot::channel();
            let queue = s.waiting.entry(client.clone()).or_default();
            let first = queue.is_empty();
            queue.push_back(tx);
            if first {
                s.ring.push_back(client.clone());
            }
            rx
        };
        let mut waiting = Waiting {
            rx: Some(rx),
            turns: Arc::clone(self),
        };
        if let Some(rx) = waiting.rx.as_mut() {
            // A sender is dropped unsent only with the whole pool.
            let _ = rx.await;
        }
        waiting.rx = None;
        Worker {
            turns: Arc::clone(self),
        }
    }

    /// A worker came free: to the next client in turn that still waits, or back to the pool.
    fn release(&self) {
        let mut s = self.lock();
        while let Some(client) = s.ring.pop_front() {
            let (next, more) = match s.waiting.get_mut(&client) {
                Some(queue) => (queue.pop_front(), !queue.is_empty()),
                None => (None, false),
            };
            if more {
                s.ring.push_back(client);
            } else {
                s.waiting.remove(&client);
            }
            // A request that gave up has dropped its receiver: the next one gets the worker.
            if let Some(tx) = next
                && tx.send(()).is_ok()
            {
                return;
            }
        }
        s.free += 1;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters and queues, consistent after every statement.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    #[tokio::test]
    async fn a_freed_worker_goes_to_the_client_served_longest_ago() {
        let turns = Turns::new(1);
        let (a, b) = (Owner::new("", "a"), Owner::new("", "b"));
        let running = turns.acquire(&a).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        // Client a queues three requests, then b one.
        for (client, name) in [(&a, "a1"), (&a, "a2"), (&a, "a3"), (&b, "b1")] {
            let (t, o, c) = (Arc::clone(&turns), Arc::clone(&order), client.clone());
            waiters.push(tokio::spawn(async move {
                let w = t.acquire(&c).await;
                o.lock().unwrap().push(name);
                settle().await;
                drop(w);
            }));
            settle().await;
        }
        assert_eq!(turns.busy(), 1);
        drop(running);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["a1", "b1", "a2", "a3"]);
        assert_eq!(turns.busy(), 0);
    }

    #[tokio::test]
    async fn a_request_that_gives_up_hands_its_worker_on() {
        let turns = Turns::new(1);
        let (a, b) = (Owner::new("", "a"), Owner::new("", "b"));
        let running = turns.acquire(&a).await;
        let gave_up = tokio::time::timeout(Duration::from_millis(20), turns.acquire(&b)).await;
        assert!(gave_up.is_err());
        let t = Arc::clone(&turns);
        let next = tokio::spawn(async move { t.acquire(&Owner::new("", "c")).await });
        settle().await;
        drop(running);
        let w = tokio::time::timeout(Duration::from_secs(1), next)
            .await
            .expect("the worker reached the next request")
            .unwrap();
        assert_eq!(turns.busy(), 1);
        drop(w);
        assert_eq!(turns.busy(), 0);
    }
}
