//! A list that keeps at most a fixed number of items spread evenly over everything offered,
//! without knowing beforehand how much will be: when it fills up it drops every other item, and
//! from then on admits every other offer (then every fourth, and so on). A video's face crops
//! are kept this way, so that 300 client frames hold no more crops than facematch and the
//! challenge's same-face check can use, whatever the sampling a client asks for.

/// At most `cap` items, evenly spread over the offers.
#[derive(Debug)]
pub struct Thinned<T> {
    items: Vec<T>,
    cap: usize,
    /// Offers admitted: every `stride`-th, counted from the first.
    stride: usize,
    offered: usize,
}

impl<T> Thinned<T> {
    /// `cap` is at least 2 (halving one item would keep none).
    pub fn new(cap: usize) -> Self {
        Self {
            items: Vec::new(),
            cap: cap.max(2),
            stride: 1,
            offered: 0,
        }
    }

    /// Offers the next item; `make` runs only when it is admitted (a crop is a copy of pixels).
    /// Returns whether it was.
    pub fn offer(&mut self, make: impl FnOnce() -> T) -> bool {
        let admitted = self.offered.is_multiple_of(self.stride);
        self.offered += 1;
        if !admitted {
            return false;
        }
        self.items.push(make());
        if self.items.len() == self.cap {
            // Keep the items at even positions: the offers at multiples of twice the stride.
            let mut position = 0;
            self.items.retain(|_| {
                position += 1;
                position % 2 == 1
            });
            self.stride *= 2;
        }
        true
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn as_slice(&self) -> &[T] {
        &self.items
    }

    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_cap_everything_is_kept() {
        let mut t = Thinned::new(8);
        for i in 0..7 {
            assert!(t.offer(|| i));
        }
        assert_eq!(t.as_slice(), [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn past_the_cap_the_kept_items_stay_evenly_spread_over_all_offers() {
        let mut t = Thinned::new(8);
        let mut made = 0;
        for i in 0..300 {
            t.offer(|| {
                made += 1;
                i
            });
        }
        // 300 offers into 8 places: every 64th, from the first.
        assert_eq!(t.as_slice(), [0, 64, 128, 192, 256]);
        assert!(t.len() < 8);
        assert!(made < 30, "{made} items made for 300 offers");
        let mut t = Thinned::new(8);
        for i in 0..20 {
            t.offer(|| i);
        }
        assert_eq!(t.as_slice(), [0, 4, 8, 12, 16]);
    }
}
