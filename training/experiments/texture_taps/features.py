"""Tapped features of every crop, for the ridge/tap grid in `grid.py` (not part of train.sh).

    python features.py CROPS_DIR OUT.npz

For each network (V2 on the 2.7× crops, V1SE on the 4.0× crops) and each tap: the embedding
as it is, and the per-channel mean and population std of the stage-2/3/4 outputs — the same
statistics `export.TAPS` builds into the shipped graph.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from data import Crops, to_input  # noqa: E402
from export import BACKBONES, EMBEDDING  # noqa: E402
from onnx_graph import Graph  # noqa: E402
from train import find_models  # noqa: E402

TAPS = {
    "emb": EMBEDDING,
    "s2": "/stage2/model/model.3/Add_output_0",
    "s3": "/stage3/model/model.5/Add_output_0",
    "s4": "/stage4/model/model.1/Add_output_0",
}


def tapped(model_path, taps, x):
    """{tap name: N×d features} of one network on NCHW input `x`: an embedding as it is, a
    feature map as its per-channel mean and population std."""
    g = Graph(model_path)
    return run_taps(g.session(list(taps.values())), g.input, taps, x)


def run_taps(sess, input_name, taps, x):
    """`tapped` on an ONNX Runtime session that already exposes the taps' values."""
    names = list(taps.values())
    acc = {k: [] for k in taps}
    for i in range(0, len(x), 128):
        for k, v in zip(taps, sess.run(names, {input_name: x[i:i + 128]})):
            acc[k].append(v if v.ndim == 2 else
                          np.concatenate([v.mean((2, 3)), v.std((2, 3))], 1))
    return {k: np.concatenate(v).astype(np.float32) for k, v in acc.items()}


def main():
    crops_dir, out = sys.argv[1], sys.argv[2]
    models = find_models("")
    c = Crops(crops_dir)
    feats = {}
    for net, (file, scale) in BACKBONES.items():
        x = to_input(c.by_scale[scale])
        for k, v in tapped(os.path.join(models, file), TAPS, x).items():
            feats[f"{net}_{k}"] = v
    np.savez(out, **feats)


if __name__ == "__main__":
    main()
