//! Flushes subnormal float weights of an ONNX model to zero before ONNX Runtime sees it.
//!
//! Why: x86 cores multiply a subnormal operand through a slow microcode path, and ONNX
//! Runtime's own "denormal as zero" switch only reaches its intra-op pool threads, not the
//! calling thread a single-threaded session computes on. Faceplugin's `fr_feature.onnx` holds
//! 8,938 subnormal weights (of 1.19 M): its 1×1 convolutions ran at a fraction of their speed,
//! 60 ms per embedding instead of 17 ms (`cargo bench -p vision --bench eyes_embed`). A
//! subnormal weight is below 1.2e-38 in magnitude, so zeroing it moves no output by more than
//! float rounding (`tests/subnormal.rs` compares embeddings of real faces).
//!
//! Weights are half of it: Faceplugin's activations go subnormal too, so [`flush_to_zero`] also
//! runs each inference with the core's flush-to-zero and denormals-are-zero modes on (16 → 8 ms
//! per embedding on top of the weight flush; no other model the product runs changed speed).
//!
//! Only the bytes of float initialisers change, in place and at the same length, so the rest
//! of the protobuf is left exactly as it was: the walk reads `ModelProto.graph` (field 7),
//! `GraphProto.initializer` (field 5) and in each `TensorProto` its `data_type` (2),
//! `float_data` (4) and `raw_data` (9). Subgraphs and `Constant` nodes are not visited: no model
//! the product loads keeps weights there.

use prost::encoding::{WireType, decode_key, decode_varint};

const MODEL_GRAPH: u32 = 7;
const GRAPH_INITIALIZER: u32 = 5;
const TENSOR_DATA_TYPE: u32 = 2;
const TENSOR_FLOAT_DATA: u32 = 4;
const TENSOR_RAW_DATA: u32 = 9;
/// `TensorProto.DataType.FLOAT`.
const FLOAT: u64 = 1;

/// Why the bytes could not be walked as a `ModelProto`.
#[derive(Debug, thiserror::Error)]
#[error("not a readable ONNX model: {0}")]
pub struct Unreadable(String);

/// Zeroes every subnormal value in the model's float initialisers (keeping its sign) and
/// returns how many there were. The bytes are left untouched when they cannot be walked.
pub fn flush_weights(model: &mut [u8]) -> Result<usize, Unreadable> {
    let mut ranges = Vec::new();
    for (tag, range) in fields(model)? {
        if tag == MODEL_GRAPH {
            for (tag, init) in fields(&model[range.clone()])? {
                if tag == GRAPH_INITIALIZER {
                    let at = range.start + init.start;
                    let tensor = &model[at..range.start + init.end];
                    ranges.extend(
                        float_payloads(tensor)?
                            .into_iter()
                            .map(|r| at + r.start..at + r.end),
                    );
                }
            }
        }
    }
    let mut flushed = 0;
    for range in ranges {
        for word in model[range].chunks_exact_mut(4) {
            let v = f32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            if v.is_subnormal() {
                word.copy_from_slice(&0f32.copysign(v).to_le_bytes());
                flushed += 1;
            }
        }
    }
    Ok(flushed)
}

/// The byte ranges of a float tensor's values (packed `float_data` and `raw_data`); none for
/// other element types.
fn float_payloads(tensor: &[u8]) -> Result<Vec<std::ops::Range<usize>>, Unreadable> {
    let mut data_type = None;
    let mut payloads = Vec::new();
    for (tag, range) in fields(tensor)? {
        match tag {
            TENSOR_DATA_TYPE => data_type = Some(varint(&tensor[range])?),
            TENSOR_FLOAT_DATA | TENSOR_RAW_DATA => payloads.push(range),
            _ => {}
        }
    }
    Ok(if data_type == Some(FLOAT) {
        payloads
    } else {
        Vec::new()
    })
}

