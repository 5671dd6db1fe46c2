//! A deployment's own operating point: the still threshold set on the deployment's own
//! labelled captures (`livegate eval --calibrate FILE`), which the service judges at when
//! `LIVEGATE_OPERATING_POINT` names that file.
//!
//! Why: the PAD score ranks live faces above attacks within almost every source (LOSO AUC
//! ≥ 0.89, six sources ≥ 0.99), but where a source's scores sit moves with its people, phones
//! and screens, so the policy's threshold, chosen on the training sources, lands wrong for
//! some (README, "where the model fails": `viguardieiro` AUC 1.000 with 49 % of its replays
//! accepted). A deployment can label a few dozen of its own captures; the threshold they
//! support is worth more to it than one chosen on other people's.

use crate::fusion::FusionWeights;
use crate::policy;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The still threshold a deployment judges at, with what it was set on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// A still is `real` at or above this live score; the video threshold moves with it
    /// ([`policy::fusion_at`]).
    pub image_real_threshold: f32,
    /// SHA-256 of each file of the PAD model it was set for (as `training/MODEL_CARD.md` lists
    /// them): a threshold means nothing for other weights.
    pub pad_weights_sha256: Vec<(String, String)>,
    pub calibration: Calibration,
}

/// What the threshold was chosen on, and how the policy's and the chosen one did there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The labelled manifest, as given on the command line.
    pub manifest: String,
    pub bona_fide: usize,
    pub attacks: usize,
    /// Labelled stills the analysis could not judge (no usable face, undecodable): left out.
    pub unjudged: usize,
    /// How the threshold was chosen (files written before rules could be chosen: the default).
    #[serde(default)]
    pub rule: Rule,
    pub policy: Rates,
    /// In-sample: judge it on captures it was not chosen on before trusting these figures.
    pub chosen: Rates,
    /// The rule's rates on stills it was not set on, within the sample (absent in older files,
    /// and when a cut of the sample left a stated rate out of reach).
    #[serde(default)]
    pub held_out: Option<HeldOut>,
}

/// Each of `parts` stretches of each class (in manifest order) judged at the threshold the
/// rule set on the other stretches: what the next captures might see, if they resemble these.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    pub parts: usize,
    pub apcer: f32,
    pub bpcer: f32,
}

/// How a deployment's threshold is chosen on its labelled stills.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Of the thresholds with the lowest ACER, the one nearest the policy's: errors of both
    /// kinds weigh alike.
    #[default]
    LowestAcer,
    /// The lowest BPCER among the thresholds whose APCER is at most this share, nearest the
    /// policy's among equals: a deployment that states how many attacks it may let through.
    MaxApcer(f32),
    /// The lowest APCER among the thresholds whose BPCER is at most this share: a deployment
    /// that states how many of its genuine users it may turn away.
    MaxBpcer(f32),
}

/// APCER and BPCER of the calibration stills at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub threshold: f32,
    pub apcer: f32,
    pub bpcer: f32,
    /// Upper ends of the 95 % (Wilson) intervals of the two rates: what so few stills can
    /// vouch for (0 of 20 attacks accepted is compatible with 16 %). Absent in older files.
    #[serde(default)]
    pub apcer_upper_95: Option<f32>,
    #[serde(default)]
    pub bpcer_upper_95: Option<f32>,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatingPointError {
    // `cause`, not `source`: as the error's source, `{e:#}` would print it a second time.
    #[error("cannot read the operating point {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("the operating point {path} is not valid: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "the operating point was set for other PAD weights ({found}); this build scores with \
         {expected}: set it again with `livegate eval --calibrate`"
    )]
    OtherModel { found: String, expected: String },
}

