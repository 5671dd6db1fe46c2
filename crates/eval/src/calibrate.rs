//! A deployment's own operating point from its labelled stills (`livegate eval --calibrate`).
//!
//! The rule, measured before it was built (`training/experiments/local_calibration/`): of the
//! thresholds with the lowest ACER on the labelled stills, the one nearest the policy's. So
//! the operating point moves only as far as the deployment's own stills say it must; a sample
//! the policy's threshold already separates leaves it where it is. Each source's out-of-fold
//! scores, calibrated on 20 consecutive stills of each class and judged on the rest: pooled
//! ACER 12.3 → 11.2 % (the middle of the tied stretch instead: 11.7 %, and sources the policy
//! already served perfectly then lost up to 6 points; the stretch's far end, what this module
//! did until 2026-12-07: 11.4 %, and 13.1 % against 11.2 % from 5 stills of each).
//!
//! A deployment that states how many attacks it may let through (`--max-apcer`) gets instead
//! the lowest BPCER its stills allow within that APCER, again as near the policy's threshold
//! as the stills leave room for; one that states how many genuine users it may turn away
//! (`--max-bpcer`), the lowest APCER within that BPCER. With every rule the file also records the upper ends of the
//! 95 % intervals of the rates, because a few dozen stills vouch for little: none of 20 attacks
//! accepted is compatible with an APCER of 16 %.

use crate::interval;
use crate::metrics;
use crate::runner::Outcome;
use crate::{Class, Kind};
use liveness::operating_point::{Calibration, HeldOut, OperatingPoint, Rates, Rule};
use liveness::policy;
use liveness::report::PRESENTED_STEP;

/// Half the step of the scores this module sees (`livegate eval` reads them from the answers,
/// in thousandths). A threshold placed half a step off a score judges every still that shows
/// that score alike, whatever its unrounded score, so the service does with the chosen
/// threshold what the rates recorded here say.
const HALF_STEP: f32 = PRESENTED_STEP / 2.0;

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
    #[error(
        "no threshold keeps the APCER at or under {:.1} %: an attack scored {highest}, which no \
         threshold in (0, 1] refuses; check that capture's label, or allow more",
        100.0 * max_apcer
    )]
    ApcerOutOfReach { max_apcer: f32, highest: f32 },
    #[error(
        "no threshold keeps the BPCER at or under {:.1} %: a live still scored {lowest}, which no \
         threshold in (0, 1] accepts; check that capture's label, or allow more",
        100.0 * max_bpcer
    )]
    BpcerOutOfReach { max_bpcer: f32, lowest: f32 },
}

/// Of the thresholds with the lowest ACER on `bona` and `attacks`, the one nearest `prior`.
///
/// A still is accepted when its score is at or above the threshold, so each candidate score c
/// stands for the stretch (previous score, c], every threshold of which judges the stills
/// alike: when `prior` lies in a stretch of lowest ACER it is kept, otherwise the lowest-ACER
/// stretch nearest it gives the threshold, at its point nearest `prior` — half a score step
/// inside the stretch ([`HALF_STEP`]) and in (0, 1]. Each stretch's ACER is counted where its
/// threshold would be placed.
pub fn choose(bona: &[f32], attacks: &[f32], prior: f32) -> f32 {
    let mut cands: Vec<f32> = bona.iter().chain(attacks).copied().collect();
    cands.extend([0.0, 1.0 + 1e-6]);
    cands.sort_by(f32::total_cmp);
    cands.dedup();
    // The point of stretch i nearest `prior`.
    let placed = |i: usize| {
        let high = (cands[i] - HALF_STEP).clamp(f32::MIN_POSITIVE, 1.0);
        let low = match i {
            0 => f32::MIN_POSITIVE,
            _ => (cands[i - 1] + HALF_STEP).min(high),
        };
        prior.clamp(low, high)
    };
    let acer = |t: f32| metrics::acer(metrics::apcer(attacks, t), metrics::bpcer(bona, t));
    let errors: Vec<f32> = (0..cands.len()).map(|i| acer(placed(i))).collect();
    let best = errors.iter().copied().fold(f32::INFINITY, f32::min);
    if acer(prior) <= best + 1e-9 {
        return prior;
    }
    (0..cands.len())
        .filter(|&i| errors[i] <= best + 1e-9)
        .map(placed)
        .min_by(|a, b| (a - prior).abs().total_cmp(&(b - prior).abs()))
        .unwrap_or(prior)
}

