//! The ONNX Runtime wrapper on a real model: outputs, concurrency through `&self`, errors.

mod common;

use std::sync::Arc;

use vision::ModelId;

#[test]
fn runs_blazeface_and_shares_it_across_threads() {
    let store = common::store();
    let rt = common::runtime();
    let model = Arc::new(
        rt.load("blazeface", &store.path(ModelId::BlazeFaceShort).unwrap())
            .unwrap(),
    );
    assert_eq!(model.input_names().len(), 1);
    let input = ndarray::Array4::<f32>::zeros((1, 128, 128, 3)).into_dyn();
    let outputs = model.run_one(input.clone()).unwrap();
    let shapes: Vec<Vec<usize>> = outputs.iter().map(|o| o.shape().to_vec()).collect();
    // This export splits the 896 anchors by stride: 16×16×2 = 512 and 8×8×6 = 384.
    let anchors = |width: usize| -> usize {
        shapes
            .iter()
            .filter(|s| s.len() == 3 && s[2] == width)
            .map(|s| s[1])
            .sum()
    };
    assert_eq!(anchors(16), 896, "{shapes:?}");
    assert_eq!(anchors(1), 896, "{shapes:?}");

    // Same input from several threads at once gives the same output as a single call.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let model = model.clone();
            let input = input.clone();
            std::thread::spawn(move || model.run_one(input).unwrap())
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        for (a, b) in out.iter().zip(&outputs) {
            let diff = (a - b).mapv(f32::abs).fold(0f32, |m, &v| m.max(v));
            assert!(diff < 1e-5, "thread output differs by {diff}");
        }
    }
}

#[test]
fn wrong_input_count_and_garbage_models_are_errors_not_panics() {
    let store = common::store();
    let rt = common::runtime();
    let model = rt
        .load("blazeface", &store.path(ModelId::BlazeFaceShort).unwrap())
        .unwrap();
    assert!(model.run(vec![]).is_err());
    let wrong_shape = ndarray::Array4::<f32>::zeros((1, 3, 7, 7)).into_dyn();
    assert!(model.run_one(wrong_shape).is_err());
    assert!(
        rt.load_bytes("garbage", b"not an onnx model".to_vec())
            .is_err()
    );
}
