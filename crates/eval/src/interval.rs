//! 95 % confidence intervals for the leave-one-source-out figures.
//!
//! A pooled ACER of 12.0 % against a target of 12 % means nothing until one knows how far the
//! figure moves with other presentations, and with other sources. Two kinds of interval answer
//! that, at each held-out source's own operating point (the threshold is not re-chosen):
//!
//! - *items*: every source's bona fide and attack presentations resampled with replacement
//!   (a stratified bootstrap): how precisely these sources' figure is known;
//! - *sources* (pooled row only): the sources themselves resampled, then their items: how far
//!   another set of sources like these could move the pooled figure. With ten sources that
//!   differ as much as ours do, this is the wider and the more honest of the two.
//!
//! A source's own APCER and BPCER are binomial rates and get Wilson score intervals, which stay
//! informative at zero errors (0 of 50 accepted attacks: up to 7.1 %), where a bootstrap
//! collapses to a point. Its ACER and AUC use the bootstrap, so a source without a single
//! error shows [0, 0] there; read its APCER and BPCER bounds instead.

use crate::metrics;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Bootstrap replicates: enough for the 2.5 % and 97.5 % percentiles to settle to about a
/// tenth of a point on our sources' sizes.
pub const REPLICATES: usize = 2000;
/// The standard normal quantile of a two-sided 95 % interval.
const Z: f64 = 1.959_963_984_540_054;
/// Fixed so that the same scores always print the same intervals (ChaCha's stream is
/// portable across platforms and releases).
const SEED: u64 = 30_107;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f32,
    pub high: f32,
}

impl Interval {
    pub fn contains(&self, x: f32) -> bool {
        self.low <= x && x <= self.high
    }

    /// `a–b` in percent with one decimal.
    pub fn pct(&self) -> String {
        format!("{:.1}–{:.1}%", 100.0 * self.low, 100.0 * self.high)
    }
}

/// The intervals of one LOSO row; `None` where the figure is undefined (a class is missing).
#[derive(Debug, Clone, Serialize)]
pub struct Intervals {
    pub apcer: Option<Interval>,
    pub bpcer: Option<Interval>,
    pub acer: Option<Interval>,
    pub roc_auc: Option<Interval>,
}

/// One held-out source: its scores and the threshold chosen without it.
#[derive(Debug, Clone)]
pub struct Held {
    pub bona: Vec<f32>,
    pub attack: Vec<f32>,
    pub threshold: f32,
}

impl Held {
    fn accepted_attacks(&self) -> usize {
        self.attack.iter().filter(|&&s| s >= self.threshold).count()
    }

    fn rejected_bona(&self) -> usize {
        self.bona.iter().filter(|&&s| s < self.threshold).count()
    }
}

/// Wilson score interval of `errors` out of `n` (`None` when `n` is 0).
pub fn wilson(errors: usize, n: usize) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let (n, p) = (n as f64, errors as f64 / n as f64);
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (centre - half).max(0.0) as f32,
        high: (centre + half).min(1.0) as f32,
    })
}

/// One source's row: Wilson intervals for its APCER and BPCER, a stratified bootstrap for its
/// ACER and AUC.
pub fn source(held: &Held) -> Intervals {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let bootstrapped = bootstrap(|| figures(&[resample(held, &mut rng)]));
    Intervals {
        apcer: wilson(held.accepted_attacks(), held.attack.len()),
        bpcer: wilson(held.rejected_bona(), held.bona.len()),
        ..bootstrapped
    }
}

/// The pooled row with the sources fixed and their items resampled.
pub fn pooled_items(held: &[Held]) -> Intervals {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    bootstrap(|| {
        let sample: Vec<Held> = held.iter().map(|h| resample(h, &mut rng)).collect();
        figures(&sample)
    })
}

