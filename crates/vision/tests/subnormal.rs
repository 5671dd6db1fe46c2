//! Faceplugin's embedder with its subnormal weights flushed to zero (what `Runtime::load`
//! hands ONNX Runtime) against the same file as fetched: the same embeddings on real faces.
//! (Both run under `subnormal::flush_to_zero`, as every inference does.)

mod common;

use vision::ModelId;

#[test]
fn flushing_faceplugins_subnormal_weights_keeps_its_embeddings() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let store = common::store();
    let rt = common::runtime();
    let path = store.path(ModelId::FrFeature).unwrap();
    let fetched = std::fs::read(&path).unwrap();
    let mut flushed = fetched.clone();
    // The count pins why the flush exists: this model's 1×1 convolutions ran ~3.5× slower
    // on these values (see `vision::subnormal`).
    assert_eq!(
        vision::subnormal::flush_weights(&mut flushed).unwrap(),
        8938
    );
    let as_fetched = rt.load_bytes("fr_feature as fetched", fetched).unwrap();
    let as_loaded = rt.load("fr_feature", &path).unwrap();

    let mut worst = 0f32;
    let mut compared = 0;
    for entry in std::fs::read_dir(testdata.join("faces/dlib_johns"))
        .unwrap()
        .take(12)
    {
        let chip = image::imageops::resize(
            &common::load_rgb(&entry.unwrap().path()),
            112,
            112,
            image::imageops::FilterType::Triangle,
        );
        // Faceplugin's own preprocessing: BGR planes, (v − 127) / 128.
        let input = ndarray::Array4::from_shape_fn((1, 3, 112, 112), |(_, c, y, x)| {
            (chip.get_pixel(x as u32, y as u32).0[2 - c] as f32 - 127.0) / 128.0
        })
        .into_dyn();
        let a = as_fetched.run_one(input.clone()).unwrap();
        let b = as_loaded.run_one(input).unwrap();
        let diff = (&a[0] - &b[0]).mapv(f32::abs).fold(0f32, |m, &v| m.max(v));
        let scale = a[0].mapv(f32::abs).fold(0f32, |m, &v| m.max(v));
        assert!(scale > 1e-3, "a real face gives a non-trivial embedding");
        worst = worst.max(diff / scale);
        compared += 1;
    }
    assert_eq!(compared, 12);
    eprintln!("largest output change from the flush, relative to the output's range: {worst:e}");
    assert!(worst < 1e-5, "flushing moved an embedding by {worst:e}");
}
