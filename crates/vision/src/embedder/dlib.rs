//! dlib's face-recognition ResNet (128-d, compared by Euclidean distance), as an ONNX graph the
//! crate builds from the tfjs weights shipped by `@vladmandic/face-api`.
//!
//! The package holds weights only; the network is the one face-api's `FaceRecognitionNet` runs:
//! a 7×7/2 convolution and 3×3/2 max-pool, residual stages of 32, 64, 128 and 256 channels whose
//! down-sampling blocks add a 2×2 average-pooled, zero-channel-padded shortcut, a global average
//! pool and a 256×128 matrix. Each convolution is followed by a per-channel affine "scale" layer,
//! which is folded into the convolution's weights here.

use std::collections::HashMap;
use std::path::Path;

use image::RgbImage;

use crate::face::{Embedder, Embedding, Face, Point, VisionError};
use crate::provision::{ModelId, ModelStore};
use crate::runtime::{OnnxModel, Runtime};
use crate::tflite::onnx::{Attr, GraphBuilder};

const NAME: &str = crate::identity::EmbedderId::DlibResnet.name();
pub const CHIP: u32 = 150;
const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];
/// Largest weights file accepted (the real one is 6.4 MB).
const MAX_WEIGHT_VALUES: usize = 16 << 20;

/// Eye centres, nose tip and mouth centre of dlib's mean face shape, placed in a 150-px chip with
/// dlib's default padding of 0.25 (`(0.25 + m) / 1.5 · 150`), in the order of [`landmarks`].
const TEMPLATE: [Point; 4] = [
    Point {
        x: 47.549,
        y: 46.599,
    },
    Point {
        x: 100.476,
        y: 46.599,
    },
    Point {
        x: 74.013,
        y: 76.563,
    },
    Point {
        x: 74.013,
        y: 105.422,
    },
];

fn err(message: impl Into<String>) -> VisionError {
    VisionError::ModelMissing {
        model: NAME.into(),
        message: message.into(),
    }
}

pub struct DlibEmbedder {
    model: OnnxModel,
}

impl std::fmt::Debug for DlibEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DlibEmbedder").finish_non_exhaustive()
    }
}

impl DlibEmbedder {
    pub fn load(runtime: &Runtime, store: &ModelStore) -> Result<Self, VisionError> {
        let path = |id| store.path(id).map_err(|e| err(e.to_string()));
        Self::from_paths(
            runtime,
            &path(ModelId::FaceApiRecognitionManifest)?,
            &path(ModelId::FaceApiRecognition)?,
        )
    }

    pub fn from_paths(
        runtime: &Runtime,
        manifest: &Path,
        weights: &Path,
    ) -> Result<Self, VisionError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| err(format!("cannot read {}: {e}", p.display())))
        };
        let onnx = build_onnx(&read(manifest)?, &read(weights)?)?;
        Ok(DlibEmbedder {
            model: runtime.load_bytes(NAME, onnx)?,
        })
    }

    /// The aligned chip the network sees for `face`.
    pub fn chip(image: &RgbImage, face: &Face) -> Result<RgbImage, VisionError> {
        super::aligned_chip(image, face, &TEMPLATE, CHIP, NAME)
    }

    /// Embeds an already aligned 150×150 chip (for instance one dlib itself cropped).
    pub fn embed_chip(&self, chip: &RgbImage) -> Result<Embedding, VisionError> {
        let input = super::chip_input(chip, CHIP, NAME, |rgb, c| {
            (rgb[c] as f32 - MEAN_RGB[c]) / 256.0
        })?;
        let out = self.model.run_one(input)?;
        Ok(Embedding(super::output_vector(&out, 128, NAME)?))
    }
}

impl Embedder for DlibEmbedder {
    fn id(&self) -> crate::identity::EmbedderId {
        crate::identity::EmbedderId::DlibResnet
    }

    fn embed(&self, image: &RgbImage, face: &Face) -> Result<Embedding, VisionError> {
        self.embed_chip(&Self::chip(image, face)?)
    }

    /// Euclidean distance; dlib's own same-person threshold is 0.6. Infinite for embeddings of
    /// different lengths (another model's), which never match.
    fn distance(&self, a: &Embedding, b: &Embedding) -> f32 {
        if a.0.len() != b.0.len() {
            return f32::INFINITY;
        }
        a.0.iter()
            .zip(&b.0)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt()
    }
}

