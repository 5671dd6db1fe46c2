//! Blinks from an eye-openness time series.
//!
//! A blink is a short dip of the eye aspect ratio well below the video's own open-eye
//! baseline that comes back up. The baseline is per video (people's eyes differ), taken as a
//! high percentile so that the blinks themselves do not drag it down.

use crate::policy;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct EyeSample {
    pub time_s: f64,
    /// Mean eye aspect ratio of both eyes; `None` when no usable face was in the frame.
    pub ear: Option<f32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Blink {
    pub start_s: f64,
    pub end_s: f64,
    pub min_ear: f32,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BlinkReport {
    pub samples: usize,
    pub samples_with_face: usize,
    pub baseline_ear: f32,
    pub closed_below: f32,
    pub blinks: Vec<Blink>,
}

impl BlinkReport {
    pub fn detected(&self) -> bool {
        !self.blinks.is_empty()
    }
}

/// The fewest samples with a face for a baseline to mean anything (about a second of video).
const MIN_SAMPLES: usize = 10;

pub fn detect(samples: &[EyeSample]) -> BlinkReport {
    let mut ears: Vec<f32> = samples.iter().filter_map(|s| s.ear).collect();
    let mut report = BlinkReport {
        samples: samples.len(),
        samples_with_face: ears.len(),
        ..Default::default()
    };
    if ears.len() < MIN_SAMPLES {
        return report;
    }
    ears.sort_by(f32::total_cmp);
    let baseline = ears[(ears.len() - 1) * 8 / 10];
    let closed = baseline * policy::BLINK_CLOSED_RATIO;
    let reopen = baseline * policy::BLINK_REOPEN_RATIO;
    report.baseline_ear = baseline;
    report.closed_below = closed;

    // Walk the samples; a run of closed samples is bounded by open ones on both sides.
    let mut i = 0;
    while i < samples.len() {
        let Some(e) = samples[i].ear else {
            i += 1;
            continue;
        };
        if e >= closed {
            i += 1;
            continue;
        }
        let start = i;
        let mut min_ear = e;
        let mut j = i;
        while j < samples.len() && samples[j].ear.is_some_and(|e| e < reopen) {
            min_ear = min_ear.min(samples[j].ear.unwrap_or(min_ear));
            j += 1;
        }
        // Open before and after: a run that touches the start, the end or a lost face is
        // ambiguous (the eye may have been shut all along) and does not count.
        let opened_before = start > 0 && samples[start - 1].ear.is_some_and(|e| e >= reopen);
        let opened_after = j < samples.len() && samples[j].ear.is_some_and(|e| e >= reopen);
        let start_s = samples[start].time_s;
        let end_s = samples[j.saturating_sub(1)].time_s;
        if opened_before && opened_after && end_s - start_s <= policy::BLINK_MAX_SECONDS {
            report.blinks.push(Blink {
                start_s,
                end_s,
                min_ear,
            });
        }
        i = j.max(i + 1);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f32]) -> Vec<EyeSample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| EyeSample {
                time_s: i as f64 / 15.0,
                ear: Some(v),
            })
            .collect()
    }

    #[test]
    fn a_short_dip_is_a_blink_and_a_long_closure_is_not() {
        let mut v = vec![0.32; 30];
        v[10] = 0.12;
        v[11] = 0.10;
        for x in v.iter_mut().skip(18).take(14) {
            *x = 0.1;
        }
        v.extend([0.32; 10]);
        let r = detect(&series(&v));
        assert_eq!(r.blinks.len(), 1, "{r:?}");
        assert!((r.blinks[0].start_s - 10.0 / 15.0).abs() < 1e-6);
    }

    #[test]
    fn steady_eyes_have_no_blink() {
        let v: Vec<f32> = (0..60).map(|i| 0.30 + 0.01 * ((i % 3) as f32)).collect();
        assert!(!detect(&series(&v)).detected());
    }

    #[test]
    fn too_few_samples_decide_nothing() {
        assert!(!detect(&series(&[0.3, 0.1, 0.3])).detected());
    }
}
