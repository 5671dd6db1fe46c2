//! [`Models`]: the models the analysis uses, loaded once and shared, with the policy's settings.
//!
//! [`Models::load`] is the one wiring of the models: `serve`, `check`, `batch`, `crops`, `eval`,
//! the benches and the tests all call it, so they cannot run differently configured models.

use crate::policy;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;
use vision::blazeface::DetectorConfig;
use vision::pad::LivegatePad;
use vision::{ModelStore, PadId, Vision, VisionError, VisionOptions};

/// (file name, SHA-256) of each graph of the Livegate PAD model; shared, because every
/// analysis carries it (`Analysis::pad_weights`).
pub type PadWeights = Arc<[(String, String)]>;

/// The weights as every report names them: file name → SHA-256, in file-name order.
pub fn by_file(weights: &[(String, String)]) -> BTreeMap<&str, &str> {
    weights
        .iter()
        .map(|(file, sha256)| (file.as_str(), sha256.as_str()))
        .collect()
}

/// Vision's loaded models (behind its narrow traits), configured as the policy says.
#[derive(Clone, Debug)]
pub struct Models {
    vision: Vision,
    /// The shipped graphs' hashes, or a deployment's own layer's ([`Models::with_own_layer`]).
    pad_weights: PadWeights,
}

impl Models {
    /// Loads every installed model from `store`. Required models that are missing fail with the
    /// store's "run `livegate models fetch`" message; optional ones are used when present.
    pub fn load(store: &ModelStore) -> Result<Self, VisionError> {
        let options = VisionOptions {
            detector: DetectorConfig {
                skip_tiles_beside_face: policy::SKIP_TILES_BESIDE_FACE,
                short_range_suffices: policy::SHORT_RANGE_SUFFICES,
                short_range_max_face: policy::SHORT_RANGE_MAX_FACE,
                ..DetectorConfig::default()
            },
            ..VisionOptions::default()
        };
        let v = Vision::load_with(store, &options)?;
        let pad_weights = owned(LivegatePad::weights_sha256().as_slice());
        // Which weights judge is logged at every start, the shipped ones too (the README
        // says so; a deployment's own layer logs its own in `livegate::load`).
        tracing::info!(
            load_ms = v.load_time.as_millis() as u64,
            pad_models = ?v.pad_names(),
            pad_weights = ?pad_weights,
            embedder = v.embedder.name(),
            "models loaded"
        );
        Ok(Models {
            vision: v,
            pad_weights,
        })
    }

    /// The same models scoring with `pad`, a deployment's own layer (`training/calibrate.sh`)
    /// or a leave-one-source-out fold model, in place of the shipped Livegate PAD model;
    /// `None` when no Livegate PAD model is loaded.
    pub fn with_own_layer(&self, pad: LivegatePad) -> Option<Self> {
        let pad_weights = owned(pad.sha256());
        let mut vision = self.vision.clone();
        let slot = vision
            .pad
            .iter_mut()
            .find(|m| m.id() == PadId::LivegatePad)?;
        *slot = Arc::new(pad);
        Some(Models {
            vision,
            pad_weights,
        })
    }

    /// (file name, SHA-256) of each graph of the Livegate PAD model that scores.
    pub fn pad_weights(&self) -> &PadWeights {
        &self.pad_weights
    }
}

/// The analysis reads the models as vision holds them (`models.detector`, `models.pad`, …):
/// one set of fields, not a copy.
impl Deref for Models {
    type Target = Vision;

    fn deref(&self) -> &Vision {
        &self.vision
    }
}

fn owned(weights: &[(&str, String)]) -> PadWeights {
    weights
        .iter()
        .map(|(name, hash)| (name.to_string(), hash.clone()))
        .collect()
}
