"""Taps kept only where the live-vs-attack difference is consistent across the training
sources, chosen inside each LOSO fold, then the shipped layer's ridge fit (not part of
train.sh; results in README.md here).

    python consistent.py CROPS_DIR TAPS.npz RULES KS RIDGES
    e.g. consistent.py /tmp/crops128 /tmp/fr_taps.npz snr,sign,min 128,256,512 100,300,1000

TAPS.npz is `../fine_texture/features.py`'s output (only its `crop_27_*` / `crop_40_*` blocks
are read: the shipped layer's 1,024 features). Rules, per feature, over the fold's sources'
standardised live-minus-attack mean differences d_s: `snr` |mean d| / (std d + 0.1); `sign` the
share of sources agreeing with the majority sign; `min` the weakest source's d in the majority
direction. The top k features by the rule are kept.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import train as T  # noqa: E402
from data import Crops  # noqa: E402
from metrics import grid_line  # noqa: E402


def effects(x, live, source):
    """Per source (rows), each feature's live-minus-attack mean difference over the pooled
    within-class standard deviation."""
    out = []
    for s in np.unique(source):
        h = source == s
        a, b = x[h & live], x[h & ~live]
        if len(a) < 3 or len(b) < 3:
            continue
        sd = np.sqrt((a.var(0) + b.var(0)) / 2) + 1e-6
        out.append((a.mean(0) - b.mean(0)) / sd)
    return np.array(out)


def select(x, live, source, rule, k):
    """The k features the rule ranks most consistent across `source`."""
    d = effects(x, live, source)
    majority = np.sign(d.mean(0))
    if rule == "snr":
        score = np.abs(d.mean(0)) / (d.std(0) + 0.1)
    elif rule == "sign":
        score = (np.sign(d) == majority).mean(0) + 0.01 * np.abs(d.mean(0))
    elif rule == "min":
        score = (d * majority).min(0)
    else:
        sys.exit(f"unknown rule {rule}")
    return np.argsort(-score)[:k]


def main():
    c, f = Crops(sys.argv[1]), np.load(sys.argv[2])
    X = np.concatenate([f[f"{n}_{t}"] for n in ("crop_27", "crop_40") for t in ("emb", "s2", "s3")],
                       1).astype(np.float64)
    idx, faces = np.flatnonzero(c.trainable), np.flatnonzero(c.subset == "faces")
    live, source, x = c.live[idx], c.source[idx], X[idx]
    for rule in sys.argv[3].split(","):
        for k in [int(v) for v in sys.argv[4].split(",")]:
            for l2 in [float(v) for v in sys.argv[5].split(",")]:
                oof = np.zeros(len(idx))
                for s in np.unique(source):
                    h = source == s
                    sel = select(x[~h], live[~h], source[~h], rule, k)
                    layer = T.fit(x[~h][:, sel], live[~h], source[~h], l2, iterations=12)
                    oof[h] = layer.score(x[h][:, sel])
                sel = select(x, live, source, rule, k)
                layer = T.fit(x[:, sel], live, source, l2, iterations=12)
                print(grid_line(f"{rule:<5} k {k:<5} ridge {l2:<6g}", oof, live, source,
                                layer.score(X[faces][:, sel])), flush=True)


if __name__ == "__main__":
    main()
