"""Livegate's PAD model as one ONNX graph, and fold models for leave-one-source-out evaluation.

    python training/export.py --folds training/folds.json --out DIR [--models DIR]

writes `DIR/<source>.onnx` for every fold layer in `folds.json`: the same graph as the shipped
model with the layer trained without that source (`livegate eval --loso-models DIR`). Fold
models share their 3.5 MB of stock weights with the shipped model, so only the layers are kept
in the repository.

The graph: MiniFASNet V2 on input `crop_27` and V1SE on `crop_40` (each N×3×80×80, BGR 0..255,
the face box scaled 2.7× and 4.0×), each up to its 128-d embedding; the two embeddings side by
side; one linear layer to output `logits` (N×2, [0, z]) so that softmax index 1 is
sigmoid(z), the live probability.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Input name → (stock file, context scale × 10 of its crop).
BACKBONES = {
    "crop_27": ("MiniFASNetV2.onnx", 27),
    "crop_40": ("MiniFASNetV1SE.onnx", 40),
}
# The embedding both networks expose before their own classifier.
EMBEDDING = "/bn/BatchNormalization_output_0"
DIM = 128


class Head:
    """z = w · embeddings + b; live probability sigmoid(z)."""

    def __init__(self, w, b):
        self.w = np.asarray(w, dtype=np.float64)
        self.b = float(b)

    @staticmethod
    def from_standardised(w, b, mu, sd):
        # Standardisation folded into the layer: w·((x − mu)/sd) + b = (w/sd)·x + b − w·mu/sd.
        return Head(w / sd, b - float(np.sum(w * mu / sd)))

    @staticmethod
    def from_json(d):
        return Head(d["w"], d["b"])

    def to_json(self):
        return {"w": [float(v) for v in self.w], "b": self.b}

    def score(self, x):
        return 1.0 / (1.0 + np.exp(-(x @ self.w + self.b)))


def _backbone(path, prefix, input_name):
    """The stock graph up to its embedding, every name prefixed, its input renamed."""
    m = onnx.load(path)
    g = m.graph
    keep, needed = [], {EMBEDDING}
    for node in reversed(g.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    old_input = g.input[0].name
    rename = lambda n: input_name if n == old_input else (prefix + n if n else n)  # noqa: E731
    nodes = []
    for n in keep:
        nn = onnx.NodeProto()
        nn.CopyFrom(n)
        nn.name = prefix + n.name
        del nn.input[:]
        nn.input.extend(rename(i) for i in n.input)
        del nn.output[:]
        nn.output.extend(rename(o) for o in n.output)
        nodes.append(nn)
    inits = []
    for t in g.initializer:
        if t.name in needed:
            tt = onnx.TensorProto()
            tt.CopyFrom(t)
            tt.name = prefix + t.name
            inits.append(tt)
    return nodes, inits, prefix + EMBEDDING


def build(models_dir, head):
    nodes, inits, embs, inputs = [], [], [], []
    for input_name, (file, _) in BACKBONES.items():
        prefix = file.split(".")[0] + "/"
        n, i, e = _backbone(os.path.join(models_dir, file), prefix, input_name)
        nodes += n
        inits += i
        embs.append(e)
        inputs.append(helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, 80, 80]))
    w = np.zeros((len(embs) * DIM, 2), np.float32)
    w[:, 1] = head.w
    bias = np.array([0.0, head.b], np.float32)
    inits += [numpy_helper.from_array(w, "head/weight"), numpy_helper.from_array(bias, "head/bias")]
    nodes += [
        helper.make_node("Concat", embs, ["head/embeddings"], axis=1, name="head/concat"),
        helper.make_node("MatMul", ["head/embeddings", "head/weight"], ["head/matmul"], name="head/matmul"),
        helper.make_node("Add", ["head/matmul", "head/bias"], ["logits"], name="head/add"),
    ]
    graph = helper.make_graph(nodes, "livegate_pad", inputs,
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="livegate-training")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_model(models_dir, head, path):
    onnx.save(build(models_dir, head), path)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folds", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--models", default="")
    a = p.parse_args()
    from train import find_models

    models_dir = find_models(a.models)
    os.makedirs(a.out, exist_ok=True)
    with open(a.folds) as f:
        folds = json.load(f)
    for source, d in folds.items():
        write_model(models_dir, Head.from_json(d), os.path.join(a.out, f"{source}.onnx"))
    print(f"wrote {len(folds)} fold models to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
