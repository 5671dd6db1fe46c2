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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "texture_taps"))

from data import SCALES, Crops, to_input  # noqa: E402
from features import TAPS as ALL_TAPS, tapped  # noqa: E402
from train import find_models  # noqa: E402

TAPS = {k: ALL_TAPS[k] for k in ("emb", "s2", "s3")}
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


def views(crops_dir, plan=PLAN):
    """{"<name>_<tap>": N×d} of each (network, scale, name) of `plan` on one crops folder."""
    models = find_models("")
    extra = sorted({scale for _, scale, _ in plan} - set(SCALES))
    c = Crops(crops_dir, scales=SCALES + tuple(extra))
    feats = {}
    for net, scale, name in plan:
        x = to_input(c.by_scale[scale])
        for k, v in tapped(os.path.join(models, NETS[net]), TAPS, x).items():
            feats[f"{name}_{k}"] = v
    return feats


def main():
    crops_dir, out = sys.argv[1], sys.argv[2]
    np.savez(out, **views(crops_dir))


if __name__ == "__main__":
    main()
