"""White-balanced copies of the training crops in the layer's standardisation pool only.

    python pool.py chips,chips+grayworld,chips+grayworld_half 700,1000,1500

The shipped layer standardises its features over the real crops and a chip re-cut of each
(`training/chips.py`), which carry no weight in the fit: features that move with the chips are
shrunk harder by the ridge. The same trick with `norm.py`'s transforms: a copy of every training
crop under the transform joins the pool, so the features that move with colour balance are
shrunk harder, without any copy being labelled. `chips` alone is the shipped protocol
(`train.py`: 11.8 % pooled at ridge 1000). Each fold's pool holds only its training sources.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from norm import normalised  # noqa: E402
from common import *  # noqa: E402,F403
from chips import chip_crops  # noqa: E402


def chip_features(c, tr):
    path = os.path.join(OUT, "photometric_chips.npy")
    if not os.path.exists(path):
        c27, c40 = chip_crops(c.rows, tr, TD, 0)
        np.save(path, features(np.stack(c27), np.stack(c40)))
    return np.load(path)


def main():
    configs = [cfg.split("+") for cfg in sys.argv[1].split(",")]
    ridges = [float(v) for v in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1000.0]
    c, X = base()
    tr = np.flatnonzero(c.trainable)
    fa = np.flatnonzero(c.subset == "faces")
    x, live, source = X[tr], c.live[tr], c.source[tr]
    for cfg in configs:
        parts = [chip_features(c, tr) if k == "chips" else normalised(c, k)[tr] for k in cfg]
        pool, pool_source = np.concatenate(parts), np.concatenate([source] * len(parts))
        for l2 in ridges:
            def fit(keep):
                held = np.unique(source[~keep])  # the held-out source's copies leave the pool too
                return T.fit(x[keep], live[keep], source[keep], l2,
                             pool[~np.isin(pool_source, held)])
            r = evaluate_fit(fit, x, live, source, X[fa])
            print(fmt(r, f"pool {'+'.join(cfg)}, ridge {l2:g}"), flush=True)


if __name__ == "__main__":
    main()
