//! Converts the MediaPipe `.tflite` models (BlazeFace short/full range, face mesh, iris) to ONNX,
//! in Rust, so no Python tool is needed at fetch or run time.
//!
//! The converted graph keeps the TFLite interface exactly: the input is NHWC `[1,H,W,3]` and the
//! outputs have the TFLite shapes. Inside, every 4-D activation is NCHW (what ONNX convolutions
//! want): one Transpose after the input, one before any 4-D output or Reshape, and constants are
//! permuted at conversion time. fp16 weights behind DEQUANTIZE are folded to f32 constants.
//!
//! Supported ops are exactly those the four models use (plus trivial neighbours); anything else is
//! a clear [`ConvertError::Unsupported`].

mod flatbuf;
pub(crate) mod onnx;
mod schema;

use std::collections::HashMap;

use crate::face::VisionError;
use onnx::{Attr, GraphBuilder};
use schema::{Model, Operator, Tensor, dtype, op};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("corrupt tflite file: {0}")]
    Corrupt(String),
    #[error("unsupported tflite feature: {0}")]
    Unsupported(String),
}

impl From<ConvertError> for VisionError {
    fn from(e: ConvertError) -> Self {
        // The file is there; it could not be turned into a network. Reporting it as missing
        // would send an operator to re-fetch a file that is fine.
        VisionError::Conversion {
            model: "tflite".into(),
            message: e.to_string(),
        }
    }
}

type Result<T> = std::result::Result<T, ConvertError>;

/// Converts a TFLite flatbuffer (float32 activations, float32 or fp16 weights) to ONNX bytes.
pub fn to_onnx(tflite_bytes: &[u8]) -> std::result::Result<Vec<u8>, VisionError> {
    Ok(convert(tflite_bytes)?)
}

/// [`to_onnx`] with the converter's own error type.
pub fn convert(tflite_bytes: &[u8]) -> Result<Vec<u8>> {
    let model = Model::parse(tflite_bytes)?;
    let mut c = Converter {
        model: &model,
        g: GraphBuilder::new(),
        values: HashMap::new(),
        folded: HashMap::new(),
    };
    c.run()?;
    Ok(c.g.to_model_bytes("tflite"))
}

/// A constant known at conversion time, in TFLite layout.
#[derive(Clone)]
enum Const {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

struct Converter<'m, 'a> {
    model: &'m Model<'a>,
    g: GraphBuilder,
    /// ONNX name of each activation; 4-D activations are NCHW.
    values: HashMap<i32, String>,
    /// Outputs of DEQUANTIZE on constants.
    folded: HashMap<i32, Const>,
}

/// Bumped whenever the converter's output changes, so a cached conversion of an earlier
/// converter is not reused (part of the converted file's name, see `provision::store`).
/// 2: PReLU written as Max where no slope exceeds 1.
pub const CONVERTER_REVISION: u32 = 2;

const NHWC_TO_NCHW: [i64; 4] = [0, 3, 1, 2];
const NCHW_TO_NHWC: [i64; 4] = [0, 2, 3, 1];

fn unsupported(msg: impl Into<String>) -> ConvertError {
    ConvertError::Unsupported(msg.into())
}

fn dims(shape: &[i32]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// Element count of a shape; saturates instead of overflowing on hostile shapes.
fn numel(shape: &[i32]) -> i64 {
    shape
        .iter()
        .fold(1i64, |n, &d| n.saturating_mul(d.max(0) as i64))
}

/// Maps a TFLite (NHWC) axis of a 4-D tensor to the NCHW axis.
fn nchw_axis(axis: i64) -> i64 {
    [0, 2, 3, 1][axis as usize & 3]
}

impl<'m, 'a> Converter<'m, 'a> {
    fn tensor(&self, index: i32) -> Result<&'m Tensor> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.model.tensors.get(i))
            .ok_or_else(|| ConvertError::Corrupt("missing tensor".into()))
    }

    fn constant(&self, index: i32) -> Result<Option<Const>> {
        if let Some(c) = self.folded.get(&index) {
            return Ok(Some(c.clone()));
        }
        let t = self.tensor(index)?;
        if t.data.is_empty() {
            return Ok(None);
        }
        let words = |size: usize| -> Result<std::slice::ChunksExact<'_, u8>> {
            let n = numel(&t.shape);
            if t.data.len() as i64 != n.saturating_mul(size as i64) {
                return Err(ConvertError::Corrupt(format!(
                    "tensor {} size mismatch",
                    t.name
                )));
            }
            Ok(t.data.chunks_exact(size))
        };
        Ok(Some(match t.dtype {
            dtype::FLOAT32 => Const::F32(
                words(4)?
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            dtype::FLOAT16 => Const::F32(
                words(2)?
                    .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                    .collect(),
            ),
            dtype::INT32 => Const::I32(
                words(4)?
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            other => return Err(unsupported(format!("constant of tensor type {other}"))),
        }))
    }

    fn const_f32(&self, index: i32) -> Result<Vec<f32>> {
        match self.constant(index)? {
            Some(Const::F32(v)) => Ok(v),
            _ => Err(unsupported("expected a float constant")),
        }
    }

    fn const_i32(&self, index: i32) -> Result<Vec<i32>> {
        match self.constant(index)? {
            Some(Const::I32(v)) => Ok(v),
            _ => Err(unsupported("expected an int32 constant")),
        }
    }

    /// ONNX name of an activation input (constants used as activations become initializers).
    fn value(&mut self, index: i32) -> Result<String> {
        if let Some(v) = self.values.get(&index) {
            return Ok(v.clone());
        }
        let t = self.tensor(index)?;
        let data = self.const_f32(index)?;
        let shape = dims(&t.shape);
        let name = if shape.len() == 4 {
            let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3]);
            let permuted = permute_nhwc_to_nchw(&data, [n, h, w, c]);
            self.g.constant_f32(&[n, c, h, w], permuted)
        } else {
            self.g.constant_f32(&shape, data)
        };
        self.values.insert(index, name.clone());
        Ok(name)
    }

