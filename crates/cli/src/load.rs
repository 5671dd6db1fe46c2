//! The analyzer over the installed models: provisioning here, wiring in [`Models::load`].

use anyhow::Context;
use liveness::{Analyzer, Models, OperatingPoint};
use vision::ModelStore;

/// The analyzer over the models in the default store (`LIVEGATE_MODEL_DIR` or the XDG cache).
/// Required models that are missing are fetched first; optional ones are used when they have
/// been fetched.
pub fn analyzer() -> anyhow::Result<Analyzer> {
    let store = ModelStore::open_default().context("cannot open the model store")?;
    let missing: Vec<_> = vision::ModelId::required()
        .filter(|id| !store.is_available(*id))
        .collect();
    if !missing.is_empty() {
        eprintln!("fetching {} missing model file(s)…", missing.len());
        store
            .ensure(&missing)
            .context("cannot fetch the required models")?;
    }
    let models = Models::load(&store).context("cannot load the models")?;
    let models = with_configured_layer(models, &store)?;
    at_configured_operating_point(Analyzer::new(models))
}

/// The models scoring with the deployment's own PAD layer from the folder `LIVEGATE_PAD_DIR`
/// names (written by `training/calibrate.sh`), or with the shipped one when it is unset. As
/// with the operating point, a folder that cannot be used stops the start, and every replica
/// of one deployment must be given the same folder.
fn with_configured_layer(models: Models, store: &ModelStore) -> anyhow::Result<Models> {
    let Some(dir) = std::env::var_os("LIVEGATE_PAD_DIR").filter(|p| !p.is_empty()) else {
        return Ok(models);
    };
    let dir = std::path::Path::new(&dir);
    let runtime = vision::Runtime::from_store(store)?;
    let pad = vision::pad::LivegatePad::from_dir(&runtime, dir).with_context(|| {
        format!(
            "LIVEGATE_PAD_DIR: cannot load the PAD layer in {}",
            dir.display()
        )
    })?;
    let models = models
        .with_own_layer(pad)
        .context("the models have no Livegate PAD model to replace")?;
    tracing::info!(
        weights = ?models.pad_weights(),
        "scoring with the deployment's own PAD layer from {}",
        dir.display()
    );
    Ok(models)
}

/// The analyzer judging at the operating point `LIVEGATE_OPERATING_POINT` names (written by
/// `livegate eval --calibrate`), or at the policy's when it is unset. A file that cannot be
/// used stops the start: serving at a threshold the operator did not choose would be worse.
/// Every replica of one deployment must be given the same file.
fn at_configured_operating_point(analyzer: Analyzer) -> anyhow::Result<Analyzer> {
    let Some(path) = std::env::var_os("LIVEGATE_OPERATING_POINT").filter(|p| !p.is_empty()) else {
        return Ok(analyzer);
    };
    let point = OperatingPoint::load(std::path::Path::new(&path))?;
    let analyzer = analyzer.at_operating_point(&point)?;
    tracing::info!(
        threshold = point.image_real_threshold,
        policy = liveness::policy::IMAGE_REAL_THRESHOLD,
        bona_fide = point.calibration.bona_fide,
        attacks = point.calibration.attacks,
        "judging at the deployment's own operating point from {}",
        std::path::Path::new(&path).display()
    );
    Ok(analyzer)
}
