//! A bounded number of places (analysis queue places, uploads in progress) with a share per
//! client, so that no single client can hold all of them.
//!
//! Used by the server's worker pool for analyses admitted and not yet finished, by its analysis
//! routes for bodies being received (keeping those two apart is what stops stalled uploads from
//! holding the analysis queue), and by [`crate::JobService`] for batch uploads in progress.

use crate::owner::{Held, Holdings, Owner};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a place was not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every place is taken.
    Full,
    /// This client already holds its share (given).
    Share(usize),
}

pub struct Places {
    held: Arc<AtomicUsize>,
    per_client: Holdings,
    total: usize,
    share: usize,
}

/// One place; dropping it gives it back (and the client's share of it).
pub struct Place {
    held: Arc<AtomicUsize>,
    _client: Held,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.held.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Places {
    /// `total` places, at most `share` of them (at least 1) for one client.
    pub fn new(total: usize, share: usize) -> Self {
        Self {
            held: Arc::new(AtomicUsize::new(0)),
            per_client: Holdings::default(),
            total,
            share: share.max(1),
        }
    }

    /// Places one client may hold.
    pub fn share(&self) -> usize {
        self.share
    }

    /// Places held right now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// Whether `client` would get a place now, without taking one: lets a route refuse before
    /// it reads a body it could not use.
    pub fn room(&self, client: &Owner) -> Result<(), Refused> {
        if self.per_client.held_by(client) >= self.share {
            return Err(Refused::Share(self.share));
        }
        if self.held() >= self.total {
            return Err(Refused::Full);
        }
        Ok(())
    }

    pub fn take(&self, client: &Owner) -> Result<Place, Refused> {
        let held = self
            .per_client
            .take(client, self.share)
            .ok_or(Refused::Share(self.share))?;
        let before = self.held.fetch_add(1, Ordering::SeqCst);
        let place = Place {
            held: self.held.clone(),
            _client: held,
        };
        if before >= self.total {
            // Dropping `place` gives the count and the client's share back.
            return Err(Refused::Full);
        }
        Ok(place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_total_are_both_held() {
        let places = Places::new(4, 2);
        let (a, b, c) = (
            Owner::new("", "a"),
            Owner::new("", "b"),
            Owner::new("", "c"),
        );
        let held_a: Vec<Place> = (0..2).map(|_| places.take(&a).unwrap()).collect();
        assert_eq!(places.room(&a), Err(Refused::Share(2)));
        assert_eq!(places.take(&a).err(), Some(Refused::Share(2)));
        assert_eq!(places.room(&b), Ok(()));
        let held_b: Vec<Place> = (0..2).map(|_| places.take(&b).unwrap()).collect();
        assert_eq!(places.room(&c), Err(Refused::Full));
        assert_eq!(places.take(&c).err(), Some(Refused::Full));
        // A refusal took nothing.
        assert_eq!(places.held(), 4);
        drop(held_a);
        assert_eq!(places.held(), 2);
        assert!(places.take(&c).is_ok());
        drop(held_b);
        assert_eq!(places.held(), 0);
    }
}
