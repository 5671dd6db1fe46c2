"""More of the two networks' values, from the same two passes (not part of train.sh or CI).

The shipped layer reads each network's embedding and the per-channel mean and standard
deviation of its stage-2 (64×20×20) and stage-3 (128×10×10) outputs. Two families of values
those passes compute and the layer does not read, each nearly free to add to the graphs:

- `s1`: mean and standard deviation of each channel at the 40×40 level (the stem's output,
  32 channels): the finest texture the networks see, where print dots and screen pixels are
  least pooled away;
- `corr2`: the correlations between stage 2's channels over the 20×20 map (2,016 values a
  network): "style" statistics, which describe a texture by which filters fire together
  rather than by how strongly each fires — so independent of contrast and of each channel's
  level, which is where a picture's exposure and colour rendering act.

`python taps.py` caches them per still (`$LIVEGATE_EXP_DIR/gram_taps.npz`, ~3 min);
`python grid.py` judges the layer with them leave-one-source-out as `../tight_chips/` does.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tight_chips"))
from common import CROPS, OUT, T, BACKBONES, Crops, Graph, to_input  # noqa: E402

STEM = "/stem_dw/prelu/PRelu_output_0"
STAGE2 = "/stage2/model/model.3/Add_output_0"
PATH = os.path.join(OUT, "gram_taps.npz")


def correlations(v):
    """N×C×H×W → N × C(C−1)/2: the correlation of every pair of channels over the map."""
    n, c = v.shape[:2]
    f = v.reshape(n, c, -1).astype(np.float64)
    f = f - f.mean(2, keepdims=True)
    f /= np.sqrt((f ** 2).sum(2, keepdims=True)) + 1e-9
    r = np.einsum("nip,njp->nij", f, f)
    iu = np.triu_indices(c, 1)
    return r[:, iu[0], iu[1]]


def compute():
    c = Crops(CROPS)
    out = {}
    for net, (file, scale) in BACKBONES.items():
        s = Graph(os.path.join(T.find_models(""), file)).session([STEM, STAGE2])
        inp = s.get_inputs()[0].name
        x = to_input(c.by_scale[scale])
        s1, corr2 = [], []
        for i in range(0, len(x), 64):
            stem, st2 = s.run([STEM, STAGE2], {inp: x[i:i + 64]})
            s1.append(np.concatenate([stem.mean((2, 3)), stem.std((2, 3))], 1))
            corr2.append(correlations(st2))
        out[f"{net}_s1"] = np.concatenate(s1)
        out[f"{net}_corr2"] = np.concatenate(corr2)
        print(net, out[f"{net}_s1"].shape, out[f"{net}_corr2"].shape, flush=True)
    np.savez(PATH, **out)


if __name__ == "__main__":
    compute()
