//! The whole model bundle: loads within the start-up budget and works end to end on a photo.

mod common;

use vision::Vision;
use vision::pad::Ensemble;

#[test]
fn loads_every_model_within_a_second_and_analyses_a_face() {
    let store = common::store();
    let Some(data) = common::testdata() else {
        return;
    };
    // The first load in a process also opens the onnxruntime library; time the second too.
    let first = Vision::load(store).unwrap();
    let vision = Vision::load(store).unwrap();
    eprintln!(
        "load: first {:?}, again {:?}; {:?}",
        first.load_time, vision.load_time, vision.load_times
    );
    assert!(
        first.load_time.as_secs_f64() <= 1.0,
        "{:?}",
        first.load_time
    );
    assert_eq!(
        vision.pad_names(),
        [
            "livegate_pad",
            "fr_liveness",
            "minifasnet_v2",
            "minifasnet_v1se"
        ]
    );
    assert!(vision.pad_model("livegate_pad").is_some());
    assert!(vision.pad_model("minifasnet_v2").is_some());

    let image = common::load_rgb(&data.join("spoof/sfas_image_F2.jpg"));
    let faces = vision.detector.detect(&image).unwrap();
    assert_eq!(faces.len(), 1);
    let eyes = vision.eyes.openness(&image, &faces[0]).unwrap();
    assert!(eyes.left > 0.15 && eyes.right > 0.15, "{eyes:?}");
    let e = vision.embedder.embed(&image, &faces[0]).unwrap();
    assert!(vision.embedder.distance(&e, &e) < 1e-4);
    let ensemble = Ensemble::new(vision.pad.iter().map(|m| (m.clone(), 1.0)).collect()).unwrap();
    assert!(ensemble.score(&image, &faces[0]).unwrap().combined < 0.5);
}
