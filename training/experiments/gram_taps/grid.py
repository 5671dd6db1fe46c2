"""The shipped layer's taps plus `taps.py`'s values, judged leave-one-source-out as
`../tight_chips/` judges the layer (real-crop standardisation, source- and class-balanced
logistic loss, each source scored by the layer fitted without it; `faces/` by the layer fitted on
everything at the out-of-fold operating point).

    python grid.py BLOCKS[,…] RIDGE[,…] [WEIGHT[,…]]

BLOCKS: `base` (the shipped 1,024) joined by `+` with `s1` and / or `corr2` of both networks.
WEIGHT scales the added blocks' standardised columns (their ridge is RIDGE / WEIGHT²): 4,032
correlations at the ridge of 1,024 taps would otherwise outweigh them by number alone.
Fitted by Newton's method in the dual (an n×n solve a step: more features than stills).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tight_chips"))
from common import T, base, judge  # noqa: E402
from taps import PATH  # noqa: E402

BIAS_SCALE = 1000.0  # the bias column's value: its ridge is RIDGE / 1e6, next to none


def newton_dual(z, y, w, l2, iterations=12):
    """`train.newton`'s optimum (ridge l2 on every column) for wide z: each step's system
    (Z'DZ + l2·I) δ = g solved through the n×n matrix l2·I + D½ZZ'D½ (Woodbury)."""
    k = z @ z.T
    beta = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        g = z.T @ (w * (p - y)) + l2 * beta
        d = np.sqrt(w * p * (1 - p))
        m = l2 * np.eye(len(y)) + d[:, None] * k * d[None, :]
        zg = d * (z @ g)
        step = (g - z.T @ (d * np.linalg.solve(m, zg))) / l2
        beta -= step
    return beta


class Layer:
    def __init__(self, beta, mu, sd, scale):
        self.beta, self.mu, self.sd, self.scale = beta, mu, sd, scale

    def score(self, x):
        z = (x - self.mu) / self.sd * self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.beta[:-1] + BIAS_SCALE * self.beta[-1])))


def fit(x, live, source, l2, scale):
    mu, sd = T.standardisation(x)
    z = np.hstack([(x - mu) / sd * scale, np.full((len(x), 1), BIAS_SCALE)])
    beta = newton_dual(z, live.astype(float), T.sample_weights(live, source), l2)
    return Layer(beta, mu, sd, scale)


def main():
    c, X = base()
    extra = np.load(PATH)
    weights = [float(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "1").split(",")]
    for blocks in sys.argv[1].split(","):
        parts, kinds = [X], [np.ones(X.shape[1])]
        for b in blocks.split("+")[1:]:
            v = np.concatenate([extra[f"crop_27_{b}"], extra[f"crop_40_{b}"]], 1)
            parts.append(v)
            kinds.append(np.zeros(v.shape[1]))
        xa, added = np.concatenate(parts, 1), np.concatenate(kinds) == 0
        for wt in (weights if added.any() else [1.0]):
            scale = np.where(added, wt, 1.0)
            for l2 in [float(v) for v in sys.argv[2].split(",")]:
                judge(c, xa, lambda x, live, source: fit(x, live, source, l2, scale),
                      f"{blocks} w {wt:g} ridge {l2:g}")


if __name__ == "__main__":
    main()
