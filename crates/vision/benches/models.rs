//! Per-model latency on one core (ONNX Runtime sessions use one intra-op thread), on a real
//! 640×480 face photo: `cargo bench -p vision --bench models`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use vision::blazeface::BlazeFace;
use vision::pad::minifasnet::Variant;
use vision::pad::{Ensemble, FrLiveness, MiniFasNet};
use vision::sampling::{Region, sample};
use vision::{FaceDetector, PadModel, Vision};

fn benches(c: &mut Criterion) {
    let Some(data) = common::testdata() else {
        return;
    };
    let store = common::store();
    let rt = common::runtime();
    let image = common::load_rgb(&data.join("spoof/sfas_image_F1.jpg"));
    let big = common::load_rgb(&data.join("negative/fr_obama_and_biden_multiface.jpg"));
    let big = image::imageops::resize(&big, 1280, 914, image::imageops::FilterType::Triangle);

    c.bench_function("vision_load_all", |b| {
        b.iter(|| Vision::load(store).unwrap());
    });

    let detector = BlazeFace::load(&rt, store).unwrap();
    let face = detector.detect(&image).unwrap().remove(0);

    // The resampling behind every model input: the detector's letterboxed 128×128 view of the
    // whole frame, and the PAD model's two 80×80 context crops of the face.
    let (w, h) = (image.width() as f32, image.height() as f32);
    let whole = Region::letterbox(0.0, 0.0, w, h);
    c.bench_function("sample_640x480_to_128", |b| {
        b.iter(|| sample(&image, whole, 128, 128, [0.0; 3]))
    });
    c.bench_function("sample_pad_crops_80", |b| {
        b.iter(|| {
            [2.7, 4.0].map(|s| {
                let region =
                    vision::pad::context_crop(image.width(), image.height(), &face.bbox, s);
                sample(&image, region, 80, 80, [0.0; 3])
            })
        })
    });
    c.bench_function("blazeface_640x480", |b| {
        b.iter(|| detector.detect(&image).unwrap())
    });
    // The product's setting (`liveness::policy::SHORT_RANGE_SUFFICES` / `SHORT_RANGE_MAX_FACE`):
    // the first pass alone when it finds a well-framed face.
    let one_pass =
        BlazeFace::load(&rt, store)
            .unwrap()
            .with_config(vision::blazeface::DetectorConfig {
                short_range_suffices: 0.2,
                short_range_max_face: 0.7,
                ..vision::blazeface::DetectorConfig::default()
            });
    c.bench_function("blazeface_640x480_one_pass", |b| {
        b.iter(|| one_pass.detect(&image).unwrap())
    });
    c.bench_function("blazeface_1280x914_tiled", |b| {
        b.iter(|| detector.detect(&big).unwrap())
    });

    let fr: Arc<dyn PadModel> = Arc::new(FrLiveness::load(&rt, store).unwrap());
    let v2: Arc<dyn PadModel> = Arc::new(MiniFasNet::load(&rt, store, Variant::V2).unwrap());
    let v1se: Arc<dyn PadModel> = Arc::new(MiniFasNet::load(&rt, store, Variant::V1Se).unwrap());
    for m in [&fr, &v2, &v1se] {
        c.bench_function(m.name(), |b| {
            b.iter(|| m.live_score(&image, &face).unwrap())
        });
    }
    // The three-network ensemble the service ran before its own model, for comparison.
    let ensemble = Ensemble::new(vec![(fr, 0.3), (v2, 0.5), (v1se, 0.2)]).unwrap();
    c.bench_function("pad_ensemble", |b| {
        b.iter(|| ensemble.score(&image, &face).unwrap().combined)
    });
    let own = vision::pad::LivegatePad::load(&rt).unwrap();
    c.bench_function("livegate_pad", |b| {
        b.iter(|| own.live_score(&image, &face).unwrap())
    });

    let mesh = vision::mesh::FaceMesh::load(&rt, store).unwrap();
    c.bench_function("face_mesh", |b| {
        b.iter(|| mesh.landmarks(&image, &face).unwrap())
    });

    c.bench_function("quality", |b| {
        b.iter(|| vision::quality::assess(&image, &face))
    });

    // The per-face budget: detection, both eyes, one embedding, the PAD ensemble.
    let vision = Vision::load(store).unwrap();
    let ensemble = Ensemble::new(vision.pad.iter().map(|m| (m.clone(), 1.0)).collect()).unwrap();
    c.bench_function("per_face_total_640x480", |b| {
        b.iter(|| {
            let faces = vision.detector.detect(&image).unwrap();
            let face = &faces[0];
            vision.eyes.openness(&image, face).unwrap();
            vision.embedder.embed(&image, face).unwrap();
            ensemble.score(&image, face).unwrap().combined
        })
    });
}

criterion_group! {
    name = models;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(models);
