"""Taps of both MiniFASNets on face-only crops, beside the shipped layer's own (not part of
train.sh; results in README.md here).

    python features.py CROPS_DIR OUT.npz

`crop_27` / `crop_40` are the shipped layer's inputs (V2 on the 2.7× crop, V1SE on the 4.0×
crop); `v2_10`, `v1se_10`, `v2_15`, `v1se_15` are the same networks on the 1.0× and 1.5× crops
`livegate crops` also writes. Each: the embedding, and the per-channel mean and population std
of the stage-2 and stage-3 outputs, as `export.TAPS` builds them into the shipped graph.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from data import Crops, to_input  # noqa: E402
from export import EMBEDDING  # noqa: E402
from onnx_graph import Graph  # noqa: E402
from train import find_models  # noqa: E402

TAPS = {
    "emb": EMBEDDING,
    "s2": "/stage2/model/model.3/Add_output_0",
    "s3": "/stage3/model/model.5/Add_output_0",
}
NETS = {"v2": "MiniFASNetV2.onnx", "v1se": "MiniFASNetV1SE.onnx"}
# (network, context scale × 10, feature name prefix for grid.py)
PLAN = [
    ("v2", 27, "crop_27"),
    ("v1se", 40, "crop_40"),
    ("v2", 10, "v2_10"),
    ("v1se", 10, "v1se_10"),
    ("v2", 15, "v2_15"),
    ("v1se", 15, "v1se_15"),
]


def main():
    crops_dir, out = sys.argv[1], sys.argv[2]
    models = find_models("")
    c = Crops(crops_dir)
    for s in (10, 15):
        c.by_scale[s] = np.load(os.path.join(crops_dir, f"crops_s{s}.npy"))
    feats = {}
    for net, scale, name in PLAN:
        g = Graph(os.path.join(models, NETS[net]))
        names = list(TAPS.values())
        sess = g.session(names)
        x = to_input(c.by_scale[scale])
        acc = {k: [] for k in TAPS}
        for i in range(0, len(x), 128):
            for k, v in zip(TAPS, sess.run(names, {g.input: x[i:i + 128]})):
                acc[k].append(v if v.ndim == 2 else
                              np.concatenate([v.mean((2, 3)), v.std((2, 3))], 1))
        for k in TAPS:
            feats[f"{name}_{k}"] = np.concatenate(acc[k]).astype(np.float32)
    np.savez(out, **feats)


if __name__ == "__main__":
    main()
