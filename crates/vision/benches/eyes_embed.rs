//! Per-model latency of vision B's networks on one real face, one thread per inference:
//! iris (both eyes), dlib ResNet, Faceplugin fr_feature, and the TFLite → ONNX conversion.
//!
//! The face is one of dlib's aligned 150×150 chips, whose keypoints sit at known places, so the
//! numbers don't depend on the detector. Needs `../shared/testdata` and fetched models.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use vision::embedder::{DlibEmbedder, FacepluginEmbedder};
use vision::iris::IrisEyes;
use vision::{Embedder, EyeModel, ModelId, ModelStore, Runtime};

fn testdata() -> Option<PathBuf> {
    testkit::for_bench()
}

fn benches(c: &mut Criterion) {
    let Some(testdata) = testdata() else {
        eprintln!("SKIPPED: testdata missing");
        return;
    };
    let store = ModelStore::open_default().expect("model store");
    store
        .ensure(&[
            ModelId::OnnxRuntime,
            ModelId::IrisLandmark,
            ModelId::FrFeature,
            ModelId::FaceApiRecognition,
            ModelId::FaceApiRecognitionManifest,
        ])
        .expect("models (run `livegate models fetch`)");
    let rt = Runtime::from_store(&store).expect("onnxruntime");
    let image = image::open(testdata.join("faces/dlib_johns/John_Simm_000288_00470387.jpg"))
        .expect("chip")
        .to_rgb8();
    let face = common::chip_face();

    let iris = IrisEyes::load(&rt, &store).expect("iris");
    c.bench_function("iris_two_eyes", |b| {
        b.iter(|| black_box(iris.openness(&image, &face).unwrap()))
    });

    let dlib = DlibEmbedder::load(&rt, &store).expect("dlib");
    c.bench_function("dlib_embed_with_alignment", |b| {
        b.iter(|| black_box(dlib.embed(&image, &face).unwrap()))
    });

    let fp = FacepluginEmbedder::load(&rt, &store).expect("faceplugin");
    c.bench_function("faceplugin_embed_with_alignment", |b| {
        b.iter(|| black_box(fp.embed(&image, &face).unwrap()))
    });

    let tflite = std::fs::read(store.original_path(ModelId::IrisLandmark)).expect("tflite");
    c.bench_function("tflite_to_onnx_iris", |b| {
        b.iter(|| black_box(vision::tflite::to_onnx(&tflite).unwrap()))
    });
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(group);
