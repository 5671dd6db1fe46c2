//! The subset of the TFLite schema (`schema.fbs`) the converter reads, decoded into plain structs.
//!
//! Field ids follow the declaration order in `schema.fbs`; a union occupies two ids (type, value).

use super::ConvertError;
use super::flatbuf::{Buf, Table};

type Result<T> = std::result::Result<T, ConvertError>;

/// Upper bounds that keep a hostile file from making us allocate without limit.
const MAX_TENSORS: usize = 100_000;
const MAX_OPERATORS: usize = 100_000;

pub mod op {
    pub const ADD: i32 = 0;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const LOGISTIC: i32 = 14;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RELU: i32 = 19;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const RESIZE_BILINEAR: i32 = 23;
    pub const PAD: i32 = 34;
    pub const PRELU: i32 = 54;
}

pub mod dtype {
    pub const FLOAT32: u8 = 0;
    pub const FLOAT16: u8 = 1;
    pub const INT32: u8 = 2;
}

pub struct Tensor {
    pub shape: Vec<i32>,
    pub dtype: u8,
    pub name: String,
    /// Raw little-endian contents for constants; empty for activations.
    pub data: Vec<u8>,
}

pub struct Operator<'a> {
    pub code: i32,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: Option<Table<'a>>,
}

pub struct Model<'a> {
    pub tensors: Vec<Tensor>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub operators: Vec<Operator<'a>>,
}

impl<'a> Model<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Model<'a>> {
        let root = Buf(bytes).root()?;
        // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
        let codes = root
            .tables(1)?
            .iter()
            .map(|c| {
                // OperatorCode: deprecated_builtin_code 0 (byte), builtin_code 3 (int).
                let old = c.u8_or(0, 0)? as i8 as i32;
                let new = c.i32_or(3, 0)?;
                Ok(old.max(new))
            })
            .collect::<Result<Vec<i32>>>()?;
        let buffers = root.tables(4)?;
        let subgraphs = root.tables(2)?;
        let graph = match subgraphs.as_slice() {
            [g] => *g,
            [] => return Err(ConvertError::Corrupt("no subgraph".into())),
            _ => return Err(ConvertError::Unsupported("more than one subgraph".into())),
        };
        // SubGraph: tensors 0, inputs 1, outputs 2, operators 3.
        let raw_tensors = graph.tables(0)?;
        if raw_tensors.len() > MAX_TENSORS {
            return Err(ConvertError::Unsupported("too many tensors".into()));
        }
        let mut tensors = Vec::with_capacity(raw_tensors.len());
        for t in raw_tensors {
            // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4.
            let buffer = t.u32_or(2, 0)? as usize;
            let data = match buffers.get(buffer) {
                // Buffer: data 0 ([ubyte]). Buffer 0 is the conventional empty one.
                Some(b) => b.vector(0, 1)?.map(|v| v.bytes().to_vec()),
                None if buffer == 0 => None,
                None => return Err(ConvertError::Corrupt("buffer index out of range".into())),
            };
            tensors.push(Tensor {
                shape: t.i32s(0)?,
                dtype: t.u8_or(1, 0)?,
                name: t.string(3)?,
                data: data.unwrap_or_default(),
            });
        }
        let raw_ops = graph.tables(3)?;
        if raw_ops.len() > MAX_OPERATORS {
            return Err(ConvertError::Unsupported("too many operators".into()));
        }
        let mut operators = Vec::with_capacity(raw_ops.len());
        for o in raw_ops {
            // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
            let index = o.u32_or(0, 0)? as usize;
            let code = *codes
                .get(index)
                .ok_or_else(|| ConvertError::Corrupt("opcode index out of range".into()))?;
            operators.push(Operator {
                code,
                inputs: o.i32s(1)?,
                outputs: o.i32s(2)?,
                options: o.table(4)?,
            });
        }
        let model = Model {
            tensors,
            inputs: graph.i32s(1)?,
            outputs: graph.i32s(2)?,
            operators,
        };
        model.check_indices()?;
        Ok(model)
    }

    fn check_indices(&self) -> Result<()> {
        let n = self.tensors.len() as i32;
        let ok = |i: &i32| *i < n && *i >= -1;
        let all_ok = self.inputs.iter().all(|i| *i >= 0 && *i < n)
            && self.outputs.iter().all(|i| *i >= 0 && *i < n)
            && self
                .operators
                .iter()
                .all(|o| o.inputs.iter().all(ok) && o.outputs.iter().all(|i| *i >= 0 && *i < n));
        if all_ok {
            Ok(())
        } else {
            Err(ConvertError::Corrupt("tensor index out of range".into()))
        }
    }
}
