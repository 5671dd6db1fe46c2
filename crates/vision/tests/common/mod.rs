//! Shared by the integration tests: where the test data is, and a provisioned model store.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use vision::provision::{ModelId, ModelStore};

#[allow(unused_imports)]
pub use testkit::testdata;

/// The default store with every registry-sourced model fetched, plus the MiniFASNet files from
/// the development copies when they are around (served through the same install path).
pub fn store() -> &'static ModelStore {
    static STORE: OnceLock<ModelStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = ModelStore::open_default().expect("model store");
        let ids: Vec<ModelId> = ModelId::from_registries().collect();
        store.ensure(&ids).expect("fetching models");
        if let Some(models) = dev_models_dir() {
            for id in [ModelId::MiniFasNetV2, ModelId::MiniFasNetV1Se] {
                if !store.is_available(id) {
                    let bytes = std::fs::read(models.join(id.name())).expect("dev model");
                    store.install(id.entry(), &bytes).expect("pinned dev model");
                }
            }
        }
        store
    })
}

/// `../shared/models`, where the MiniFASNet development copies are.
pub fn dev_models_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models");
    dir.is_dir().then_some(dir)
}

pub fn runtime() -> std::sync::Arc<vision::Runtime> {
    vision::Runtime::from_store(store()).expect("onnxruntime")
}

pub fn load_rgb(path: &std::path::Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// A dlib 150×150 chip's keypoints: dlib's alignment puts the eyes, nose and mouth here, so a
/// chip is a face at known places without a detector.
pub fn chip_face() -> vision::Face {
    let p = |x, y| vision::Point { x, y };
    vision::Face {
        bbox: vision::BBox {
            x: 20.0,
            y: 15.0,
            w: 110.0,
            h: 120.0,
        },
        score: 1.0,
        keypoints: [
            p(47.5, 46.6),
            p(100.5, 46.6),
            p(74.0, 76.6),
            p(74.0, 105.4),
            p(25.0, 60.0),
            p(123.0, 60.0),
        ],
    }
}
