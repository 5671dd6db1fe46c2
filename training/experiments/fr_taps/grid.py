"""LOSO grid over the shipped layer's taps plus the face-recognition blocks of `features.py`,
each block with its own weight (issue #10; not part of train.sh).

    python grid.py CROPS_DIR FR.npz "base+fr_emb,base+fr_emb*0.5+fr_s2" 700,1000

A block's weight c multiplies its standardised features, so its effective ridge is
ridge / c²: c < 1 shrinks that block harder than the taps. Protocol as `train.py`: each source
scored by the layer fitted without it (Newton warm-started from the full fit, 5 steps), the
operating point the source-balanced ACER minimum of those scores, `faces/` (never trained on)
scored by the layer fitted on everything; standardised over the real crops only. `EXCLUDE`
("source|source") keeps sources out of every layer's training (still scored, out of fold).
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

import train as T  # noqa: E402
from data import Crops  # noqa: E402
from export import Head  # noqa: E402
from metrics import balanced_threshold, grid_line, loso_table  # noqa: E402


def design(f, combo):
    """Features and per-column weights of a combo such as "base+fr_emb*0.5"."""
    cols, weights = [], []
    for part in combo.split("+"):
        name, _, c = part.partition("*")
        cols.append(f[name].astype(np.float64))
        weights.append(np.full(f[name].shape[1], float(c or 1)))
    return np.concatenate(cols, 1), np.concatenate(weights)


def fit(x, live, source, l2, weight, start=None, iterations=12):
    """`train.fit` with each standardised column multiplied by its block's weight."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mu) / sd * weight, np.ones((len(x), 1))])
    beta = T.newton(z, live.astype(float), T.sample_weights(live, source), l2, iterations, start)
    return Head.from_standardised(beta[:-1] * weight, beta[-1], mu, sd), beta


def run(c, f, combo, l2, verbose=False):
    X, weight = design(f, combo)
    idx = np.flatnonzero(c.trainable)
    faces = np.flatnonzero(c.subset == "faces")
    x, live, source = X[idx], c.live[idx], c.source[idx]
    # EXCLUDE="a|b": sources no layer is trained on (each still scored by the layer without it)
    out = np.isin(source, [s for s in os.environ.get("EXCLUDE", "").split("|") if s])
    full, beta = fit(x[~out], live[~out], source[~out], l2, weight)
    oof = np.zeros(len(idx))
    for s in np.unique(source):
        h = source == s
        m = ~h & ~out
        oof[h] = fit(x[m], live[m], source[m], l2, weight, beta, 5)[0].score(x[h])
    fs = full.score(X[faces])
    print(grid_line(f"{combo:<28} ridge {l2:<6g}", oof, live, source, fs), flush=True)
    if verbose:
        rows, _ = loso_table(oof, live, source)
        print("     ", " ".join(f"{k[:5]}:{100 * r['acer']:.1f}" for k, r in rows.items()))
        thr = balanced_threshold(oof, live, source)
        names = [c.rows[i]["file"] for i in faces]
        print("      faces rejected:", ", ".join(f"{os.path.basename(n)} {s:.2f}"
                                                 for n, s in zip(names, fs) if s < thr))
    return oof, fs


def main():
    c = Crops(sys.argv[1], scales=(27,))
    f = np.load(sys.argv[2])
    for combo in sys.argv[3].split(","):
        for l2 in (float(v) for v in sys.argv[4].split(",")):
            run(c, f, combo, l2, verbose=os.environ.get("VERBOSE") == "1")


if __name__ == "__main__":
    main()