    fn rank(&self, index: i32) -> Result<usize> {
        Ok(self.tensor(index)?.shape.len())
    }

    fn run(&mut self) -> Result<()> {
        for &i in &self.model.inputs {
            let t = self.tensor(i)?;
            let shape = dims(&t.shape);
            if t.dtype != dtype::FLOAT32 {
                return Err(unsupported("non-float input"));
            }
            self.g.input(&t.name, &shape);
            let internal = if shape.len() == 4 {
                self.g.node(
                    "Transpose",
                    &[&t.name],
                    vec![("perm", Attr::Ints(NHWC_TO_NCHW.to_vec()))],
                )
            } else {
                t.name.clone()
            };
            self.values.insert(i, internal);
        }
        for o in &self.model.operators {
            self.lower(o)?;
        }
        for &i in &self.model.outputs {
            let t = self.tensor(i)?;
            let shape = dims(&t.shape);
            let v = self.value(i)?;
            let perm = if shape.len() == 4 {
                NCHW_TO_NHWC.to_vec()
            } else {
                (0..shape.len() as i64).collect()
            };
            self.g.node_to(
                "Transpose",
                &[&v],
                vec![("perm", Attr::Ints(perm))],
                &t.name,
            );
            self.g.output(&t.name, &shape);
        }
        Ok(())
    }

    fn input(o: &Operator, k: usize) -> Result<i32> {
        o.inputs
            .get(k)
            .copied()
            .filter(|&i| i >= 0)
            .ok_or_else(|| ConvertError::Corrupt("operator input missing".into()))
    }

    fn output(o: &Operator) -> Result<i32> {
        match o.outputs.as_slice() {
            [one] => Ok(*one),
            _ => Err(unsupported("operator with several outputs")),
        }
    }