/// The threshold with the lowest BPCER among those whose APCER on `attacks` is at most
/// `max_apcer`, and among those the lowest APCER; of the thresholds that then do exactly as
/// well on these stills, the one nearest `prior`. `None` when only a threshold above 1 would do.
///
/// A still is accepted at or above the threshold: it must lie above the highest attack that
/// must be refused, the one after the `⌊max_apcer · n⌋` highest, which may pass ([`settle`]).
pub fn within_apcer(bona: &[f32], attacks: &[f32], max_apcer: f32, prior: f32) -> Option<f32> {
    let mut high_first = attacks.to_vec();
    high_first.sort_by(|x, y| y.total_cmp(x));
    let Some(&refused) = high_first.get(allowed(max_apcer, high_first.len())) else {
        // the target lets every attack through: no live face need be refused
        return Some(settle(bona, attacks, None, prior));
    };
    (refused < 1.0).then(|| settle(bona, attacks, Some(refused), prior))
}

/// The threshold with the lowest APCER among those whose BPCER on `bona` is at most
/// `max_bpcer`, and among those the lowest BPCER; nearest `prior` among equals. `None` when
/// the live face that must be kept scored 0, which no threshold in (0, 1] accepts.
///
/// It must accept the live face after the `⌊max_bpcer · n⌋` lowest, which may be refused, so
/// it lies at or under that face's score; the attacks under it are refused wherever it lies
/// there, and it only has to stay above the highest of them ([`settle`]).
pub fn within_bpcer(bona: &[f32], attacks: &[f32], max_bpcer: f32, prior: f32) -> Option<f32> {
    let mut low_first = bona.to_vec();
    low_first.sort_by(f32::total_cmp);
    let kept = low_first
        .get(allowed(max_bpcer, low_first.len()))
        .copied()
        .unwrap_or(1.0);
    if kept <= 0.0 {
        return None;
    }
    let under = attacks
        .iter()
        .copied()
        .filter(|&s| s < kept)
        .reduce(f32::max);
    Some(settle(bona, attacks, under, prior))
}

/// How many of `n` stills a share lets through. The share comes as an f32 (0.45 is
/// 0.44999998…), so the product gets a relative slack well above f32's precision: 0.45 of 100
/// is 45, 0.05 of 20 is 1.
fn allowed(share: f32, n: usize) -> usize {
    (f64::from(share) * n as f64 * (1.0 + 1e-6)).floor() as usize
}

/// The best stretch above `floor` (an attack score that must be refused; `None`: none must):
/// the BPCER is lowest up to the first live score above it, b, and refusing every attack under
/// b costs no live face more, so the stretch is (a, b] with a the highest attack score under b.
/// Every threshold there refuses the same stills; of them the one nearest `prior`, at least
/// half a score step off a and b ([`HALF_STEP`]).
fn settle(bona: &[f32], attacks: &[f32], floor: Option<f32>, prior: f32) -> f32 {
    let above_floor = |s: &f32| floor.is_none_or(|f| *s > f);
    let b = bona.iter().copied().filter(above_floor).fold(1.0, f32::min);
    let a = attacks.iter().copied().filter(|&s| s < b).reduce(f32::max);
    let low = a.map_or(f32::MIN_POSITIVE, |a| a + HALF_STEP).min(1.0);
    let high = (b - HALF_STEP).clamp(low, 1.0);
    prior.clamp(low, high)
}

