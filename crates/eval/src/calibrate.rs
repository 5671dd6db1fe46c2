//! A deployment's own operating point from its labelled stills (`livegate eval --calibrate`).
//!
//! The rule, measured before it was built (`training/experiments/local_calibration/`): of the
//! thresholds with the lowest ACER on the labelled stills, the one nearest the policy's. So
//! the operating point moves only as far as the deployment's own stills say it must; a sample
//! the policy's threshold already separates leaves it where it is. Each source's out-of-fold
//! scores, calibrated on 20 consecutive stills of each class and judged on the rest: pooled
//! ACER 12.3 → 11.4 % (the middle of the tied stretch instead: 11.7 %, and sources the policy
//! already served perfectly then lost up to 6 points).

use crate::metrics;
use crate::runner::Outcome;
use crate::{Class, Kind};
use liveness::operating_point::{Calibration, OperatingPoint, Rates};
use liveness::policy;

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(
        "calibration needs at least {need} judged stills of each class; the manifest has \
         {bona_fide} bona fide and {attacks} attack stills with a usable face"
    )]
    TooFew {
        need: usize,
        bona_fide: usize,
        attacks: usize,
    },
}

/// Of the thresholds with the lowest ACER on `bona` and `attacks`, the one nearest `prior`.
///
/// A still is accepted when its score is at or above the threshold, so each candidate score c
/// stands for the stretch (previous score, c]: when `prior` lies in a stretch of lowest ACER it
/// is kept, otherwise the lowest-ACER candidate whose stretch comes nearest it is returned.
pub fn choose(bona: &[f32], attacks: &[f32], prior: f32) -> f32 {
    let mut cands: Vec<f32> = bona.iter().chain(attacks).copied().collect();
    cands.extend([0.0, 1.0 + 1e-6]);
    cands.sort_by(f32::total_cmp);
    cands.dedup();
    let acer = |t: f32| metrics::acer(metrics::apcer(attacks, t), metrics::bpcer(bona, t));
    let errors: Vec<f32> = cands.iter().map(|&t| acer(t)).collect();
    let best = errors.iter().copied().fold(f32::INFINITY, f32::min);
    if acer(prior) <= best + 1e-9 {
        return prior;
    }
    let distance = |i: usize| {
        let prev = cands[i.saturating_sub(1)];
        (cands[i] - prior).abs().min((prev - prior).abs())
    };
    (0..cands.len())
        .filter(|&i| errors[i] <= best + 1e-9)
        .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))
        .map_or(prior, |i| cands[i])
}

/// The operating point the labelled stills of `outcomes` support, for the PAD weights
/// `weights` (file, SHA-256). Videos are left out (their verdict fuses more than PAD), and so
/// are stills without a judgement.
pub fn operating_point(
    outcomes: &[Outcome],
    manifest: &str,
    weights: Vec<(String, String)>,
) -> Result<OperatingPoint, CalibrateError> {
    let stills = || {
        outcomes
            .iter()
            .filter(|o| o.item.kind == Kind::Still && o.item.class.is_some())
    };
    let judged = |class| {
        stills()
            .filter(|o| o.item.class == Some(class) && o.error.is_none() && !o.non_response)
            .filter_map(|o| o.score)
            .collect::<Vec<f32>>()
    };
    let (bona, attacks) = (judged(Class::BonaFide), judged(Class::Attack));
    let need = policy::OPERATING_POINT_MIN_PER_CLASS;
    if bona.len() < need || attacks.len() < need {
        return Err(CalibrateError::TooFew {
            need,
            bona_fide: bona.len(),
            attacks: attacks.len(),
        });
    }
    let rates = |threshold| Rates {
        threshold,
        apcer: metrics::apcer(&attacks, threshold),
        bpcer: metrics::bpcer(&bona, threshold),
    };
    let prior = policy::IMAGE_REAL_THRESHOLD;
    let chosen = choose(&bona, &attacks, prior);
    Ok(OperatingPoint {
        image_real_threshold: chosen,
        pad_weights_sha256: weights,
        calibration: Calibration {
            manifest: manifest.to_string(),
            bona_fide: bona.len(),
            attacks: attacks.len(),
            unjudged: stills().count() - bona.len() - attacks.len(),
            policy: rates(prior),
            chosen: rates(chosen),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_the_prior_already_separates_keeps_the_prior() {
        let bona = [0.6, 0.7, 0.9];
        let attacks = [0.1, 0.2, 0.35];
        assert_eq!(choose(&bona, &attacks, 0.43), 0.43);
    }

    #[test]
    fn accepted_attacks_move_the_threshold_just_past_them() {
        // the policy's 0.43 accepts two attacks; every threshold in (0.55, 0.7] separates
        let bona = [0.7, 0.8, 0.95];
        let attacks = [0.1, 0.5, 0.55];
        let t = choose(&bona, &attacks, 0.43);
        assert_eq!(t, 0.7);
        assert_eq!(metrics::apcer(&attacks, t), 0.0);
        assert_eq!(metrics::bpcer(&bona, t), 0.0);
        // rejected live faces move it down, to the lowest-ACER candidate nearest the prior
        let bona = [0.2, 0.25, 0.9];
        let attacks = [0.05, 0.1];
        assert_eq!(choose(&bona, &attacks, 0.43), 0.2);
    }

    #[test]
    fn when_no_threshold_separates_it_takes_the_lowest_acer_nearest_the_prior() {
        let bona = [0.3, 0.6, 0.8];
        let attacks = [0.2, 0.5, 0.7];
        let t = choose(&bona, &attacks, 0.43);
        let acer = |t| metrics::acer(metrics::apcer(&attacks, t), metrics::bpcer(&bona, t));
        for c in [0.0, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0] {
            assert!(acer(t) <= acer(c) + 1e-6, "{t} vs {c}");
        }
        // 0.43 accepts two of three attacks; (0.5, 0.6] and (0.7, 0.8] both err once per class
        assert!(acer(t) < acer(0.43));
        assert_eq!(t, 0.6);
    }

    fn outcome(file: &str, label: &str, score: f32) -> Outcome {
        let mut o = Outcome::of_line(file, label);
        o.score = Some(score);
        o
    }

    #[test]
    fn too_few_judged_stills_of_a_class_is_refused_and_unjudged_ones_are_counted() {
        let need = policy::OPERATING_POINT_MIN_PER_CLASS;
        let mut outs: Vec<Outcome> = (0..need)
            .map(|i| outcome(&format!("l{i}.jpg"), "live", 0.8))
            .chain((0..need).map(|i| outcome(&format!("a{i}.jpg"), "spoof", 0.5)))
            .collect();
        let mut no_face = outcome("l-none.jpg", "live", 0.0);
        no_face.non_response = true;
        outs.push(no_face);
        let p = operating_point(&outs, "m.tsv", vec![]).unwrap();
        assert_eq!(p.calibration.unjudged, 1);
        assert_eq!(
            (p.calibration.bona_fide, p.calibration.attacks),
            (need, need)
        );
        assert_eq!(p.calibration.policy.apcer, 1.0);
        assert_eq!(p.calibration.chosen.apcer, 0.0);
        assert!(p.image_real_threshold > 0.5 && p.image_real_threshold <= 0.8);
        outs.truncate(need + need - 1);
        let e = operating_point(&outs, "m.tsv", vec![])
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("{} attack", need - 1)), "{e}");
    }
}
