"""The shipped linear layer with one intercept per training source (source fixed effects),
judged leave-one-source-out as `../tight_chips/` judges the layer (real-crop standardisation;
not part of train.sh).

    training:  f(z) = w·z + b_source          scoring:  f(z) = w·z + mean(b)

Each source's intercept absorbs where that source's scores sit as a whole (its camera, light,
colour rendering shift live and attack faces alike); w is then learnt from the live-versus-
attack contrasts within sources, the part that the issue's first try found to separate well
everywhere. Each source's deviation from a shared intercept gets ridge `rho` (rho → ∞ is the
shipped layer). A held-out source is scored at the mean intercept; the LOSO threshold is chosen
on the other sources' out-of-fold scores as always, so only w matters for its verdicts.

    python offsets.py RHO[,…] [L2[,…]]
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tight_chips"))
from common import Head, T, base, judge  # noqa: E402


def fit_offsets(x, live, source, l2, rho, iterations=25):
    mu, sd = T.standardisation(x)
    names = np.unique(source)
    onehot = (source[:, None] == names[None, :]).astype(float)
    # A shared bias plus per-source deviations: the ridge on the deviations pulls each source's
    # intercept toward the shared one (rho 0: free intercepts, rho → ∞: the shipped layer).
    z = np.hstack([(x - mu) / sd, onehot, np.ones((len(x), 1))])
    d = x.shape[1]
    ridge = np.r_[np.full(d, l2), np.full(len(names), rho), 0.0]
    y, w = live.astype(float), T.sample_weights(live, source)
    beta = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = z.T @ (w * (p - y)) + ridge * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(ridge)
        # rho 0 leaves the shared bias and the deviations one direction too many; a tiny
        # ridge on the solve keeps it defined (the scores do not depend on how it is split).
        beta -= np.linalg.solve(hess + 1e-9 * np.eye(len(beta)), grad)
    offsets = beta[d:d + len(names)]
    return Head.from_standardised(beta[:d], beta[-1] + offsets.mean(), mu, sd)


def main():
    rhos = [float(v) for v in sys.argv[1].split(",")]
    l2s = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "1000").split(",")]
    c, X = base()
    for l2 in l2s:
        for rho in rhos:
            judge(c, X, lambda x, live, source: fit_offsets(x, live, source, l2, rho),
                  f"source offsets rho {rho:g} l2 {l2:g}")

if __name__ == "__main__":
    main()