/// The operating point the labelled stills of `outcomes` support, for the PAD weights
/// `weights` (file, SHA-256). Videos are left out (their verdict fuses more than PAD), and so
/// are stills without a judgement.
pub fn operating_point(
    outcomes: &[Outcome],
    manifest: &str,
    weights: Vec<(String, String)>,
    rule: Rule,
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
    let upper = |errors: usize, n: usize| interval::wilson(errors, n).map(|i| i.high);
    let rates = |threshold| {
        let accepted = attacks.iter().filter(|&&s| s >= threshold).count();
        let refused = bona.iter().filter(|&&s| s < threshold).count();
        Rates {
            threshold,
            apcer: metrics::apcer(&attacks, threshold),
            bpcer: metrics::bpcer(&bona, threshold),
            apcer_upper_95: upper(accepted, attacks.len()),
            bpcer_upper_95: upper(refused, bona.len()),
        }
    };
    let prior = policy::IMAGE_REAL_THRESHOLD;
    let chosen = threshold(rule, &bona, &attacks, prior)?;
    Ok(OperatingPoint {
        image_real_threshold: chosen,
        pad_weights_sha256: weights,
        calibration: Calibration {
            manifest: manifest.to_string(),
            bona_fide: bona.len(),
            attacks: attacks.len(),
            unjudged: stills().count() - bona.len() - attacks.len(),
            rule,
            policy: rates(prior),
            chosen: rates(chosen),
            held_out: held_out(rule, &bona, &attacks, prior),
        },
    })
}

/// The threshold `rule` sets on these stills, or why a stated rate is out of reach.
fn threshold(rule: Rule, bona: &[f32], attacks: &[f32], prior: f32) -> Result<f32, CalibrateError> {
    match rule {
        Rule::LowestAcer => Ok(choose(bona, attacks, prior)),
        Rule::MaxApcer(max_apcer) => {
            within_apcer(bona, attacks, max_apcer, prior).ok_or(CalibrateError::ApcerOutOfReach {
                max_apcer,
                highest: attacks.iter().copied().fold(0.0, f32::max),
            })
        }
        Rule::MaxBpcer(max_bpcer) => {
            within_bpcer(bona, attacks, max_bpcer, prior).ok_or(CalibrateError::BpcerOutOfReach {
                max_bpcer,
                lowest: bona.iter().copied().fold(1.0, f32::min),
            })
        }
    }
}

/// Stretches of capture the held-out estimate cuts each class into (as `training/calibrate.py`
/// does for a deployment's own layer).
const ESTIMATE_PARTS: usize = 5;