/// The pooled row with the sources resampled, then each drawn source's items.
pub fn pooled_sources(held: &[Held]) -> Intervals {
    if held.is_empty() {
        // Nothing to draw from: every figure is undefined.
        return bootstrap(|| figures(&[]));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    bootstrap(|| {
        let sample: Vec<Held> = (0..held.len())
            .map(|_| {
                let h = &held[rng.gen_range(0..held.len())];
                resample(h, &mut rng)
            })
            .collect();
        figures(&sample)
    })
}

/// The pooled figures of one set of held-out sources, as `loso::build` computes them.
struct Figures {
    apcer: f32,
    bpcer: f32,
    acer: f32,
    roc_auc: f32,
}

fn figures(held: &[Held]) -> Figures {
    let share = |k: usize, n: usize| {
        if n == 0 {
            f32::NAN
        } else {
            k as f32 / n as f32
        }
    };
    let attacks: usize = held.iter().map(|h| h.attack.len()).sum();
    let bona: usize = held.iter().map(|h| h.bona.len()).sum();
    let apcer = share(held.iter().map(Held::accepted_attacks).sum(), attacks);
    let bpcer = share(held.iter().map(Held::rejected_bona).sum(), bona);
    let all_bona: Vec<f32> = held.iter().flat_map(|h| h.bona.iter().copied()).collect();
    let all_attack: Vec<f32> = held.iter().flat_map(|h| h.attack.iter().copied()).collect();
    Figures {
        apcer,
        bpcer,
        acer: metrics::acer(apcer, bpcer),
        roc_auc: metrics::roc_auc(&all_bona, &all_attack),
    }
}

fn bootstrap(mut replicate: impl FnMut() -> Figures) -> Intervals {
    let reps: Vec<Figures> = (0..REPLICATES).map(|_| replicate()).collect();
    Intervals {
        apcer: percentile_interval(reps.iter().map(|f| f.apcer)),
        bpcer: percentile_interval(reps.iter().map(|f| f.bpcer)),
        acer: percentile_interval(reps.iter().map(|f| f.acer)),
        roc_auc: percentile_interval(reps.iter().map(|f| f.roc_auc)),
    }
}

/// The source's bona fide and attack scores drawn with replacement, each class on its own so
/// that every replicate keeps the source's class sizes.
fn resample(h: &Held, rng: &mut ChaCha8Rng) -> Held {
    let mut draw = |xs: &[f32]| -> Vec<f32> {
        (0..xs.len())
            .map(|_| xs[rng.gen_range(0..xs.len())])
            .collect()
    };
    Held {
        bona: draw(&h.bona),
        attack: draw(&h.attack),
        threshold: h.threshold,
    }
}

/// The 2.5th and 97.5th percentiles of the defined replicates (`None` if fewer than half are
/// defined: the figure does not exist for these data).
fn percentile_interval(values: impl Iterator<Item = f32>) -> Option<Interval> {
    let mut v: Vec<f32> = values.filter(|x| !x.is_nan()).collect();
    if v.len() * 2 < REPLICATES {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(Interval {
        low: metrics::nearest_rank(&v, 0.025),
        high: metrics::nearest_rank(&v, 0.975),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` bona fide and `n` attacks, `errors_per_10` of every ten of each on the wrong side
    /// of 0.5, the scores spread so that ranks are informative.
    fn source_with(n: usize, errors_per_10: usize) -> Held {
        let score = |i: usize, live: bool| {
            let wrong = i % 10 < errors_per_10;
            let base = if live != wrong { 0.6 } else { 0.1 };
            base + 0.3 * (i as f32 / n as f32)
        };
        Held {
            bona: (0..n).map(|i| score(i, true)).collect(),
            attack: (0..n).map(|i| score(i, false)).collect(),
            threshold: 0.5,
        }
    }

    #[test]
    fn wilson_matches_the_textbook_values() {
        let i = wilson(0, 50).unwrap();
        assert_eq!(i.low, 0.0);
        assert!((i.high - 0.0713).abs() < 1e-3, "{i:?}");
        let i = wilson(10, 100).unwrap();
        assert!((i.low - 0.0552).abs() < 1e-3, "{i:?}");
        assert!((i.high - 0.1744).abs() < 1e-3, "{i:?}");
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn a_source_interval_holds_its_figure_and_narrows_with_more_items() {
        let (small, large) = (source(&source_with(50, 2)), source(&source_with(500, 2)));
        for ci in [&small, &large] {
            assert!(ci.acer.unwrap().contains(0.2), "{ci:?}");
            assert!(ci.apcer.unwrap().contains(0.2), "{ci:?}");
        }
        let width = |i: Interval| i.high - i.low;
        assert!(width(large.acer.unwrap()) < 0.5 * width(small.acer.unwrap()));
        assert!(width(large.bpcer.unwrap()) < 0.5 * width(small.bpcer.unwrap()));
    }

    #[test]
    fn a_source_without_errors_still_bounds_its_rates() {
        let ci = source(&source_with(60, 0));
        assert_eq!(
            ci.acer.unwrap(),
            Interval {
                low: 0.0,
                high: 0.0
            }
        );
        assert!(ci.apcer.unwrap().high > 0.05, "{ci:?}");
        assert_eq!(ci.roc_auc.unwrap().high, 1.0);
    }

    #[test]
    fn resampling_sources_widens_the_pooled_interval_when_sources_disagree() {
        // Nine sources without errors and one that gets 6 of every 10 wrong: the pooled ACER
        // is 6 %, known precisely item by item, loosely once the set of sources may change.
        let mut held: Vec<Held> = (0..9).map(|_| source_with(100, 0)).collect();
        held.push(source_with(100, 6));
        let (items, sources) = (pooled_items(&held), pooled_sources(&held));
        let (a, b) = (items.acer.unwrap(), sources.acer.unwrap());
        assert!(a.contains(0.06) && b.contains(0.06), "{a:?} {b:?}");
        assert!(b.high - b.low > 3.0 * (a.high - a.low), "{a:?} {b:?}");
        assert_eq!(b.low, 0.0, "some draws leave the bad source out: {b:?}");
    }

    #[test]
    fn the_same_scores_give_the_same_intervals() {
        let held = vec![source_with(40, 1), source_with(70, 3)];
        let (x, y) = (pooled_sources(&held), pooled_sources(&held));
        assert_eq!(x.acer, y.acer);
        assert_eq!(x.roc_auc, y.roc_auc);
    }

    #[test]
    fn a_missing_class_leaves_its_figures_undefined() {
        let held = Held {
            bona: vec![0.9, 0.2, 0.7],
            attack: vec![],
            threshold: 0.5,
        };
        let ci = source(&held);
        assert_eq!(ci.apcer, None);
        assert_eq!(ci.roc_auc, None);
        assert!(ci.bpcer.is_some() && ci.acer.is_some());
    }
}