struct Weight {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// Decodes a tfjs weights manifest and its binary (float32, or uint8 with `q·scale + min`).
fn read_weights(manifest: &[u8], bin: &[u8]) -> Result<HashMap<String, Weight>, VisionError> {
    let groups: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| err(format!("bad manifest: {e}")))?;
    let specs = groups
        .as_array()
        .and_then(|g| g.first())
        .and_then(|g| g.get("weights"))
        .and_then(|w| w.as_array())
        .ok_or_else(|| err("manifest has no weights"))?;
    let mut offset = 0usize;
    let mut out = HashMap::new();
    let mut total = 0usize;
    for spec in specs {
        let name = spec
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| err("weight without a name"))?;
        let shape: Vec<usize> = spec
            .get("shape")
            .and_then(|v| v.as_array())
            .ok_or_else(|| err(format!("{name}: no shape")))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| err(format!("{name}: bad shape")))?;
        let count = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&c| c <= MAX_WEIGHT_VALUES)
            .ok_or_else(|| err(format!("{name}: too large")))?;
        total += count;
        if total > MAX_WEIGHT_VALUES {
            return Err(err("weights too large"));
        }
        let quant = spec.get("quantization");
        let data = match quant {
            Some(q) => {
                if q.get("dtype").and_then(|v| v.as_str()) != Some("uint8") {
                    return Err(err(format!("{name}: unsupported quantisation")));
                }
                let scale = q.get("scale").and_then(|v| v.as_f64()).unwrap_or(0.0) as f32;
                let min = q.get("min").and_then(|v| v.as_f64()).unwrap_or(0.0) as f32;
                let bytes = bin
                    .get(offset..offset + count)
                    .ok_or_else(|| err("weights file too short"))?;
                offset += count;
                bytes.iter().map(|&q| q as f32 * scale + min).collect()
            }
            None => {
                let bytes = bin
                    .get(offset..offset + 4 * count)
                    .ok_or_else(|| err("weights file too short"))?;
                offset += 4 * count;
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            }
        };
        out.insert(name.to_string(), Weight { shape, data });
    }
    Ok(out)
}

struct Builder {
    g: GraphBuilder,
    weights: HashMap<String, Weight>,
}

impl Builder {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, VisionError> {
        let w = self
            .weights
            .remove(name)
            .ok_or_else(|| err(format!("missing weight {name}")))?;
        if w.shape != shape {
            return Err(err(format!(
                "{name}: shape {:?}, expected {shape:?}",
                w.shape
            )));
        }
        Ok(w.data)
    }

    fn filter_shape(&self, prefix: &str) -> Result<[usize; 4], VisionError> {
        let name = format!("{prefix}/conv/filters");
        match self.weights.get(&name).map(|w| w.shape.as_slice()) {
            Some(&[kh, kw, ci, co]) => Ok([kh, kw, ci, co]),
            _ => Err(err(format!("missing or malformed {name}"))),
        }
    }

    /// Convolution + bias + per-channel scale, folded into one ONNX Conv; `same` padding (odd
    /// kernels, stride 1) or `valid`.
    fn conv(
        &mut self,
        x: &str,
        prefix: &str,
        stride: i64,
        same: bool,
        relu: bool,
    ) -> Result<String, VisionError> {
        let [kh, kw, ci, co] = self.filter_shape(prefix)?;
        let filters = self.take(&format!("{prefix}/conv/filters"), &[kh, kw, ci, co])?;
        let bias = self.take(&format!("{prefix}/conv/bias"), &[co])?;
        let scale = self.take(&format!("{prefix}/scale/weights"), &[co])?;
        let shift = self.take(&format!("{prefix}/scale/biases"), &[co])?;
        // tfjs filters are [KH, KW, Cin, Cout]; ONNX wants [Cout, Cin, KH, KW].
        let mut w = vec![0.0f32; filters.len()];
        for y in 0..kh {
            for xk in 0..kw {
                for i in 0..ci {
                    for o in 0..co {
                        w[((o * ci + i) * kh + y) * kw + xk] =
                            filters[((y * kw + xk) * ci + i) * co + o] * scale[o];
                    }
                }
            }
        }
        let b: Vec<f32> = (0..co).map(|o| bias[o] * scale[o] + shift[o]).collect();
        let dims = [co as i64, ci as i64, kh as i64, kw as i64];
        let wn = self.g.constant_f32(&dims, w);
        let bn = self.g.constant_f32(&[co as i64], b);
        let (ph, pw) = if same {
            ((kh as i64 - 1) / 2, (kw as i64 - 1) / 2)
        } else {
            (0, 0)
        };
        let y = self.g.node(
            "Conv",
            &[x, &wn, &bn],
            vec![
                ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
                ("strides", Attr::Ints(vec![stride, stride])),
                ("pads", Attr::Ints(vec![ph, pw, ph, pw])),
            ],
        );
        Ok(if relu {
            self.g.node("Relu", &[&y], vec![])
        } else {
            y
        })
    }

