//! Which replicas judge a batch. Replicas sharing one store may score with different PAD
//! weights or thresholds for a while (a rolling change of the layer, one replica with its own
//! operating point); left alone they would share every batch, and one batch's verdicts would
//! flip with the replica that happened to take each item. So a batch is pinned to the judging
//! of the replica that admitted it: only replicas that judge alike take its items, unless none
//! of them has taken one for `grace` (they are gone: the rolling change is over) — then any
//! replica finishes it, and the results name the weights and threshold each verdict applied.

use crate::store::weights_column;
use liveness::Judging;
use std::time::Duration;

/// A replica's judging as the store compares it: its PAD graphs and still threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgingKey(String);

impl JudgingKey {
    /// `None` (an analyser without models) is a judging of its own.
    pub fn of(judging: Option<&Judging>) -> Self {
        Self(match judging {
            // The shortest text that reads back as the same f32: equal thresholds, equal text.
            Some(j) => format!(
                "{} @ {}",
                weights_column(&j.pad_weights).unwrap_or_default(),
                j.image_real_threshold
            ),
            None => String::new(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a claim may take: batches pinned to `key` (or to nothing, stored before pinning), and
/// any batch whose own replicas have not taken an item for `grace`.
#[derive(Debug, Clone)]
pub struct Pin {
    pub key: JudgingKey,
    pub grace: Duration,
}
