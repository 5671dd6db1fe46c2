"""Leave-one-source-out grid over taps and ridge strengths (MODEL_CARD.md, candidates table).

    python grid.py CROPS_DIR FEATURES.npz "emb,emb+s2,emb+s2+s3" 300,1000 [crop_27,crop_40]

Each combination uses the named taps of the networks named last (both by default: `crop_27`
is MiniFASNet V2's input, `crop_40` V1SE's) — or, for a name stored as it is in the file, that
whole feature block; each source is scored by `train.fit`'s layer trained without it, the pooled/worst figures and the operating point as `train.py` does;
`faces/` (never trained on) is scored by the layer trained on everything.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import train as T  # noqa: E402
from data import Crops  # noqa: E402
from metrics import grid_line  # noqa: E402


def blocks(f, tap, nets):
    """The features `tap` names: a block stored under that name, else that tap of each net."""
    if tap in f.files:
        return [f[tap]]
    return [f[f"{net}_{tap}"] for net in nets]


def main():
    c = Crops(sys.argv[1])
    f = np.load(sys.argv[2])
    combos = [s.split("+") for s in sys.argv[3].split(",")]
    ridges = [float(v) for v in sys.argv[4].split(",")]
    nets = sys.argv[5].split(",") if len(sys.argv) > 5 else ["crop_27", "crop_40"]
    idx = np.flatnonzero(c.trainable)
    faces = np.flatnonzero(c.subset == "faces")
    live, source = c.live[idx], c.source[idx]
    for combo in combos:
        X = np.concatenate([block for tap in combo for block in blocks(f, tap, nets)],
                           1).astype(np.float64)
        x = X[idx]
        for l2 in ridges:
            oof = np.zeros(len(idx))
            for s in np.unique(source):
                h = source == s
                oof[h] = T.fit(x[~h], live[~h], source[~h], l2, iterations=12).score(x[h])
            faces_scores = T.fit(x, live, source, l2, iterations=12).score(X[faces])
            print(grid_line(f"{'+'.join(combo):<12} ridge {l2:<6g}", oof, live, source,
                            faces_scores), flush=True)


if __name__ == "__main__":
    main()
