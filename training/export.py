"""Livegate's PAD model as ONNX graphs, and fold models for leave-one-source-out evaluation.

    python training/export.py --folds training/folds.json --out DIR [--models DIR]

writes the folder `DIR/<source>/` for every fold layer in `folds.json`: the same graphs as the
shipped model with the layer trained without that source (`livegate eval --loso-models DIR`).
Fold models share their 3.5 MB of stock weights with the shipped model, so only the layers are
kept in the repository.

The model is a folder with one graph per network: `crop_27.onnx` runs MiniFASNet V2 on input
`crop_27`, `crop_40.onnx` V1SE on `crop_40` (each N×3×80×80, BGR 0..255, the face box scaled
2.7× and 4.0×). Each network is read at the values in `TAPS` — its 128-d embedding and the
per-channel mean and standard deviation of its stage-2 and stage-3 outputs (64 channels at
20×20, 128 at 10×10: the texture levels, where print dots, screen pixels and moiré still show),
`FEATURES` values — and the layer over both is linear, so each graph carries its own share of
it: output `partial_logits` (N×2, [0, z_k]), the bias in `crop_27`'s share. The live probability
is index 1 of the softmax over the two shares' sum, i.e. sigmoid(z_27 + z_40). Two graphs rather
than one so that the service can run the two networks at the same time on two cores: ONNX
Runtime runs one graph's independent branches one after the other, and its own parallel
executor was 2× slower on this graph (`docs/performance.md`).

Every PReLU of the stock networks is written as Max(x, slope·x), which is the same function for
slopes ≤ 1 (all of theirs) and which ONNX Runtime runs about 0.7× as long on this graph: its
PReLU kernel broadcasts the per-channel slope element by element, and each one breaks its
blocked-layout convolution chain (measured in `docs/performance.md`).
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
# The last blocks of stages 2 and 3 (N×64×20×20 and N×128×10×10 in both networks).
STAGE2 = "/stage2/model/model.3/Add_output_0"
STAGE3 = "/stage3/model/model.5/Add_output_0"
# What the layer reads from each network, in order: (value, how it becomes a vector).
# "flat" is the value as it is; "mean" / "std" are per-channel statistics over the map
# (population standard deviation, as numpy's `std`). Chosen by leave-one-source-out figures
# (MODEL_CARD.md): the embedding alone travels worse than with the stage-2 and stage-3 statistics.
TAPS = (
    (EMBEDDING, "flat"),
    (STAGE2, "mean"),
    (STAGE2, "std"),
    (STAGE3, "mean"),
    (STAGE3, "std"),
)
FEATURES = 128 + 2 * 64 + 2 * 128  # per network
# Each graph's output: its network's share of the layer's logits.
OUTPUT = "partial_logits"


def tap_features(values):
    """The numpy side of `TAPS`: one network's tapped values (in `TAPS`' order of distinct
    names) → N × FEATURES."""
    by_name = dict(values)
    parts = []
    for name, kind in TAPS:
        v = by_name[name]
        if kind == "flat":
            parts.append(v.reshape(len(v), -1))
        elif kind == "mean":
            parts.append(v.mean(axis=(2, 3)))
        else:
            parts.append(v.std(axis=(2, 3)))
    return np.concatenate(parts, axis=1)


def tap_names():
    return list(dict.fromkeys(name for name, _ in TAPS))


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
    keep, needed = [], set(tap_names())
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
    slopes = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    nodes = [m for n in nodes for m in _prelu_as_max(n, slopes, prefix)]
    inits = []
    for t in g.initializer:
        if t.name in needed:
            tt = onnx.TensorProto()
            tt.CopyFrom(t)
            tt.name = prefix + t.name
            inits.append(tt)
    return nodes, inits, _features(prefix)


def _prelu_as_max(node, slopes, prefix):
    """`node` itself, or for a PReLU whose slopes are all ≤ 1 the two nodes Mul and Max that
    compute it: for x ≥ 0, x ≥ slope·x; for x < 0, slope·x ≥ x (exactly PReLU's branches)."""
    if node.op_type != "PRelu":
        return [node]
    x, slope = node.input
    stock = slope[len(prefix):]
    if stock not in slopes or np.any(slopes[stock] > 1.0):
        return [node]
    scaled = node.output[0] + "/scaled"
    return [helper.make_node("Mul", [x, slope], [scaled], name=node.name + "/scaled"),
            helper.make_node("Max", [x, scaled], list(node.output), name=node.name)]


def _features(prefix):
    """Nodes that turn one network's tapped values into its feature vector (N × FEATURES),
    computed as `tap_features` does: flatten, per-channel mean, per-channel population std
    (centred first, which float32 needs: E[x²] − E[x]² cancels badly)."""
    nodes, outs = [], []
    for k, (name, kind) in enumerate(TAPS):
        v, o = prefix + name, f"{prefix}feature{k}"
        if kind == "flat":
            nodes.append(helper.make_node("Flatten", [v], [o], axis=1, name=o))
        elif kind == "mean":
            nodes += [helper.make_node("GlobalAveragePool", [v], [o + "/gap"], name=o + "/gap"),
                      helper.make_node("Flatten", [o + "/gap"], [o], axis=1, name=o)]
        else:
            nodes += [
                helper.make_node("GlobalAveragePool", [v], [o + "/mean"], name=o + "/mean"),
                helper.make_node("Sub", [v, o + "/mean"], [o + "/centred"], name=o + "/centred"),
                helper.make_node("Mul", [o + "/centred", o + "/centred"], [o + "/sq"], name=o + "/sq"),
                helper.make_node("GlobalAveragePool", [o + "/sq"], [o + "/var"], name=o + "/var"),
                helper.make_node("Sqrt", [o + "/var"], [o + "/sd"], name=o + "/sd"),
                helper.make_node("Flatten", [o + "/sd"], [o], axis=1, name=o),
            ]
        outs.append(o)
    out = f"{prefix}features"
    nodes.append(helper.make_node("Concat", outs, [out], axis=1, name=out))
    return nodes, out


def layer_initializers(head, k):
    """Graph k's share of the layer (`head.w` is laid out V2's `FEATURES` first, then V1SE's;
    the bias goes with the first) as the initializers `head/weight` (FEATURES × 2, [0, w]) and
    `head/bias` ([0, b])."""
    w = np.zeros((FEATURES, 2), np.float32)
    w[:, 1] = head.w[k * FEATURES:(k + 1) * FEATURES]
    bias = np.array([0.0, head.b if k == 0 else 0.0], np.float32)
    return [numpy_helper.from_array(w, "head/weight"), numpy_helper.from_array(bias, "head/bias")]


def build(models_dir, head):
    """One graph per network, in `BACKBONES`' order: {input name: ModelProto}, each ending in
    its share of the layer (`layer_initializers`)."""
    graphs = {}
    for k, (input_name, (file, _)) in enumerate(BACKBONES.items()):
        prefix = file.split(".")[0] + "/"
        nodes, inits, (feature_nodes, features) = _backbone(
            os.path.join(models_dir, file), prefix, input_name)
        inits += layer_initializers(head, k)
        nodes += feature_nodes + [
            helper.make_node("MatMul", [features, "head/weight"], ["head/matmul"], name="head/matmul"),
            helper.make_node("Add", ["head/matmul", "head/bias"], [OUTPUT], name="head/add"),
        ]
        graph = helper.make_graph(
            nodes, f"livegate_pad_{input_name}",
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, 80, 80])],
            [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 2])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="livegate-training")
        model.ir_version = 8
        onnx.checker.check_model(model)
        graphs[input_name] = model
    return graphs


def write_model(models_dir, head, folder):
    """The model as the service loads it: `folder/<input name>.onnx` for each network."""
    os.makedirs(folder, exist_ok=True)
    for input_name, model in build(models_dir, head).items():
        onnx.save(model, os.path.join(folder, f"{input_name}.onnx"))


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
        write_model(models_dir, Head.from_json(d), os.path.join(a.out, source))
    print(f"wrote {len(folds)} fold models to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
