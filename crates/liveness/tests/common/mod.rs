//! What the liveness crate's integration tests share.

use liveness::Models;
use vision::ModelStore;

/// The installed models; `None` (said loudly) when they are missing, a failure under `CI=true`.
pub fn models() -> Option<Models> {
    let loaded = ModelStore::open_default()
        .map_err(|e| e.to_string())
        .and_then(|store| Models::load(&store).map_err(|e| e.to_string()));
    match loaded {
        Ok(models) => Some(models),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("models missing: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: models missing: {e}");
            None
        }
    }
}
