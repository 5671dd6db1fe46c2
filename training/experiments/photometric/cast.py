"""How strong is each crop's colour cast, by source and class, and in `faces/`' refused stills?

    python cast.py [ridge]

The cast of a crop is the largest |log(channel mean / grey mean)| of its 2.7× crop; quantiles
(50 / 90 / 95 / 99 / 100 %) per source and class, then `faces/` accepted and refused by the
layer fitted on every source (real-crop standardisation, as `norm.py`'s `none`), each refused
still with its score and per-channel log gains (R, G, B).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

from common import *  # noqa: E402,F403


def cast(rgb):
    m = rgb.astype(np.float64).mean((1, 2))
    g = np.log(np.maximum(m, 1.0) / m.mean(1, keepdims=True))
    return np.abs(g).max(1), g


def quantiles(v):
    return " ".join(f"{x:.3f}" for x in np.quantile(v, [0.5, 0.9, 0.95, 0.99, 1.0]))


def main():
    l2 = float(sys.argv[1]) if len(sys.argv) > 1 else 1000.0
    c, X = base()
    k, g = cast(c.by_scale[27])
    tr = np.flatnonzero(c.trainable)
    fa = np.flatnonzero(c.subset == "faces")
    for s in np.unique(c.source[tr]):
        m = (c.source == s) & c.trainable
        print(f"{s[:14]:<15} live {quantiles(k[m & c.live])} | attack {quantiles(k[m & ~c.live])}")
    r = evaluate(X[tr], c.live[tr], c.source[tr], X[fa], l2)
    refused = r["faces_scores"] < r["thr"]
    print("faces/ accepted", quantiles(k[fa][~refused]))
    print("faces/ refused ", quantiles(k[fa][refused]))
    for i, s in zip(fa[refused], r["faces_scores"][refused]):
        print(f"  {c.rows[i]['file']}  score {s:.2f}  cast {k[i]:.3f}  RGB {np.round(g[i], 2)}")


if __name__ == "__main__":
    main()