    fn options(o: &Operator<'a>) -> Result<flatbuf::Table<'a>> {
        o.options
            .ok_or_else(|| ConvertError::Corrupt("operator options missing".into()))
    }

    fn lower(&mut self, o: &Operator<'a>) -> Result<()> {
        let out = Self::output(o)?;
        let result = match o.code {
            op::DEQUANTIZE => {
                let input = Self::input(o, 0)?;
                match self.constant(input)? {
                    Some(c) => {
                        self.folded.insert(out, c);
                        return Ok(());
                    }
                    None => return Err(unsupported("DEQUANTIZE of an activation")),
                }
            }
            op::CONV_2D => self.conv(o, false)?,
            op::DEPTHWISE_CONV_2D => self.conv(o, true)?,
            op::PRELU => {
                let x = self.value(Self::input(o, 0)?)?;
                let alpha_index = Self::input(o, 1)?;
                let alpha = self.const_f32(alpha_index)?;
                let channels = *self.tensor(out)?.shape.last().unwrap_or(&1) as usize;
                let rank = self.rank(out)?;
                // TFLite's alpha broadcasts against NHWC; per-channel or scalar maps onto NCHW.
                // Where no slope exceeds 1, PReLU(x) = max(x, slope·x) exactly (for x ≥ 0,
                // slope·x ≤ x; for x < 0, slope·x ≥ x), and ONNX Runtime runs the two vectorised
                // element-wise ops in its blocked layout, where its PRelu kernel broadcasts the
                // slope element by element between layout reorders: iris 3.8 → 2.4 ms, face
                // mesh 7.8 → 2.4 ms, outputs bit-identical (`docs/performance.md`).
                let max_form = alpha.iter().all(|a| *a <= 1.0);
                let slope = if alpha.len() == 1 {
                    self.g.constant_f32(&[1], alpha)
                } else if alpha.len() == channels && rank == 4 {
                    self.g.constant_f32(&[channels as i64, 1, 1], alpha)
                } else {
                    return Err(unsupported("PRELU alpha that is not per channel"));
                };
                if max_form {
                    let scaled = self.g.node("Mul", &[&x, &slope], vec![]);
                    self.g.node("Max", &[&x, &scaled], vec![])
                } else {
                    self.g.node("PRelu", &[&x, &slope], vec![])
                }
            }
            op::ADD | op::MUL => {
                let (ia, ib) = (Self::input(o, 0)?, Self::input(o, 1)?);
                // A lower-rank constant would broadcast against NHWC, not our NCHW.
                for i in [ia, ib] {
                    let t = self.tensor(i)?;
                    if !t.data.is_empty() && t.shape.len() != 4 && numel(&t.shape) != 1 {
                        return Err(unsupported("broadcasting constant in ADD/MUL"));
                    }
                }
                let a = self.value(ia)?;
                let b = self.value(ib)?;
                let name = if o.code == op::ADD { "Add" } else { "Mul" };
                let y = self.g.node(name, &[&a, &b], vec![]);
                // AddOptions / MulOptions: fused_activation_function 0.
                let act = match o.options {
                    Some(t) => t.u8_or(0, 0)?,
                    None => 0,
                };
                self.activation(y, act)?
            }
            op::MAX_POOL_2D => {
                let x = self.value(Self::input(o, 0)?)?;
                // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_w 3, filter_h 4, act 5.
                let opts = Self::options(o)?;
                let (sw, sh) = (opts.i32_or(1, 1)?, opts.i32_or(2, 1)?);
                let (kw, kh) = (opts.i32_or(3, 1)?, opts.i32_or(4, 1)?);
                let pads = self.pads(o, opts.u8_or(0, 0)?, [kh, kw], [sh, sw], [1, 1])?;
                let y = self.g.node(
                    "MaxPool",
                    &[&x],
                    vec![
                        ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
                        ("strides", Attr::Ints(vec![sh as i64, sw as i64])),
                        ("pads", Attr::Ints(pads)),
                    ],
                );
                self.activation(y, opts.u8_or(5, 0)?)?
            }
            op::PAD => {
                let x = self.value(Self::input(o, 0)?)?;
                let p = self.const_i32(Self::input(o, 1)?)?;
                let rank = self.rank(out)?;
                if p.len() != rank * 2 {
                    return Err(ConvertError::Corrupt("PAD paddings shape".into()));
                }
                let order: Vec<usize> = if rank == 4 {
                    vec![0, 3, 1, 2]
                } else {
                    (0..rank).collect()
                };
                let mut pads: Vec<i64> = order.iter().map(|&a| p[2 * a] as i64).collect();
                pads.extend(order.iter().map(|&a| p[2 * a + 1] as i64));
                let pads = self.g.constant_i64(&[pads.len() as i64], pads);
                self.g.node(
                    "Pad",
                    &[&x, &pads],
                    vec![("mode", Attr::Str("constant".into()))],
                )
            }
            op::RESHAPE => {
                let input = Self::input(o, 0)?;
                let mut x = self.value(input)?;
                if self.rank(input)? == 4 {
                    x = self.g.node(
                        "Transpose",
                        &[&x],
                        vec![("perm", Attr::Ints(NCHW_TO_NHWC.to_vec()))],
                    );
                }
                let shape = dims(&self.tensor(out)?.shape);
                let s = self.g.constant_i64(&[shape.len() as i64], shape.clone());
                let y = self.g.node("Reshape", &[&x, &s], vec![]);
                if shape.len() == 4 {
                    self.g.node(
                        "Transpose",
                        &[&y],
                        vec![("perm", Attr::Ints(NHWC_TO_NCHW.to_vec()))],
                    )
                } else {
                    y
                }
            }
            op::CONCATENATION => {
                // ConcatenationOptions: axis 0, fused_activation_function 1.
                let opts = Self::options(o)?;
                let rank = self.rank(out)? as i64;
                let mut axis = opts.i32_or(0, 0)? as i64;
                if axis < 0 {
                    axis += rank;
                }
                if axis < 0 || axis >= rank {
                    return Err(ConvertError::Corrupt("concatenation axis".into()));
                }
                if rank == 4 {
                    axis = nchw_axis(axis);
                }
                let mut names = Vec::new();
                for &i in &o.inputs {
                    names.push(self.value(i)?);
                }
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let y = self
                    .g
                    .node("Concat", &refs, vec![("axis", Attr::Int(axis))]);
                self.activation(y, opts.u8_or(1, 0)?)?
            }
            op::RESIZE_BILINEAR => {
                let x = self.value(Self::input(o, 0)?)?;
                let t = self.tensor(out)?;
                if t.shape.len() != 4 {
                    return Err(unsupported("RESIZE_BILINEAR on a non-4-D tensor"));
                }
                // ResizeBilinearOptions: new_height 0, new_width 1 (deprecated),
                // align_corners 2, half_pixel_centers 3.
                let (align, half) = match o.options {
                    Some(t) => (t.bool_or(2, false)?, t.bool_or(3, false)?),
                    None => (false, false),
                };
                let mode = if align {
                    "align_corners"
                } else if half {
                    "half_pixel"
                } else {
                    "asymmetric"
                };
                let s = &t.shape;
                let sizes = vec![s[0] as i64, s[3] as i64, s[1] as i64, s[2] as i64];
                let sizes = self.g.constant_i64(&[4], sizes);
                self.g.node(
                    "Resize",
                    &[&x, "", "", &sizes],
                    vec![
                        ("mode", Attr::Str("linear".into())),
                        ("coordinate_transformation_mode", Attr::Str(mode.into())),
                    ],
                )
            }
            op::RELU => {
                let x = self.value(Self::input(o, 0)?)?;
                self.g.node("Relu", &[&x], vec![])
            }
            op::RELU6 => {
                let x = self.value(Self::input(o, 0)?)?;
                self.activation(x, 3)?
            }
            op::LOGISTIC => {
                let x = self.value(Self::input(o, 0)?)?;
                self.g.node("Sigmoid", &[&x], vec![])
            }
            other => return Err(unsupported(format!("builtin operator {other}"))),
        };
        self.values.insert(out, result);
        Ok(())
    }

    /// Explicit ONNX pads `[top, left, bottom, right]` reproducing TFLite SAME/VALID padding.
    fn pads(
        &self,
        o: &Operator,
        padding: u8,
        kernel: [i32; 2],
        stride: [i32; 2],
        dilation: [i32; 2],
    ) -> Result<Vec<i64>> {
        // Padding enum: SAME 0, VALID 1.
        if padding != 0 {
            return Ok(vec![0; 4]);
        }
        let inp = &self.tensor(Self::input(o, 0)?)?.shape;
        let out = &self.tensor(Self::output(o)?)?.shape;
        if inp.len() != 4 || out.len() != 4 {
            return Err(unsupported("pooling or convolution on a non-4-D tensor"));
        }
        let mut before = [0i64; 2];
        let mut after = [0i64; 2];
        for a in 0..2 {
            let effective = (kernel[a] as i64 - 1) * dilation[a] as i64 + 1;
            let total =
                ((out[a + 1] as i64 - 1) * stride[a] as i64 + effective - inp[a + 1] as i64).max(0);
            before[a] = total / 2;
            after[a] = total - total / 2;
        }
        Ok(vec![before[0], before[1], after[0], after[1]])
    }

    fn conv(&mut self, o: &Operator<'a>, depthwise: bool) -> Result<String> {
        let x = self.value(Self::input(o, 0)?)?;
        let w_index = Self::input(o, 1)?;
        let w_shape = self.tensor(w_index)?.shape.clone();
        let w = self.const_f32(w_index)?;
        if w_shape.len() != 4 {
            return Err(ConvertError::Corrupt("convolution filter rank".into()));
        }
        let opts = Self::options(o)?;
        // Conv2DOptions: padding 0, stride_w 1, stride_h 2, act 3, dilation_w 4, dilation_h 5.
        // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, act 4,
        // dilation_w 5, dilation_h 6.
        let (act_id, dil_id) = if depthwise { (4, 5) } else { (3, 4) };
        let (sw, sh) = (opts.i32_or(1, 1)?, opts.i32_or(2, 1)?);
        let (dw, dh) = (opts.i32_or(dil_id, 1)?, opts.i32_or(dil_id + 1, 1)?);
        let act = opts.u8_or(act_id, 0)?;
        let [a, kh, kw, b] = [w_shape[0], w_shape[1], w_shape[2], w_shape[3]].map(|d| d as i64);
        // Filters: conv [O,KH,KW,I] → [O,I,KH,KW]; depthwise [1,KH,KW,O] → [O,1,KH,KW].
        let (out_ch, in_per_group, weights) = if depthwise {
            (b, 1, permute_nhwc_to_nchw(&w, [1, kh, kw, b]))
        } else {
            (a, b, permute_nhwc_to_nchw(&w, [a, kh, kw, b]))
        };
        // For depthwise, [1, O, KH, KW] and [O, 1, KH, KW] share one memory order.
        let in_ch = *self.tensor(Self::input(o, 0)?)?.shape.last().unwrap_or(&0) as i64;
        let group = if depthwise { in_ch } else { 1 };
        if group <= 0 || (depthwise && out_ch % group != 0) {
            return Err(ConvertError::Corrupt("depthwise channel count".into()));
        }
        let pads = self.pads(
            o,
            opts.u8_or(0, 0)?,
            [kh as i32, kw as i32],
            [sh, sw],
            [dh, dw],
        )?;
        let wname = self
            .g
            .constant_f32(&[out_ch, in_per_group, kh, kw], weights);
        let mut inputs = vec![x, wname];
        if let Some(&bias) = o.inputs.get(2)
            && bias >= 0
        {
            let bdata = self.const_f32(bias)?;
            if bdata.len() as i64 != out_ch {
                return Err(ConvertError::Corrupt("bias length".into()));
            }
            inputs.push(self.g.constant_f32(&[out_ch], bdata));
        }
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let y = self.g.node(
            "Conv",
            &refs,
            vec![
                ("kernel_shape", Attr::Ints(vec![kh, kw])),
                ("strides", Attr::Ints(vec![sh as i64, sw as i64])),
                ("dilations", Attr::Ints(vec![dh as i64, dw as i64])),
                ("pads", Attr::Ints(pads)),
                ("group", Attr::Int(group)),
            ],
        );
        self.activation(y, act)
    }

    /// Applies a TFLite fused activation (NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3, TANH 4).
    fn activation(&mut self, x: String, act: u8) -> Result<String> {
        Ok(match act {
            0 => x,
            1 => self.g.node("Relu", &[&x], vec![]),
            2 | 3 => {
                let lo = self
                    .g
                    .constant_f32(&[], vec![if act == 2 { -1.0 } else { 0.0 }]);
                let hi = self
                    .g
                    .constant_f32(&[], vec![if act == 2 { 1.0 } else { 6.0 }]);
                self.g.node("Clip", &[&x, &lo, &hi], vec![])
            }
            4 => self.g.node("Tanh", &[&x], vec![]),
            other => return Err(unsupported(format!("fused activation {other}"))),
        })
    }
}

/// Reorders `[n, h, w, c]` data to `[n, c, h, w]`.
fn permute_nhwc_to_nchw(data: &[f32], [n, h, w, c]: [i64; 4]) -> Vec<f32> {
    let dims = [n, h, w, c].map(|d| usize::try_from(d).unwrap_or(0));
    let [n, h, w, c] = dims;
    let total = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if total != Some(data.len()) {
        // Callers check sizes first; a mismatch here leaves the data as it was.
        return data.to_vec();
    }
    let mut out = vec![0.0; data.len()];
    for ni in 0..n {
        for hi in 0..h {
            for wi in 0..w {
                for ci in 0..c {
                    out[((ni * c + ci) * h + hi) * w + wi] =
                        data[((ni * h + hi) * w + wi) * c + ci];
                }
            }
        }
    }
    out
}

/// IEEE 754 half → single precision, including subnormals, infinities and NaN.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m · 2^-24.
            let v = m as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_decode() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x01\x02",
            b"\xff\xff\xff\xff\x00\x00\x00\x00",
            &[0u8; 64],
        ] {
            assert!(convert(bytes).is_err());
        }
    }

    #[test]
    fn permutation_moves_channels_first() {
        let data: Vec<f32> = (0..12).map(|i| i as f32).collect();
        // [1, 2, 2, 3] → [1, 3, 2, 2]
        let p = permute_nhwc_to_nchw(&data, [1, 2, 2, 3]);
        assert_eq!(p, vec![0., 3., 6., 9., 1., 4., 7., 10., 2., 5., 8., 11.]);
    }
}