/// How the rule does on stills it was not set on, within the sample: each class cut into
/// [`ESTIMATE_PARTS`] stretches in manifest order, each stretch judged at the threshold the
/// rule sets on the other four. It still flatters — the same sessions sit on both sides of
/// each cut — but it shows what a stated rate is worth on the next captures
/// (`training/experiments/local_calibration/stated_rate.py`: asked for 0 %, 6.3 % on the rest
/// of a source). `None` when a cut leaves a stated APCER out of reach.
fn held_out(rule: Rule, bona: &[f32], attacks: &[f32], prior: f32) -> Option<HeldOut> {
    let part =
        |v: &[f32], i: usize| v.len() * i / ESTIMATE_PARTS..v.len() * (i + 1) / ESTIMATE_PARTS;
    let without = |v: &[f32], i: usize| -> Vec<f32> {
        let r = part(v, i);
        v[..r.start].iter().chain(&v[r.end..]).copied().collect()
    };
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..ESTIMATE_PARTS {
        let t = threshold(rule, &without(bona, i), &without(attacks, i), prior).ok()?;
        accepted += attacks[part(attacks, i)]
            .iter()
            .filter(|&&s| s >= t)
            .count();
        refused += bona[part(bona, i)].iter().filter(|&&s| s < t).count();
    }
    Some(HeldOut {
        parts: ESTIMATE_PARTS,
        apcer: accepted as f32 / attacks.len() as f32,
        bpcer: refused as f32 / bona.len() as f32,
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
        // the policy's 0.43 accepts two attacks; every threshold in (0.55, 0.7] separates, and
        // the one nearest 0.43 is just past the highest attack
        let bona = [0.7, 0.8, 0.95];
        let attacks = [0.1, 0.5, 0.55];
        let t = choose(&bona, &attacks, 0.43);
        assert_eq!(t, 0.55 + HALF_STEP);
        assert_eq!(metrics::apcer(&attacks, t), 0.0);
        assert_eq!(metrics::bpcer(&bona, t), 0.0);
        // rejected live faces move it down, to the lowest-ACER candidate nearest the prior
        let bona = [0.2, 0.25, 0.9];
        let attacks = [0.05, 0.1];
        assert_eq!(choose(&bona, &attacks, 0.43), 0.2 - HALF_STEP);
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
        assert_eq!(t, 0.5 + HALF_STEP);
    }

    #[test]
    fn within_an_apcer_it_refuses_what_it_must_and_no_live_face_more() {
        let bona = [0.5, 0.6, 0.8, 0.9];
        let attacks = [0.1, 0.2, 0.3, 0.45, 0.55, 0.7];
        // none may pass: just above 0.7, where two live faces are lost
        let t = within_apcer(&bona, &attacks, 0.0, 0.43).unwrap();
        assert!(t > 0.7 && t <= 0.8, "{t}");
        assert_eq!(metrics::apcer(&attacks, t), 0.0);
        assert_eq!(metrics::bpcer(&bona, t), 0.5);
        // one of six may pass: refusing 0.55 is enough, and costs the live 0.5
        let t = within_apcer(&bona, &attacks, 0.17, 0.43).unwrap();
        assert!(t > 0.55 && t <= 0.6, "{t}");
        assert_eq!(metrics::apcer(&attacks, t), 1.0 / 6.0);
        assert_eq!(metrics::bpcer(&bona, t), 0.25);
        // two may pass: (0.45, 0.5] loses no live face; the prior is moved just into it ...
        let t = within_apcer(&bona, &attacks, 0.34, 0.43).unwrap();
        assert_eq!(t, 0.45 + HALF_STEP);
        assert_eq!(metrics::bpcer(&bona, t), 0.0);
        // ... and kept where it already lies in it
        assert_eq!(within_apcer(&bona, &attacks, 0.34, 0.48), Some(0.48));
        // an attack the target would let through is still refused when that costs nothing
        let t = within_apcer(&[0.9], &[0.3, 0.5, 0.6], 0.34, 0.43).unwrap();
        assert!(t > 0.6 && t <= 0.9, "{t}");
        // an attack scored 1.0 cannot be refused
        assert_eq!(within_apcer(&bona, &[0.2, 1.0], 0.0, 0.43), None);
    }

    #[test]
    fn within_a_bpcer_it_keeps_the_live_faces_it_must_and_refuses_every_attack_it_can() {
        let bona = [0.3, 0.5, 0.6, 0.8, 0.9];
        let attacks = [0.1, 0.2, 0.4, 0.55, 0.7];
        // no live face may go: under 0.3 (as near the prior as that allows), and only 0.1 and
        // 0.2 are refused ...
        let t = within_bpcer(&bona, &attacks, 0.0, 0.43).unwrap();
        assert_eq!(t, 0.3 - HALF_STEP);
        assert_eq!(metrics::bpcer(&bona, t), 0.0);
        assert_eq!(metrics::apcer(&attacks, t), 0.6);
        // ... one of five may go (0.3): 0.4 is refused too, still at no more live cost
        let t = within_bpcer(&bona, &attacks, 0.2, 0.43).unwrap();
        assert!(t > 0.4 && t <= 0.5, "{t}");
        assert_eq!(metrics::bpcer(&bona, t), 0.2);
        assert_eq!(metrics::apcer(&attacks, t), 0.4);
        // a prior already in that stretch stays
        assert_eq!(within_bpcer(&bona, &attacks, 0.2, 0.45), Some(0.45));
        // no attack under the live faces: nothing to gain, no live face is refused
        let t = within_bpcer(&[0.5, 0.6], &[0.7, 0.8], 0.0, 0.43).unwrap();
        assert_eq!(metrics::bpcer(&[0.5, 0.6], t), 0.0);
        // a live face scored 0 that must be kept: no threshold in (0, 1] accepts it
        assert_eq!(within_bpcer(&[0.0, 0.6], &[0.7], 0.0, 0.43), None);
        // the share is an f32: 0.45 of 100 lets 45 through, not 44
        assert_eq!(allowed(0.45, 100), 45);
        assert_eq!(allowed(0.05, 20), 1);
    }

    #[test]
    fn the_held_out_estimate_judges_each_stretch_by_the_others() {
        // the last stretch of attacks scores higher than the rest, as a new attack kind would
        let bona = [0.9; 20];
        let attacks: Vec<f32> = (0..20).map(|i| if i < 16 { 0.2 } else { 0.6 }).collect();
        let rule = Rule::MaxApcer(0.0);
        let t = threshold(rule, &bona, &attacks, 0.43).unwrap();
        assert_eq!(metrics::apcer(&attacks, t), 0.0);
        let h = held_out(rule, &bona, &attacks, 0.43).unwrap();
        // set on the first four stretches, the threshold stays at 0.43 and lets all four through
        assert_eq!((h.parts, h.apcer, h.bpcer), (5, 0.2, 0.0));
        // an attack at 1.0 in one stretch leaves the rule out of reach for the other four cuts
        let mut sure = attacks.clone();
        sure[0] = 1.0;
        assert!(held_out(rule, &bona, &sure, 0.43).is_none());
    }

    #[test]
    fn a_candidate_is_judged_where_it_is_placed() {
        // every attack above every live face: refusing everything (0.9995) and accepting
        // everything tie at ACER 0.5 — but "accepting everything" placed in (0, 1] would still
        // refuse the live faces scored 0, so it must not win
        let bona: Vec<f32> = [0.0; 10].into_iter().chain([0.9; 10]).collect();
        let attacks = [0.95; 20];
        let t = choose(&bona, &attacks, 0.43);
        let acer = metrics::acer(metrics::apcer(&attacks, t), metrics::bpcer(&bona, t));
        assert_eq!(acer, 0.5, "{t}");
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
        let p = operating_point(&outs, "m.tsv", vec![], Rule::LowestAcer).unwrap();
        assert_eq!(p.calibration.unjudged, 1);
        assert_eq!(
            (p.calibration.bona_fide, p.calibration.attacks),
            (need, need)
        );
        assert_eq!(p.calibration.policy.apcer, 1.0);
        assert_eq!(p.calibration.chosen.apcer, 0.0);
        // none of `need` attacks accepted still allows an APCER of several percent
        let bound = p.calibration.chosen.apcer_upper_95.unwrap();
        assert!(bound > 0.1 && bound < 0.2, "{bound}");
        let strict = operating_point(&outs, "m.tsv", vec![], Rule::MaxApcer(0.0)).unwrap();
        assert_eq!(strict.calibration.rule, Rule::MaxApcer(0.0));
        assert_eq!(strict.calibration.chosen.apcer, 0.0);
        let mut certain = outs.clone();
        certain.push(outcome("a-sure.jpg", "spoof", 1.0));
        let e = operating_point(&certain, "m.tsv", vec![], Rule::MaxApcer(0.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no threshold keeps the APCER"), "{e}");
        assert!(p.image_real_threshold > 0.5 && p.image_real_threshold <= 0.8);
        outs.truncate(need + need - 1);
        let e = operating_point(&outs, "m.tsv", vec![], Rule::LowestAcer)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("{} attack", need - 1)), "{e}");
    }
}