impl OperatingPoint {
    /// Reads and checks a file written by `livegate eval --calibrate`.
    pub fn load(path: &Path) -> Result<Self, OperatingPointError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| OperatingPointError::Read {
            path: shown.clone(),
            cause,
        })?;
        let invalid = |message: String| OperatingPointError::Invalid {
            path: shown.clone(),
            message,
        };
        let point: OperatingPoint =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let t = point.image_real_threshold;
        if !(t > 0.0 && t <= 1.0) {
            return Err(invalid(format!(
                "image_real_threshold {t} is not a live score in (0, 1]"
            )));
        }
        Ok(point)
    }

    /// The policy's fusion at this threshold.
    pub fn fusion(&self) -> FusionWeights {
        policy::fusion_at(self.image_real_threshold)
    }

    /// Refuses a point set for other weights than `expected` (file name, SHA-256).
    pub fn check_model(&self, expected: &[(String, String)]) -> Result<(), OperatingPointError> {
        if self.pad_weights_sha256 == expected {
            return Ok(());
        }
        let list = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(n, h)| format!("{n} {}", &h[..h.len().min(12)]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(OperatingPointError::OtherModel {
            found: list(&self.pad_weights_sha256),
            expected: list(expected),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(threshold: f32) -> OperatingPoint {
        let rates = Rates {
            threshold,
            apcer: 0.0,
            bpcer: 0.0,
            apcer_upper_95: Some(0.161),
            bpcer_upper_95: Some(0.161),
        };
        OperatingPoint {
            image_real_threshold: threshold,
            pad_weights_sha256: vec![("crop_27.onnx".into(), "ab".repeat(32))],
            calibration: Calibration {
                manifest: "m.tsv".into(),
                bona_fide: 20,
                attacks: 20,
                unjudged: 0,
                rule: Rule::MaxApcer(0.05),
                policy: rates,
                chosen: rates,
                held_out: Some(HeldOut {
                    parts: 5,
                    apcer: 0.05,
                    bpcer: 0.1,
                }),
            },
        }
    }

    fn written(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn a_written_point_loads_back_and_moves_both_thresholds() {
        let f = written(&serde_json::to_string(&point(0.6)).unwrap());
        let p = OperatingPoint::load(f.path()).unwrap();
        assert_eq!(p, point(0.6));
        let w = p.fusion();
        assert_eq!(w.image_real_threshold, 0.6);
        assert_eq!(w.result_real_threshold, policy::result_real_threshold(0.6));
        assert!(w.result_real_threshold > policy::FUSION.result_real_threshold);
        assert_eq!(
            policy::fusion_at(policy::IMAGE_REAL_THRESHOLD),
            policy::FUSION
        );
    }

    #[test]
    fn the_rule_is_written_by_name_and_files_from_before_rules_still_load() {
        let text = serde_json::to_string(&point(0.6)).unwrap();
        assert!(text.contains(r#""rule":{"max_apcer":0.05}"#), "{text}");
        let rates = r#"{"threshold": 0.5, "apcer": 0.1, "bpcer": 0.0}"#;
        let older = format!(
            r#"{{"image_real_threshold": 0.5, "pad_weights_sha256": [],
                "calibration": {{"manifest": "m.tsv", "bona_fide": 20, "attacks": 20,
                "unjudged": 0, "policy": {rates}, "chosen": {rates}}}}}"#
        );
        let p = OperatingPoint::load(written(&older).path()).unwrap();
        assert_eq!(p.calibration.rule, Rule::LowestAcer);
        assert_eq!(p.calibration.chosen.apcer_upper_95, None);
        assert_eq!(p.calibration.held_out, None);
        assert_eq!(p.image_real_threshold, 0.5);
    }

    #[test]
    fn a_threshold_that_is_no_live_score_or_a_broken_file_is_refused_with_the_reason() {
        for bad in [0.0, -0.2, 1.5] {
            let f = written(&serde_json::to_string(&point(bad)).unwrap());
            let e = OperatingPoint::load(f.path()).unwrap_err().to_string();
            assert!(e.contains("is not a live score"), "{e}");
        }
        let e = OperatingPoint::load(written("{\"image_real_threshold\": 0.5}").path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not valid") && e.contains("pad_weights_sha256"),
            "{e}"
        );
        let e = OperatingPoint::load(Path::new("/nonexistent/op.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn a_point_set_for_other_weights_is_refused() {
        let p = point(0.5);
        assert!(
            p.check_model(&[("crop_27.onnx".into(), "ab".repeat(32))])
                .is_ok()
        );
        let e = p
            .check_model(&[("crop_27.onnx".into(), "cd".repeat(32))])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("other PAD weights") && e.contains("cdcdcd"),
            "{e}"
        );
        assert!(p.check_model(&[]).is_err());
    }
}
