"""Copies of every trainable crop, live AND attack (labelled as the parent), whose feature
statistics inside the networks are shifted: the domain-generalisation remedy of the literature,
measured on the shipped layer's taps (issue #10; not part of train.sh or CI).

    python gen_style.py SEED MODE [LAYER]

At LAYER (default: the stem's output, 32 channels at 40×40 in both networks, before any tapped value) each
channel's mean μ and standard deviation σ over the map are what the literature calls a crop's
"style" — camera, light and compression live there as much as print or screen texture. The map
is re-normalised to new statistics and run on to the taps:

- `dsu`: μ and σ each moved by Gaussian noise whose scale is how much that statistic varies
  over the training crops (DSU, Li et al., ICLR 2022: "uncertainty in feature statistics");
- `mix`: μ and σ mixed with those of a random crop of the same class from another source,
  λ ~ Beta(0.1, 0.1) (MixStyle, Zhou et al., ICLR 2021, across sources rather than batches);
- `mixany`: as `mix`, with a crop of either class from another source;
- `none`: no shift — a check that the split into two halves reproduces the crops' features.

A mixing partner and λ are drawn once per still and shared by both networks (2.7× and 4.0×
crops); `dsu`'s noise is drawn per network and channel. The copies' 1,024 features are cached
as `extra_<seed>_<kind>.npz` for `../tight_chips/grid.py` (the kind is MODE, or
MODE-<path of LAYER> for another LAYER), with each copy's partner: a fold must leave out every
copy whose partner's source it holds out (README: without that, the held-out source's style
leaks into training).
"""
import os
import sys

import numpy as np
import onnx
from onnx.utils import Extractor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

from common import CROPS, OUT, T  # noqa: E402
from data import Crops, to_input  # noqa: E402
from export import BACKBONES, tap_features, tap_names  # noqa: E402
from onnx_graph import Graph, _free_batch  # noqa: E402

STEM = "/stem_dw/prelu/PRelu_output_0"
EPS = 1e-6


def halves(path, layer):
    """ONNX Runtime sessions for input → `layer` and `layer` → the taps."""
    g = Graph(path)
    head = g.session([layer])
    model = onnx.ModelProto()
    model.CopyFrom(g.model)
    _free_batch(model)
    tail = Extractor(onnx.shape_inference.infer_shapes(model)).extract_model([layer], tap_names())
    import onnxruntime as ort

    return (head, g.input), ort.InferenceSession(tail.SerializeToString(),
                                                 providers=["CPUExecutionProvider"])


def stats(f):
    return f.mean((2, 3)), f.std((2, 3)) + EPS


def partners(rng, live, source, same_class):
    """For each still, a random still of another source (and of its own class if asked)."""
    out = np.zeros(len(live), int)
    for i in range(len(live)):
        ok = source != source[i]
        if same_class:
            ok &= live == live[i]
        out[i] = rng.choice(np.flatnonzero(ok))
    return out


def main():
    seed, mode = int(sys.argv[1]), sys.argv[2]
    layer = sys.argv[3] if len(sys.argv) > 3 else STEM
    c = Crops(CROPS)
    tr = np.flatnonzero(c.trainable)
    live, source = c.live[tr], c.source[tr]
    rng = np.random.default_rng([seed, 11])
    # one draw per still, shared by the two networks
    part = partners(rng, live, source, mode == "mix") if mode.startswith("mix") else None
    lam = rng.beta(0.1, 0.1, len(tr))[:, None, None, None]
    parts = []
    for net, (file, scale) in BACKBONES.items():
        (head, inp), tail = halves(os.path.join(T.find_models(""), file), layer)
        x = to_input(c.by_scale[scale][tr])
        f = np.concatenate([head.run([layer], {inp: x[i:i + 128]})[0] for i in range(0, len(x), 128)])
        mu, sd = stats(f)
        if mode == "none":
            # the split itself: these copies must equal the crops' own features (base.npy)
            mu2, sd2 = mu, sd
        elif mode == "dsu":
            # per channel, scaled by how much that statistic varies over the crops
            e = rng.standard_normal((2,) + mu.shape)
            mu2 = mu + e[0] * mu.std(0)
            sd2 = np.maximum(sd + e[1] * sd.std(0), EPS)
        else:
            mu2 = lam[:, :, 0, 0] * mu + (1 - lam[:, :, 0, 0]) * mu[part]
            sd2 = lam[:, :, 0, 0] * sd + (1 - lam[:, :, 0, 0]) * sd[part]
        g = (f - mu[:, :, None, None]) / sd[:, :, None, None] * sd2[:, :, None, None] + mu2[:, :, None, None]
        g = g.astype(np.float32)
        names = tap_names()
        parts.append(np.concatenate([
            tap_features(zip(names, tail.run(names, {layer: g[i:i + 128]})))
            for i in range(0, len(g), 128)]))
    xx = np.concatenate(parts, 1).astype(np.float64)
    # another layer than the stem is named in the kind: "mix-transition1.project.conv" for
    # /transition1/project/conv/Conv_output_0
    kind = mode if layer == STEM else f"{mode}-{'.'.join(layer.split('/')[1:-1])}"
    # the partner's source must be left out with it: its style is in the copy
    partner = tr if part is None else tr[part]
    np.savez(os.path.join(OUT, f"extra_{seed}_{kind}.npz"), parent=tr, partner=partner,
             kind=np.array([kind] * len(tr)), live=c.live[tr], x=xx)
    print("done", xx.shape, flush=True)


if __name__ == "__main__":
    main()
