//! The review band: how many stills score within [`policy::REVIEW_MARGIN`] of the threshold they
//! were judged at, and how many of the errors are among them. An integrator who sends such stills
//! to a person trades the first share of traffic for the second share of errors; the rest of the
//! errors are confident ones that no band catches.

use liveness::policy;
use serde::Serialize;

/// One still with a verdict: was it wrong, and did it score near its threshold?
#[derive(Debug, Clone, Copy)]
pub struct Judged {
    pub wrong: bool,
    pub near: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewBand {
    pub margin: f32,
    /// Stills with a verdict (bona fide and attacks, errors of the harness left out).
    pub stills: usize,
    pub in_band: usize,
    pub wrong: usize,
    pub wrong_in_band: usize,
    /// `in_band / stills`: the share a person would look at.
    pub share: f32,
    /// `wrong_in_band / wrong`: the share of the errors that person would see.
    pub error_share: f32,
    /// How often a still outside the band is wrong.
    pub wrong_outside: f32,
}

pub fn build(judged: impl IntoIterator<Item = Judged>) -> ReviewBand {
    let (mut stills, mut in_band, mut wrong, mut wrong_in_band) = (0, 0, 0, 0);
    for j in judged {
        stills += 1;
        in_band += usize::from(j.near);
        wrong += usize::from(j.wrong);
        wrong_in_band += usize::from(j.wrong && j.near);
    }
    ReviewBand {
        margin: policy::REVIEW_MARGIN,
        stills,
        in_band,
        wrong,
        wrong_in_band,
        share: ratio(in_band, stills),
        error_share: ratio(wrong_in_band, wrong),
        wrong_outside: ratio(wrong - wrong_in_band, stills - in_band),
    }
}

fn ratio(n: usize, d: usize) -> f32 {
    if d == 0 {
        f32::NAN
    } else {
        n as f32 / d as f32
    }
}

/// The line printed under a table.
pub fn line(r: &ReviewBand) -> String {
    use crate::report::pct;
    format!(
        "review band ±{:.2} of the threshold: {} of the stills ({}/{}), {} of the errors ({}/{}); \
         outside it {} wrong\n",
        r.margin,
        pct(r.share),
        r.in_band,
        r.stills,
        pct(r.error_share),
        r.wrong_in_band,
        r.wrong,
        pct(r.wrong_outside),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_count_the_band_and_the_errors_in_it() {
        let j = |wrong, near| Judged { wrong, near };
        // 10 stills: 2 in the band (one wrong), 8 outside (one wrong).
        let mut all = vec![j(true, true), j(false, true), j(true, false)];
        all.extend(std::iter::repeat_n(j(false, false), 7));
        let r = build(all);
        assert_eq!(
            (r.stills, r.in_band, r.wrong, r.wrong_in_band),
            (10, 2, 2, 1)
        );
        assert!((r.share - 0.2).abs() < 1e-6);
        assert!((r.error_share - 0.5).abs() < 1e-6);
        assert!((r.wrong_outside - 1.0 / 8.0).abs() < 1e-6);
        assert!(line(&r).contains("20.0% of the stills (2/10), 50.0% of the errors (1/2)"));
    }

    #[test]
    fn no_errors_leaves_the_error_share_undefined() {
        let r = build([Judged {
            wrong: false,
            near: true,
        }]);
        assert!(r.error_share.is_nan() && r.wrong_outside.is_nan());
        assert_eq!(r.share, 1.0);
    }
}
