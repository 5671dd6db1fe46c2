//! ISO/IEC 30107-3 presentation-attack metrics.
//!
//! Scores are "live" probabilities; a presentation is accepted as bona fide when its score is
//! at or above the threshold. APCER is the share of attacks accepted, BPCER the share of bona
//! fide presentations rejected, ACER their mean. Non-responses (no usable face) keep score 0:
//! a bona fide non-response counts against BPCER, and its rate is reported on its own too.

use serde::Serialize;

pub fn apcer(attack: &[f32], threshold: f32) -> f32 {
    rate(attack, |s| s >= threshold)
}

pub fn bpcer(bona: &[f32], threshold: f32) -> f32 {
    rate(bona, |s| s < threshold)
}

fn rate(xs: &[f32], f: impl Fn(f32) -> bool) -> f32 {
    if xs.is_empty() {
        return f32::NAN;
    }
    xs.iter().filter(|&&s| f(s)).count() as f32 / xs.len() as f32
}

/// ACER, the mean of APCER and BPCER; for a set with only one class, that class's error rate.
pub fn acer(apcer: f32, bpcer: f32) -> f32 {
    match (apcer.is_nan(), bpcer.is_nan()) {
        (false, false) => (apcer + bpcer) / 2.0,
        (true, false) => bpcer,
        (false, true) => apcer,
        (true, true) => f32::NAN,
    }
}

/// BPCER at the lowest threshold whose APCER does not exceed `target`.
pub fn bpcer_at_apcer(bona: &[f32], attack: &[f32], target: f32) -> f32 {
    if bona.is_empty() || attack.is_empty() {
        return f32::NAN;
    }
    let mut cands: Vec<f32> = attack.iter().chain(bona).copied().collect();
    cands.push(f32::INFINITY);
    cands.sort_by(f32::total_cmp);
    cands.dedup();
    for t in cands {
        // Thresholds just above an attack score reject it.
        if apcer(attack, t) <= target {
            return bpcer(bona, t);
        }
    }
    1.0
}

/// Area under the ROC curve: the probability that a random bona fide presentation scores above
/// a random attack (ties count half).
pub fn roc_auc(bona: &[f32], attack: &[f32]) -> f32 {
    if bona.is_empty() || attack.is_empty() {
        return f32::NAN;
    }
    let mut all: Vec<(f32, bool)> = bona
        .iter()
        .map(|&s| (s, true))
        .chain(attack.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Rank-sum with average ranks for ties.
    let mut rank_sum_bona = 0.0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum_bona += all[i..j].iter().filter(|x| x.1).count() as f64 * avg_rank;
        i = j;
    }
    let (nb, na) = (bona.len() as f64, attack.len() as f64);
    ((rank_sum_bona - nb * (nb + 1.0) / 2.0) / (nb * na)) as f32
}

/// Points of the DET curve: (APCER, BPCER) over every threshold.
pub fn det_curve(bona: &[f32], attack: &[f32]) -> Vec<(f32, f32)> {
    let mut cands: Vec<f32> = attack.iter().chain(bona).copied().collect();
    cands.push(f32::INFINITY);
    cands.sort_by(f32::total_cmp);
    cands.dedup();
    cands
        .into_iter()
        .map(|t| (apcer(attack, t), bpcer(bona, t)))
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
}

pub fn percentiles(xs: &[f64]) -> Option<Percentiles> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    Some(Percentiles {
        p50: nearest_rank(&v, 0.5),
        p95: nearest_rank(&v, 0.95),
    })
}

/// The value at quantile `q` of `sorted` (non-empty, ascending), by nearest rank.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation() {
        let bona = [0.9, 0.8, 0.95];
        let attack = [0.1, 0.2];
        assert_eq!(roc_auc(&bona, &attack), 1.0);
        assert_eq!(apcer(&attack, 0.5), 0.0);
        assert_eq!(bpcer(&bona, 0.5), 0.0);
        assert_eq!(bpcer_at_apcer(&bona, &attack, 0.01), 0.0);
    }

    #[test]
    fn known_values() {
        let bona = [0.9, 0.4, 0.6, 0.7];
        let attack = [0.1, 0.65, 0.3, 0.2];
        assert_eq!(apcer(&attack, 0.5), 0.25);
        assert_eq!(bpcer(&bona, 0.5), 0.25);
        // 15 of 16 pairs ordered right: 0.4 < 0.65 is the one wrong, 0.6 < 0.65 another.
        assert!((roc_auc(&bona, &attack) - 14.0 / 16.0).abs() < 1e-6);
        // APCER 0 needs t > 0.65, which rejects 0.4 and 0.6.
        assert_eq!(bpcer_at_apcer(&bona, &attack, 0.0), 0.5);
    }

    #[test]
    fn ties_count_half() {
        assert_eq!(roc_auc(&[0.5], &[0.5]), 0.5);
    }
}