/// Every field of one message as (field number, byte range of its value). A length-delimited
/// field's range is its payload; a scalar's is its encoded bytes.
fn fields(msg: &[u8]) -> Result<Vec<(u32, std::ops::Range<usize>)>, Unreadable> {
    let bad = |e: &dyn std::fmt::Display| Unreadable(e.to_string());
    let mut buf = msg;
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (tag, wire) = decode_key(&mut buf).map_err(|e| bad(&e))?;
        let start = msg.len() - buf.len();
        let len = match wire {
            WireType::Varint => {
                decode_varint(&mut buf).map_err(|e| bad(&e))?;
                0
            }
            WireType::SixtyFourBit => 8,
            WireType::ThirtyTwoBit => 4,
            WireType::LengthDelimited => {
                let len = decode_varint(&mut buf).map_err(|e| bad(&e))?;
                usize::try_from(len).map_err(|e| bad(&e))?
            }
            WireType::StartGroup | WireType::EndGroup => return Err(bad(&"group fields")),
        };
        let value_start = msg.len() - buf.len();
        if len > buf.len() {
            return Err(bad(&"a field runs past the end"));
        }
        buf = &buf[len..];
        let end = msg.len() - buf.len();
        // A varint's value is the bytes the decoder just consumed.
        out.push((
            tag,
            if wire == WireType::Varint {
                start..end
            } else {
                value_start..end
            },
        ));
    }
    Ok(out)
}

/// Runs `f` (an ONNX Runtime call) with subnormal floats read and written as zero on this
/// thread (x86's flush-to-zero and denormals-are-zero, aarch64's flush-to-zero), then puts the
/// thread's floating-point modes back as they were, also if `f` panics.
///
/// ONNX Runtime computes a single-threaded session on the calling thread, whose modes are
/// ours; its own "denormal as zero" option only sets them on its pool threads. The modes are
/// changed only around the foreign call, so none of our own arithmetic depends on them.
pub fn flush_to_zero<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: Rust assumes the default floating-point environment; inside `f` only ONNX
    // Runtime's C++ kernels do float arithmetic (the `ort` wrapper around them moves buffers),
    // and the guard restores the modes before anything of ours reads a result.
    unsafe { no_denormals::no_denormals(f) }
}

fn varint(mut bytes: &[u8]) -> Result<u64, Unreadable> {
    decode_varint(&mut bytes).map_err(|e| Unreadable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::onnx::GraphBuilder;

    fn model(weights: Vec<f32>) -> Vec<u8> {
        let mut g = GraphBuilder::new();
        g.input("x", &[weights.len() as i64]);
        let w = g.constant_f32(&[weights.len() as i64], weights);
        g.node_to("Mul", &["x", &w], vec![], "y");
        g.output("y", &[-1]);
        // An int64 tensor whose words read as f32 would be subnormal (1 is 0x00000001):
        // integers are not weights to flush.
        g.constant_i64(&[2], vec![1, 7]);
        g.to_model_bytes("subnormal_test")
    }

    #[test]
    fn zeroes_subnormal_weights_and_nothing_else() {
        let tiny = f32::from_bits(1); // the smallest positive subnormal
        let weights = vec![1.5, tiny, -tiny, f32::MIN_POSITIVE, -2.0e-39, 0.0];
        let mut bytes = model(weights.clone());
        let before = bytes.clone();
        assert_eq!(flush_weights(&mut bytes).unwrap(), 3);
        assert_eq!(bytes.len(), before.len());
        let changed = bytes.iter().zip(&before).filter(|(a, b)| a != b).count();
        assert!(changed > 0 && changed <= 3 * 4, "{changed} bytes changed");
        // A second pass finds nothing left.
        assert_eq!(flush_weights(&mut bytes).unwrap(), 0);
    }

    #[test]
    fn a_model_without_subnormals_is_left_byte_for_byte() {
        let mut bytes = model(vec![1.0, -3.0, f32::MIN_POSITIVE]);
        let before = bytes.clone();
        assert_eq!(flush_weights(&mut bytes).unwrap(), 0);
        assert_eq!(bytes, before);
    }

    #[test]
    fn flush_to_zero_applies_inside_and_is_undone_after() {
        let tiny = std::hint::black_box(f32::from_bits(1));
        let half = std::hint::black_box(0.5f32);
        // Outside: the smallest subnormal halves to zero by rounding, but doubles exactly.
        assert_eq!(tiny * 2.0, f32::from_bits(2));
        let inside = flush_to_zero(|| std::hint::black_box(tiny) * std::hint::black_box(2.0f32));
        // x86 reads the subnormal operand as zero; aarch64 flushes the subnormal result.
        assert_eq!(inside, 0.0);
        assert_eq!(tiny * 2.0, f32::from_bits(2), "the modes are restored");
        assert_eq!(half * 2.0, 1.0);
    }

    #[test]
    fn garbage_is_refused_untouched() {
        let mut bytes = b"\xff\xff\xff\xff not protobuf".to_vec();
        let before = bytes.clone();
        assert!(flush_weights(&mut bytes).is_err());
        assert_eq!(bytes, before);
    }
}
