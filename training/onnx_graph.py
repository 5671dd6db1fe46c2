"""An ONNX graph as a JAX function of its initialisers: the training code's own forward pass.

`parity.py` scores crops with it and compares with what ONNX Runtime gives in the service, so
a difference in how either side reads the graph (or in the crops) shows up as a failing check.
It is also where fine-tuning the networks' own layers starts (gradients with respect to the
initialisers); see MODEL_CARD.md for how that candidate measured.

Only the operators the MiniFASNet family and Livegate's head use are implemented; any other
fails loudly.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import onnx
from onnx import numpy_helper

# Batch-norm statistics are not trained: the one BatchNormalization node (on the 128-d
# embedding) keeps its running mean and variance; its scale and shift are trained.
FROZEN_SUFFIXES = ("running_mean", "running_var")


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _free_batch(model):
    """Batch dimension of the input and output named, not fixed to 1, so that one call can
    score several crops."""
    for v in list(model.graph.input[:1]) + list(model.graph.output[:1]):
        dim = v.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_value")
        dim.dim_param = "N"
    # Inner shapes recorded for batch 1 would contradict the free batch.
    del model.graph.value_info[:]


def _depthwise(x, w, at):
    """A depthwise convolution as a sum of shifted, strided products: XLA's CPU gradient of
    grouped convolutions is orders of magnitude slower than these elementwise operations."""
    p = at.get("pads", [0, 0, 0, 0])
    sh, sw = at.get("strides", [1, 1])
    kh, kw = w.shape[2], w.shape[3]
    if not any(p) and (kh, kw) == x.shape[2:]:
        # The kernel covers the whole map (MiniFASNet's global depthwise layer): one product.
        return jnp.einsum("nchw,chw->nc", x, w[:, 0])[:, :, None, None]
    x = jnp.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    y = 0.0
    for i in range(kh):
        for j in range(kw):
            tap = x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            y = y + tap * w[:, 0, i, j].reshape(1, -1, 1, 1)
    return y


class Graph:
    def __init__(self, path):
        self.model = onnx.load(path)
        g = self.model.graph
        self.inputs = [i.name for i in g.input]
        self.input = self.inputs[0]
        self.output = g.output[0].name
        inits = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in g.initializer}
        self.params = {k: v for k, v in inits.items() if not k.endswith(FROZEN_SUFFIXES)}
        self.consts = {k: v for k, v in inits.items() if k.endswith(FROZEN_SUFFIXES)}
        self.nodes = [(n.op_type, list(n.input), list(n.output), _attrs(n)) for n in g.node]
        known = {"Conv", "PRelu", "Add", "Mul", "MatMul", "Flatten", "BatchNormalization",
                 "GlobalAveragePool", "Relu", "Sigmoid", "Concat", "Sub", "Sqrt", "Max"}
        unknown = {op for op, *_ in self.nodes} - known
        if unknown:
            raise ValueError(f"operators not implemented: {sorted(unknown)}")

    def after(self, cut):
        """The nodes that run after the value `cut` is produced (all of them for the input)."""
        if cut == self.input:
            return self.nodes
        for k, (_, _, outs, _) in enumerate(self.nodes):
            if cut in outs:
                return self.nodes[k + 1:]
        raise ValueError(f"no value called {cut!r} in the graph")

    def apply(self, params, x, cut=None, upto=None):
        """Runs the graph and returns its output (or the value named `upto`). `x` is the input
        (NCHW float32, BGR 0..255; a dict by name for several inputs), or with `cut` the value
        of that name, from which the rest of the graph runs. `params` may hold only the
        initialisers that part reads."""
        cut = cut or self.input
        env = dict(x) if isinstance(x, dict) else {cut: x}
        env.update({k: jnp.asarray(v) for k, v in self.consts.items()})
        env.update({k: jnp.asarray(v) for k, v in self.params.items() if k not in params})
        env.update(params)
        for op, ins, outs, at in self.after(cut):
            a = [env[i] for i in ins if i]
            if op == "Conv" and at.get("group", 1) > 1 and at.get("group") == a[0].shape[1]:
                y = _depthwise(a[0], a[1], at)
                if len(a) > 2:
                    y = y + a[2].reshape(1, -1, 1, 1)
            elif op == "Conv" and at.get("group", 1) == 1 and a[1].shape[2:] == (1, 1) \
                    and tuple(at.get("strides", [1, 1])) == (1, 1) and not any(at.get("pads", [])):
                # A pointwise convolution is a matrix product, which XLA's CPU backend runs
                # several times faster than its convolution (and its gradient).
                y = jnp.einsum("nchw,oc->nohw", a[0], a[1][:, :, 0, 0])
                if len(a) > 2:
                    y = y + a[2].reshape(1, -1, 1, 1)
            elif op == "Conv":
                p = at.get("pads", [0, 0, 0, 0])
                y = jax.lax.conv_general_dilated(
                    a[0], a[1],
                    window_strides=tuple(at.get("strides", [1, 1])),
                    padding=[(p[0], p[2]), (p[1], p[3])],
                    rhs_dilation=tuple(at.get("dilations", [1, 1])),
                    feature_group_count=at.get("group", 1),
                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                )
                if len(a) > 2:
                    y = y + a[2].reshape(1, -1, 1, 1)
            elif op == "PRelu":
                slope = a[1]
                if slope.ndim == 1 and a[0].ndim == 4:
                    slope = slope.reshape(1, -1, 1, 1)
                y = jnp.where(a[0] >= 0, a[0], a[0] * slope)
            elif op == "Add":
                y = a[0] + a[1]
            elif op == "Sub":
                y = a[0] - a[1]
            elif op == "Max":
                y = jnp.maximum(a[0], a[1])
            elif op == "Sqrt":
                y = jnp.sqrt(a[0])
            elif op == "Mul":
                y = a[0] * a[1]
            elif op == "MatMul":
                y = a[0] @ a[1]
            elif op == "Flatten":
                y = a[0].reshape(a[0].shape[0], -1)
            elif op == "BatchNormalization":
                eps = at.get("epsilon", 1e-5)
                y = (a[0] - a[3]) / jnp.sqrt(a[4] + eps) * a[1] + a[2]
            elif op == "GlobalAveragePool":
                y = a[0].mean(axis=(2, 3), keepdims=True)
            elif op == "Relu":
                y = jax.nn.relu(a[0])
            elif op == "Sigmoid":
                y = jax.nn.sigmoid(a[0])
            elif op == "Concat":
                y = jnp.concatenate(a, axis=at.get("axis", 0))
            env[outs[0]] = y
            if upto is not None and outs[0] == upto:
                return y
        return env[self.output]

    def session(self, outputs=()):
        """An ONNX Runtime session of the original weights with a free batch dimension and
        `outputs` (names of inner values) exposed after the graph's own output."""
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        _free_batch(model)
        return exposing(model, outputs)


def exposing(model, outputs, threads=None):
    """An ONNX Runtime session of `model` (a ModelProto, changed in place) with `outputs`
    (names of inner values) exposed after its own outputs. Threads: `threads`, else
    LIVEGATE_TRAIN_THREADS, else ONNX Runtime's default."""
    import onnxruntime as ort

    have = {o.name for o in model.graph.output}
    for name in outputs:
        if name not in have:
            model.graph.output.append(onnx.helper.make_tensor_value_info(
                name, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or int(os.environ.get("LIVEGATE_TRAIN_THREADS", "0"))
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
