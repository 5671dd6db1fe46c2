//! Facematch: does the person in the still appear in the video?

use crate::policy;
use serde::Serialize;
use vision::{Embedder, Embedding};

#[derive(Debug, Clone, Serialize, Default)]
pub struct FacematchOutcome {
    pub tested: u32,
    pub matched: u32,
    /// matched / tested; 0 when nothing could be tested.
    pub fraction: f32,
    pub distances: Vec<f32>,
    pub max_distance: f32,
}

/// Picks `want` indices spread evenly over `0..available` (first and last included).
pub fn spread(available: usize, want: usize) -> Vec<usize> {
    if available == 0 || want == 0 {
        return Vec::new();
    }
    if want >= available {
        return (0..available).collect();
    }
    if want == 1 {
        return vec![available / 2];
    }
    (0..want)
        .map(|k| k * (available - 1) / (want - 1))
        .collect()
}

pub fn compare(
    embedder: &dyn Embedder,
    reference: &Embedding,
    probes: &[Embedding],
) -> FacematchOutcome {
    let max_distance = policy::facematch_max_distance(embedder.id());
    let distances: Vec<f32> = probes
        .iter()
        .map(|p| embedder.distance(reference, p))
        .collect();
    let matched = distances.iter().filter(|&&d| d < max_distance).count() as u32;
    let tested = distances.len() as u32;
    FacematchOutcome {
        tested,
        matched,
        fraction: if tested == 0 {
            0.0
        } else {
            matched as f32 / tested as f32
        },
        distances,
        max_distance,
    }
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spread_covers_the_range() {
        assert_eq!(spread(20, 3), vec![0, 9, 19]);
        assert_eq!(spread(2, 3), vec![0, 1]);
        assert_eq!(spread(5, 1), vec![2]);
        assert!(spread(0, 3).is_empty());
    }
}
