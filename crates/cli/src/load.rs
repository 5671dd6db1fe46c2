//! The analyzer over the installed models: provisioning here, wiring in [`Models::load`].

use anyhow::Context;
use liveness::{Analyzer, Models};
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
    Ok(Analyzer::new(models))
}
