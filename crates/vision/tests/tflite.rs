//! The Rust TFLite → ONNX converter against reference outputs of the TFLite interpreter itself.
//!
//! The expected numbers were produced once with `tflite-runtime` 2.14 on the pinned `.tflite`
//! files and the deterministic input below; they are the observable behaviour of the original
//! models, so a conversion mistake anywhere in a graph shows up here.

mod common;

use vision::ModelId;
use vision::tflite::to_onnx;

struct Expected {
    output: &'static str,
    first: [f32; 4],
    mean_abs: f32,
}

/// (model, NHWC input shape, outputs) with TFLite's outputs on [`probe_input`].
const CASES: &[(ModelId, [usize; 4], &[Expected])] = &[
    (
        ModelId::IrisLandmark,
        [1, 64, 64, 3],
        &[
            Expected {
                output: "output_eyes_contours_and_brows",
                first: [24.577, 35.529, 4.7398, 26.632],
                mean_abs: 23.6997,
            },
            Expected {
                output: "output_iris",
                first: [35.706, 37.027, 0.96497, 38.858],
                mean_abs: 24.5576,
            },
        ],
    ),
    (
        ModelId::FaceLandmark,
        [1, 192, 192, 3],
        &[Expected {
            output: "conv2d_20",
            first: [94.346, 122.12, -9.6046, 91.503],
            mean_abs: 67.1321,
        }],
    ),
    (
        ModelId::BlazeFaceFull,
        [1, 192, 192, 3],
        &[
            Expected {
                output: "reshaped_regressor_face_4",
                first: [-3.234, -2.4416, 14.027, 14.036],
                mean_abs: 18.2592,
            },
            Expected {
                output: "reshaped_classifier_face_4",
                first: [-8.4729, -8.0512, -8.1867, -7.1145],
                mean_abs: 6.09388,
            },
        ],
    ),
];

/// A fixed pseudo-random input in [-1, 1).
fn probe_input(shape: [usize; 4]) -> ndarray::ArrayD<f32> {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n as u64)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    ndarray::Array::from_shape_vec(shape.to_vec(), data).unwrap()
}

#[test]
fn converted_models_reproduce_tflite_outputs() {
    let store = common::store();
    let rt = common::runtime();
    for (id, shape, expected) in CASES {
        let tflite = std::fs::read(store.original_path(*id)).unwrap();
        let t = std::time::Instant::now();
        let onnx = to_onnx(&tflite).unwrap();
        eprintln!("{id:?}: converted in {:?}", t.elapsed());
        let model = rt.load_bytes("converted", onnx).unwrap();
        let outputs = model.run_one(probe_input(*shape)).unwrap();
        for e in *expected {
            let k = model
                .output_names()
                .iter()
                .position(|n| n == e.output)
                .unwrap_or_else(|| panic!("{id:?}: no output {}", e.output));
            let out: Vec<f32> = outputs[k].iter().copied().collect();
            let mean_abs = out.iter().map(|v| v.abs()).sum::<f32>() / out.len() as f32;
            for (got, want) in out.iter().zip(e.first) {
                assert!(
                    (got - want).abs() <= 1e-3 * want.abs().max(1.0),
                    "{id:?} {}: {got} vs TFLite {want}",
                    e.output
                );
            }
            assert!(
                (mean_abs - e.mean_abs).abs() <= 1e-3 * e.mean_abs,
                "{id:?} {}: mean |y| {mean_abs} vs TFLite {}",
                e.output,
                e.mean_abs
            );
        }
    }
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let store = common::store();
    let bytes = std::fs::read(store.original_path(ModelId::IrisLandmark)).unwrap();
    // Truncations anywhere, including inside the header, vtables and weight buffers.
    for len in [0, 3, 8, 64, 1000, 5000, bytes.len() / 2, bytes.len() - 1] {
        // A file that is there but cannot be converted is a conversion error, not "missing".
        assert!(
            matches!(
                to_onnx(&bytes[..len]),
                Err(vision::VisionError::Conversion { .. })
            ),
            "truncated to {len}: not a conversion error"
        );
    }
    // Byte flips in the metadata near the start and end of the file (the tables live there).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let mut damaged = bytes.clone();
        for _ in 0..4 {
            let r = next() as usize;
            let pos = if r.is_multiple_of(2) {
                r / 2 % 4096
            } else {
                damaged.len() - 1 - r / 2 % 8192
            };
            damaged[pos] = next() as u8;
        }
        let _ = to_onnx(&damaged);
    }
}

#[test]
fn conversion_is_deterministic() {
    // The store caches converted files; identical input must give identical bytes.
    let store = common::store();
    let tflite = std::fs::read(store.original_path(ModelId::FaceLandmark)).unwrap();
    assert_eq!(to_onnx(&tflite).unwrap(), to_onnx(&tflite).unwrap());
}
