//! The one weighted combination of PAD models, used by the analysis (with the policy's
//! weights) and by the benches. The weights are policy (measured, owned by the liveness crate),
//! so they are given, not chosen here.

use std::sync::Arc;

use image::RgbImage;

use crate::face::{Face, PadModel, VisionError};

pub struct Ensemble {
    members: Vec<(Arc<dyn PadModel>, f32)>,
}

/// Every member's score, for evidence in reports.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleScore {
    pub combined: f32,
    pub members: Vec<(&'static str, f32)>,
}

impl Ensemble {
    /// Members with non-positive or non-finite weights are dropped; at least one must remain.
    pub fn new(members: Vec<(Arc<dyn PadModel>, f32)>) -> Result<Ensemble, VisionError> {
        let members: Vec<_> = members
            .into_iter()
            .filter(|(_, w)| w.is_finite() && *w > 0.0)
            .collect();
        if members.is_empty() {
            return Err(VisionError::ModelMissing {
                model: "pad ensemble".into(),
                message: "no PAD model with a positive weight".into(),
            });
        }
        Ok(Ensemble { members })
    }

    pub fn members(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        self.members.iter().map(|(m, w)| (m.name(), *w))
    }

    /// The weighted mean of the members' live scores, with each member's own score.
    pub fn score(&self, image: &RgbImage, face: &Face) -> Result<EnsembleScore, VisionError> {
        let mut total = 0.0;
        let mut weights = 0.0;
        let mut members = Vec::with_capacity(self.members.len());
        for (model, weight) in &self.members {
            let s = model.live_score(image, face)?;
            members.push((model.name(), s));
            total += s * weight;
            weights += weight;
        }
        Ok(EnsembleScore {
            combined: total / weights,
            members,
        })
    }
}
