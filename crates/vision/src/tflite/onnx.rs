//! Writes ONNX `ModelProto` bytes for graphs the crate builds itself (converted TFLite models,
//! the dlib ResNet).
//!
//! The handful of `onnx.proto` messages needed are encoded directly with the protobuf wire format
//! (field numbers from `onnx.proto`): a few dozen lines, no code generation, no build script.

/// ONNX IR version and default-domain opset the emitted models declare.
const IR_VERSION: i64 = 8;
const OPSET: i64 = 13;

const FLOAT: i32 = 1;
const INT64: i32 = 7;

#[derive(Debug, Clone)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Str(String),
}

#[derive(Debug, Clone)]
pub enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

#[derive(Debug, Clone)]
struct Node {
    op: &'static str,
    inputs: Vec<String>,
    outputs: Vec<String>,
    attrs: Vec<(&'static str, Attr)>,
}

#[derive(Debug, Clone)]
struct Initializer {
    name: String,
    dims: Vec<i64>,
    data: Data,
}

/// An ONNX graph under construction. Tensor names are generated unless the caller names them.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    initializers: Vec<Initializer>,
    inputs: Vec<(String, Vec<i64>)>,
    outputs: Vec<(String, Vec<i64>)>,
    counter: usize,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fresh(&mut self, hint: &str) -> String {
        self.counter += 1;
        format!("{hint}_{}", self.counter)
    }

    pub fn input(&mut self, name: &str, dims: &[i64]) {
        self.inputs.push((name.to_string(), dims.to_vec()));
    }

    pub fn output(&mut self, name: &str, dims: &[i64]) {
        self.outputs.push((name.to_string(), dims.to_vec()));
    }

    pub fn constant_f32(&mut self, dims: &[i64], data: Vec<f32>) -> String {
        let name = self.fresh("const");
        self.initializers.push(Initializer {
            name: name.clone(),
            dims: dims.to_vec(),
            data: Data::F32(data),
        });
        name
    }

    pub fn constant_i64(&mut self, dims: &[i64], data: Vec<i64>) -> String {
        let name = self.fresh("const");
        self.initializers.push(Initializer {
            name: name.clone(),
            dims: dims.to_vec(),
            data: Data::I64(data),
        });
        name
    }

    /// Adds a single-output node writing to `output`.
    pub fn node_to(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
        output: &str,
    ) {
        self.nodes.push(Node {
            op,
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.to_string()],
            attrs,
        });
    }

    /// Adds a single-output node and returns its generated output name.
    pub fn node(
        &mut self,
        op: &'static str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
    ) -> String {
        let out = self.fresh(op);
        self.node_to(op, inputs, attrs, &out);
        out
    }

    /// Serialises the graph as a complete `ModelProto`.
    pub fn to_model_bytes(&self, graph_name: &str) -> Vec<u8> {
        let mut graph = Vec::new();
        for n in &self.nodes {
            put_msg(&mut graph, 1, &encode_node(n));
        }
        put_str(&mut graph, 2, graph_name);
        for t in &self.initializers {
            put_msg(&mut graph, 5, &encode_tensor(t));
        }
        for (name, dims) in &self.inputs {
            put_msg(&mut graph, 11, &encode_value_info(name, dims));
        }
        for (name, dims) in &self.outputs {
            put_msg(&mut graph, 12, &encode_value_info(name, dims));
        }

        let mut model = Vec::new();
        put_varint_field(&mut model, 1, IR_VERSION as u64);
        put_str(&mut model, 2, "livegate");
        put_msg(&mut model, 7, &graph);
        let mut opset = Vec::new();
        put_str(&mut opset, 1, "");
        put_varint_field(&mut opset, 2, OPSET as u64);
        put_msg(&mut model, 8, &opset);
        model
    }
}

fn encode_node(n: &Node) -> Vec<u8> {
    let mut b = Vec::new();
    for i in &n.inputs {
        put_str(&mut b, 1, i);
    }
    for o in &n.outputs {
        put_str(&mut b, 2, o);
    }
    if let Some(first) = n.outputs.first() {
        put_str(&mut b, 3, first);
    }
    put_str(&mut b, 4, n.op);
    for (name, a) in &n.attrs {
        put_msg(&mut b, 5, &encode_attr(name, a));
    }
    b
}

fn encode_attr(name: &str, a: &Attr) -> Vec<u8> {
    // AttributeProto: name 1, i 3, s 4, ints 8, type 20 (INT 2, STRING 3, INTS 7).
    let mut b = Vec::new();
    put_str(&mut b, 1, name);
    match a {
        Attr::Int(i) => {
            put_varint_field(&mut b, 3, *i as u64);
            put_varint_field(&mut b, 20, 2);
        }
        Attr::Str(s) => {
            put_str(&mut b, 4, s);
            put_varint_field(&mut b, 20, 3);
        }
        Attr::Ints(v) => {
            for i in v {
                put_varint_field(&mut b, 8, *i as u64);
            }
            put_varint_field(&mut b, 20, 7);
        }
    }
    b
}

fn encode_tensor(t: &Initializer) -> Vec<u8> {
    // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
    let mut b = Vec::new();
    for d in &t.dims {
        put_varint_field(&mut b, 1, *d as u64);
    }
    let (dtype, raw): (i32, Vec<u8>) = match &t.data {
        Data::F32(v) => (FLOAT, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        Data::I64(v) => (INT64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
    };
    put_varint_field(&mut b, 2, dtype as u64);
    put_str(&mut b, 8, &t.name);
    put_bytes(&mut b, 9, &raw);
    b
}

fn encode_value_info(name: &str, dims: &[i64]) -> Vec<u8> {
    // ValueInfoProto{name 1, type 2}; TypeProto{tensor_type 1}; Tensor{elem_type 1, shape 2};
    // TensorShapeProto{dim 1}; Dimension{dim_value 1}.
    let mut shape = Vec::new();
    for d in dims {
        let mut dim = Vec::new();
        put_varint_field(&mut dim, 1, *d as u64);
        put_msg(&mut shape, 1, &dim);
    }
    let mut tensor = Vec::new();
    put_varint_field(&mut tensor, 1, FLOAT as u64);
    put_msg(&mut tensor, 2, &shape);
    let mut ty = Vec::new();
    put_msg(&mut ty, 1, &tensor);
    let mut b = Vec::new();
    put_str(&mut b, 1, name);
    put_msg(&mut b, 2, &ty);
    b
}

fn put_varint(b: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        b.push((v as u8) | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

fn put_key(b: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(b, ((field as u64) << 3) | wire as u64);
}

fn put_varint_field(b: &mut Vec<u8>, field: u32, v: u64) {
    put_key(b, field, 0);
    put_varint(b, v);
}

fn put_bytes(b: &mut Vec<u8>, field: u32, data: &[u8]) {
    put_key(b, field, 2);
    put_varint(b, data.len() as u64);
    b.extend_from_slice(data);
}

fn put_str(b: &mut Vec<u8>, field: u32, s: &str) {
    put_bytes(b, field, s.as_bytes());
}

fn put_msg(b: &mut Vec<u8>, field: u32, msg: &[u8]) {
    put_bytes(b, field, msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_encoding() {
        let mut b = Vec::new();
        put_varint(&mut b, 300);
        assert_eq!(b, [0xAC, 0x02]);
        let mut b = Vec::new();
        put_varint(&mut b, (-1i64) as u64);
        assert_eq!(b.len(), 10);
    }
}
