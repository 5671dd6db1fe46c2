"""Texture statistics of the face-recognition network the service already ships (Faceplugin
`fr_feature.onnx`, a MobileFaceNet-like ResNet, 112×112) on the face-only crop, beside the
shipped layer's taps (issue #10; not part of train.sh).

    python features.py CROPS_DIR OUT.npz     # CROPS_DIR from `livegate crops --crops-128`

Why: the MiniFASNets learnt from one vendor's captures; a face-recognition network learnt from
millions of photos of every kind — press portraits included — so its statistics might place a
studio portrait among live faces where the PAD taps do not. Blocks: `base` (the shipped
layer's 1,024 inputs, from `tight_chips`' cache, same crops; `base27` / `base40` its halves),
`fr_s1`…`fr_s4` (per-channel mean and standard deviation at 56², 28², 14² and 7²), `fr_emb`
(the L2-normalised 512-d embedding).
The face-only 128×128 crop is resized to 112×112; no 5-point alignment (statistics, not
identity, are read).
"""
import os
import sys

import numpy as np
import onnx
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from data import Crops  # noqa: E402
from onnx_graph import exposing  # noqa: E402

TAPS = {"fr_s1": "341", "fr_s2": "395", "fr_s3": "471", "fr_s4": "503"}
MODEL = os.path.expanduser(os.environ.get("LIVEGATE_FR_FEATURE",
                                          "~/.cache/livegate/models/fr_feature.onnx"))


def session():
    return exposing(onnx.load(MODEL), TAPS.values(), threads=2)


def fr_features(face, s=None):
    """{block: N×d} of the network on N×128×128×3 RGB face-only crops: `fr_emb` and every tap
    of `TAPS` as per-channel mean and standard deviation."""
    s = s or session()
    names = ["output", *TAPS.values()]
    blocks = {k: [] for k in ["fr_emb", *TAPS]}
    for rgb in face:
        im = np.asarray(Image.fromarray(rgb).resize((112, 112), Image.BILINEAR), np.float32)
        x = ((im[..., ::-1] - 127.0) / 128.0).transpose(2, 0, 1)[None]
        outs = dict(zip(names, s.run(names, {"input": np.ascontiguousarray(x)})))
        e = outs["output"][0]
        blocks["fr_emb"].append(e / (np.linalg.norm(e) + 1e-9))
        for k, n in TAPS.items():
            a = outs[n][0].reshape(outs[n].shape[1], -1)
            blocks[k].append(np.concatenate([a.mean(1), a.std(1)]))
    return {k: np.array(v) for k, v in blocks.items()}


def main():
    crops_dir, out = sys.argv[1], sys.argv[2]
    c = Crops(crops_dir, scales=(27, 40))
    blocks = fr_features(np.load(os.path.join(crops_dir, "crops_s10_128.npy")))
    target = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
    base = np.load(os.path.join(target, "exp-tight", "base.npy"))
    assert len(base) == len(c.rows), "tight_chips' base.npy is from other crops"
    # base27 / base40: one network's half of the taps (crop_27 is V2's, crop_40 V1SE's)
    np.savez(out, base=base, base27=base[:, :512], base40=base[:, 512:],
             **blocks)
    print({k: v.shape for k, v in blocks.items()})


if __name__ == "__main__":
    main()
