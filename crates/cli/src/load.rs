//! Loading the models once and wiring them into the analysis.

use anyhow::Context;
use liveness::{Analyzer, Models};
use vision::blazeface::DetectorConfig;
use vision::{ModelStore, Vision, VisionOptions};

/// The analyzer over the models in the default store (`LIVEGATE_MODEL_DIR` or the XDG cache).
/// Required models that are missing are fetched first; the optional MiniFASNet pair is used
/// when it has been fetched.
pub fn analyzer() -> anyhow::Result<Analyzer> {
    let store = ModelStore::open_default().context("cannot open the model store")?;
    analyzer_from(&store)
}

pub fn analyzer_from(store: &ModelStore) -> anyhow::Result<Analyzer> {
    let missing: Vec<_> = vision::ModelId::required()
        .filter(|id| !store.is_available(*id))
        .collect();
    if !missing.is_empty() {
        eprintln!("fetching {} missing model file(s)…", missing.len());
        store
            .ensure(&missing)
            .context("cannot fetch the required models")?;
    }
    let options = VisionOptions {
        detector: DetectorConfig {
            skip_tiles_beside_face: liveness::policy::SKIP_TILES_BESIDE_FACE,
            ..DetectorConfig::default()
        },
        ..VisionOptions::default()
    };
    let v = Vision::load_with(store, &options).context("cannot load the models")?;
    tracing::info!(
        load_ms = v.load_time.as_millis() as u64,
        pad_models = ?v.pad.iter().map(|p| p.name()).collect::<Vec<_>>(),
        embedder = v.embedder.name(),
        "models loaded"
    );
    Ok(Analyzer::new(Models {
        detector: v.detector,
        eyes: v.eyes,
        embedder: v.embedder,
        mesh: v.mesh,
        pad: v.pad,
    }))
}