    fn residual(&mut self, x: &str, prefix: &str) -> Result<String, VisionError> {
        let y = self.conv(x, &format!("{prefix}/conv1"), 1, true, true)?;
        let y = self.conv(&y, &format!("{prefix}/conv2"), 1, true, false)?;
        let s = self.g.node("Add", &[&y, x], vec![]);
        Ok(self.g.node("Relu", &[&s], vec![]))
    }

    /// `size`/`channels` describe `x`; returns the output and its size and channels.
    fn residual_down(
        &mut self,
        x: &str,
        prefix: &str,
        size: i64,
        channels: i64,
    ) -> Result<(String, i64, i64), VisionError> {
        let out_channels = self.filter_shape(&format!("{prefix}/conv1"))?[3] as i64;
        let y = self.conv(x, &format!("{prefix}/conv1"), 2, false, true)?;
        let mut y = self.conv(&y, &format!("{prefix}/conv2"), 1, true, false)?;
        let conv_size = (size - 3) / 2 + 1;
        let pool_size = size / 2;
        let mut pooled = self.g.node(
            "AveragePool",
            &[x],
            vec![
                ("kernel_shape", Attr::Ints(vec![2, 2])),
                ("strides", Attr::Ints(vec![2, 2])),
            ],
        );
        // When the strided convolution comes out smaller than the pooled shortcut, face-api
        // appends a zero row and column to it; missing channels of the shortcut are zeros too.
        if conv_size != pool_size {
            let grow = pool_size - conv_size;
            let pads = self
                .g
                .constant_i64(&[8], vec![0, 0, 0, 0, 0, 0, grow, grow]);
            y = self.g.node("Pad", &[&y, &pads], vec![]);
        }
        if out_channels != channels {
            let pads = self
                .g
                .constant_i64(&[8], vec![0, 0, 0, 0, 0, out_channels - channels, 0, 0]);
            pooled = self.g.node("Pad", &[&pooled, &pads], vec![]);
        }
        let s = self.g.node("Add", &[&y, &pooled], vec![]);
        Ok((self.g.node("Relu", &[&s], vec![]), pool_size, out_channels))
    }
}

/// Builds the ONNX graph: input `input` `[1,3,150,150]` (normalised RGB), output `embedding`
/// `[1,128]`.
pub fn build_onnx(manifest: &[u8], weights: &[u8]) -> Result<Vec<u8>, VisionError> {
    let mut b = Builder {
        g: GraphBuilder::new(),
        weights: read_weights(manifest, weights)?,
    };
    let c = CHIP as i64;
    b.g.input("input", &[1, 3, c, c]);
    let x = b.conv("input", "conv32_down", 2, false, true)?;
    let x = b.g.node(
        "MaxPool",
        &[&x],
        vec![
            ("kernel_shape", Attr::Ints(vec![3, 3])),
            ("strides", Attr::Ints(vec![2, 2])),
        ],
    );
    let mut size = ((c - 7) / 2 + 1 - 3) / 2 + 1;
    let mut channels = 32;
    let mut x = x;
    for stage in [
        "conv32_1",
        "conv32_2",
        "conv32_3",
        "conv64_down",
        "conv64_1",
        "conv64_2",
        "conv64_3",
        "conv128_down",
        "conv128_1",
        "conv128_2",
        "conv256_down",
        "conv256_1",
        "conv256_2",
        "conv256_down_out",
    ] {
        x = if stage.contains("down") {
            let (y, s, ch) = b.residual_down(&x, stage, size, channels)?;
            (size, channels) = (s, ch);
            y
        } else {
            b.residual(&x, stage)?
        };
    }
    let pooled = b.g.node("GlobalAveragePool", &[&x], vec![]);
    let flat =
        b.g.node("Flatten", &[&pooled], vec![("axis", Attr::Int(1))]);
    let fc = b.take("fc", &[channels as usize, 128])?;
    let fcn = b.g.constant_f32(&[channels, 128], fc);
    b.g.node_to("MatMul", &[&flat, &fcn], vec![], "embedding");
    b.g.output("embedding", &[1, 128]);
    Ok(b.g.to_model_bytes(NAME))
}
