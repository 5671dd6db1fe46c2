//! Blinks from the dense stream, with the eye model run only where the eyes changed.
//!
//! [`crate::eye_track`] gives every dense frame a cheap signal: how far its eye chips are from
//! the open-eye reference. A blink is a short excursion of that signal above its local level
//! that comes back down on both sides within [`policy::BLINK_MAX_SECONDS`]. Each excursion's
//! peak frame then goes to the eye model, and counts as a blink when its eye aspect ratio is
//! well below the video's open-eye baseline (taken from the frames the detector anchored,
//! where the eye model runs anyway). Gaze shifts and small tracking slips make excursions too;
//! the eye model is what tells them apart.

use crate::policy;
use serde::Serialize;

/// One dense frame's signal.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DenseSample {
    pub time_s: f64,
    /// See [`crate::eye_track::Followed::change`]; `None` when the eyes were not followed.
    pub change: Option<f32>,
}

/// A short rise of the eye-change signal: where the eye model should look.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Excursion {
    /// Index of the peak in the dense samples.
    pub peak: usize,
    pub start_s: f64,
    pub end_s: f64,
    /// Peak change above the local level.
    pub excess: f32,
}

/// An excursion after the eye model looked at its peak.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub time_s: f64,
    pub excess: f32,
    pub ear: f32,
    pub blink: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Blink {
    pub start_s: f64,
    pub end_s: f64,
    pub min_ear: f32,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BlinkReport {
    /// Dense frames looked at.
    pub samples: usize,
    /// Of which the eyes were followed.
    pub samples_with_face: usize,
    /// Open-eye aspect ratio of this video (80th percentile over the anchored frames).
    pub baseline_ear: f32,
    pub closed_below: f32,
    /// Every excursion the eye model checked, blink or not.
    pub checked: Vec<Checked>,
    /// The eye-change signal of every dense frame.
    pub series: Vec<DenseSample>,
    pub blinks: Vec<Blink>,
}

impl BlinkReport {
    pub fn detected(&self) -> bool {
        !self.blinks.is_empty()
    }
}

/// Excursions of the change signal, largest first, at most `limit`.
pub fn excursions(samples: &[DenseSample], limit: usize) -> Vec<Excursion> {
    let excess = excess_over_local_level(samples);
    let typical = {
        let mut all: Vec<f32> = samples.iter().filter_map(|s| s.change).collect();
        all.sort_by(f32::total_cmp);
        all.get(all.len() / 2).copied().unwrap_or(0.0)
    };
    let mut found = Vec::new();
    for i in 0..samples.len() {
        let Some(e) = excess[i] else { continue };
        if e < policy::BLINK_MIN_CHANGE_EXCESS {
            continue;
        }
        // A peak: no neighbour higher, and the first of a flat top.
        let left = i.checked_sub(1).and_then(|j| excess[j]);
        let right = excess.get(i + 1).copied().flatten();
        if left.is_some_and(|l| l >= e) || right.is_some_and(|r| r > e) {
            continue;
        }
        // Back down to half the peak on both sides, through followed frames only: a rise that
        // runs into a lost face or the video's ends is not known to have come back.
        let half = e / 2.0;
        let back = |range: &mut dyn Iterator<Item = usize>, below: &dyn Fn(usize) -> bool| {
            for j in range {
                match excess[j] {
                    Some(x) if x <= half && below(j) => return Some(j),
                    Some(_) => continue,
                    None => return None,
                }
            }
            None
        };
        // The rise starts from eyes as open as usual in this video (not from a closure).
        let usual = |j: usize| {
            samples[j]
                .change
                .is_some_and(|c| c <= typical + policy::BLINK_MIN_CHANGE_EXCESS)
        };
        let Some(start) = back(&mut (0..i).rev(), &usual) else {
            continue;
        };
        // Back down in absolute terms too, to halfway between the level before the rise and
        // the peak: eyes that close and stay shut lift the local level until the peak no
        // longer stands out, without ever reopening.
        let (before, peak) = (samples[start].change, samples[i].change);
        let reopened = |j: usize| match (samples[j].change, before, peak) {
            (Some(c), Some(b), Some(p)) => c <= b + (p - b) / 2.0,
            _ => false,
        };
        let Some(end) = back(&mut (i + 1..samples.len()), &reopened) else {
            continue;
        };
        let (start_s, end_s) = (samples[start].time_s, samples[end].time_s);
        if end_s - start_s > policy::BLINK_MAX_SECONDS {
            continue;
        }
        found.push(Excursion {
            peak: i,
            start_s,
            end_s,
            excess: e,
        });
    }
    found.sort_by(|a, b| b.excess.total_cmp(&a.excess));
    found.truncate(limit);
    found
}

/// The peaks of the excursions in `samples` (a prefix of the dense stream) that later samples
/// can no longer move: each ends at least half a level window before the latest sample, so its
/// local levels and its way back down are already known. Only the video's typical level (a
/// median over all samples) can still change, so these are very likely the final
/// [`excursions`]' peaks, and the eye model can look at them while the video is still decoding
/// (the final list decides; a peak looked at in vain costs one look).
pub fn settled_peaks(samples: &[DenseSample], limit: usize) -> Vec<usize> {
    let Some(latest) = samples.last().map(|s| s.time_s) else {
        return Vec::new();
    };
    let settled_before = latest - policy::BLINK_LEVEL_WINDOW_S / 2.0;
    excursions(samples, limit)
        .into_iter()
        .filter(|x| x.end_s <= settled_before)
        .map(|x| x.peak)
        .collect()
}

/// Each sample's change minus the median change of the followed samples around it.
fn excess_over_local_level(samples: &[DenseSample]) -> Vec<Option<f32>> {
    let half = policy::BLINK_LEVEL_WINDOW_S / 2.0;
    let mut lo = 0;
    let mut hi = 0;
    let mut window = Vec::new();
    samples
        .iter()
        .map(|s| {
            let c = s.change?;
            while samples[lo].time_s < s.time_s - half {
                lo += 1;
            }
            while hi < samples.len() && samples[hi].time_s <= s.time_s + half {
                hi += 1;
            }
            window.clear();
            window.extend(samples[lo..hi].iter().filter_map(|x| x.change));
            window.sort_by(f32::total_cmp);
            Some(c - window[window.len() / 2])
        })
        .collect()
}

/// Judges the checked excursions against the open-eye baseline of `anchored_ears`.
pub fn judge(
    samples: &[DenseSample],
    anchored_ears: &[f32],
    looked_at: &[(Excursion, f32)],
) -> BlinkReport {
    let mut report = BlinkReport {
        series: samples.to_vec(),
        samples: samples.len(),
        samples_with_face: samples.iter().filter(|s| s.change.is_some()).count(),
        ..Default::default()
    };
    let mut ears = anchored_ears.to_vec();
    if ears.len() < policy::BLINK_MIN_ANCHORS {
        return report;
    }
    ears.sort_by(f32::total_cmp);
    let baseline = ears[(ears.len() - 1) * 8 / 10];
    let closed = baseline * policy::BLINK_CLOSED_RATIO;
    report.baseline_ear = baseline;
    report.closed_below = closed;
    let mut looked_at = looked_at.to_vec();
    looked_at.sort_by(|a, b| a.0.start_s.total_cmp(&b.0.start_s));
    for (x, ear) in looked_at {
        let blink = ear < closed;
        report.checked.push(Checked {
            time_s: samples[x.peak].time_s,
            excess: x.excess,
            ear,
            blink,
        });
        if !blink {
            continue;
        }
        // One blink can show two peaks (closing, reopening): overlapping ones are one blink.
        match report.blinks.last_mut() {
            Some(b) if x.start_s < b.end_s => {
                b.end_s = b.end_s.max(x.end_s);
                b.min_ear = b.min_ear.min(ear);
            }
            _ => report.blinks.push(Blink {
                start_s: x.start_s,
                end_s: x.end_s,
                min_ear: ear,
            }),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[Option<f32>]) -> Vec<DenseSample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &change)| DenseSample {
                time_s: i as f64 / 15.0,
                change,
            })
            .collect()
    }

    fn steady(n: usize) -> Vec<Option<f32>> {
        (0..n).map(|i| Some(0.05 + 0.01 * (i % 3) as f32)).collect()
    }

    #[test]
    fn a_peak_is_settled_once_the_level_window_has_passed_its_end() {
        let mut v = steady(60);
        v[10] = Some(0.3);
        v[11] = Some(0.5);
        v[12] = Some(0.2);
        let all = series(&v);
        // The excursion ends at sample 13 (0.87 s); half a level window later it is settled.
        assert!(settled_peaks(&all[..14], 10).is_empty());
        assert!(settled_peaks(&all[..20], 10).is_empty());
        assert_eq!(settled_peaks(&all[..25], 10), vec![11]);
        // The final list holds the same peak: the early look is the one the end would take.
        let final_peaks: Vec<usize> = excursions(&all, 10).iter().map(|x| x.peak).collect();
        assert_eq!(final_peaks, vec![11]);
    }

    #[test]
    fn a_short_rise_is_an_excursion_and_a_lasting_change_is_not() {
        let mut v = steady(60);
        v[10] = Some(0.3);
        v[11] = Some(0.5);
        v[12] = Some(0.2);
        // A change that stays (a new expression, a slipped track) for 1.3 s.
        for x in v.iter_mut().skip(30).take(20) {
            *x = Some(0.5);
        }
        let found = excursions(&series(&v), 10);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].peak, 11);
        assert!(found[0].start_s < 11.0 / 15.0 && found[0].end_s > 11.0 / 15.0);
    }

    #[test]
    fn eyes_that_close_and_stay_shut_are_not_an_excursion() {
        let mut v = steady(90);
        // Shut for 1.3 s, with the jitter of a shut eye: the local level catches up with the
        // closure and a wobble in it stands out, but the eyes do not reopen within 0.7 s.
        for (k, x) in v.iter_mut().enumerate().skip(20).take(20) {
            *x = Some(if k == 24 {
                0.75
            } else {
                0.55 + 0.02 * (k % 2) as f32
            });
        }
        let found = excursions(&series(&v), 10);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_rise_into_a_lost_face_or_the_end_is_not_an_excursion() {
        let mut v = steady(40);
        v[20] = Some(0.5);
        v[21] = None;
        v[38] = Some(0.6);
        v[39] = Some(0.6);
        assert!(excursions(&series(&v), 10).is_empty());
    }

    #[test]
    fn the_eye_model_decides_which_excursions_are_blinks() {
        let mut v = steady(60);
        v[10] = Some(0.5);
        v[40] = Some(0.4);
        let s = series(&v);
        let found = excursions(&s, 10);
        assert_eq!(found.len(), 2);
        let ears = [0.30, 0.31, 0.29, 0.30];
        let looked: Vec<(Excursion, f32)> = found
            .iter()
            .map(|x| (*x, if x.peak == 10 { 0.08 } else { 0.28 }))
            .collect();
        let r = judge(&s, &ears, &looked);
        assert_eq!(r.blinks.len(), 1, "{r:?}");
        assert_eq!(r.checked.len(), 2);
        assert!((r.blinks[0].min_ear - 0.08).abs() < 1e-6);
        // Too few anchored frames for a baseline: nothing is decided.
        assert!(!judge(&s, &ears[..1], &looked).detected());
    }

    #[test]
    fn two_peaks_of_one_blink_count_once() {
        let mut v = steady(40);
        v[10] = Some(0.45);
        v[11] = Some(0.3);
        v[12] = Some(0.5);
        let s = series(&v);
        let found = excursions(&s, 10);
        assert_eq!(found.len(), 2, "{found:?}");
        let looked: Vec<(Excursion, f32)> = found.iter().map(|x| (*x, 0.1)).collect();
        let r = judge(&s, &[0.3, 0.3, 0.3], &looked);
        assert_eq!(r.blinks.len(), 1, "{r:?}");
        assert_eq!(r.checked.len(), 2);
    }

    #[test]
    fn the_limit_keeps_the_largest() {
        let mut v = steady(90);
        for (k, i) in [10usize, 30, 50, 70].iter().enumerate() {
            v[*i] = Some(0.2 + 0.1 * k as f32);
        }
        let found = excursions(&series(&v), 2);
        assert_eq!(
            found.iter().map(|x| x.peak).collect::<Vec<_>>(),
            vec![70, 50]
        );
    }
}
