"""Operating points that follow the picture's look: each held-out still judged at a threshold
drawn towards those of the training sources it resembles (issue #10; not part of train.sh).

    python local_threshold.py [STYLE_BLOCKS]     # default "base"; with ../fr_taps' file e.g. "fr_s1"

Why: within a source the scores separate (AUC 0.92–1.00) but each source's best threshold lies
elsewhere. If a source's best threshold followed from how its pictures look, a still could be
judged at the threshold of the sources it resembles. Nested LOSO, so nothing of the held-out
source h decides its threshold: for each h the layer is fitted without h (that scores h), and
for each other source s without h and s (that scores s: where s's threshold would lie for a
layer that never saw it). A still of h is judged at

    t(x) = (1 − λ) · t_global + λ · Σ_s softmax_s(−d_s(x) / τ) · t_s

t_global the source-balanced optimum over the other sources' inner scores, t_s each one's own
optimum, d_s the distance from x to source s's centroid in the top-k principal components of
the standardised style features (scaled by their median). λ = 0 is the plain shared threshold.
"""
import os
import pickle
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "fr_taps"))

from data import Crops  # noqa: E402
from grid import design, fit  # noqa: E402  (fr_taps: the layer with per-block weights)
from metrics import balanced_threshold  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
WORK = os.path.join(TARGET, "exp-fr")
RIDGE = 1000.0


def nested_scores(c, f):
    """Out-of-fold scores of every source, and of every other source inside each fold (cached)."""
    path = os.path.join(WORK, "nested.pkl")
    if os.path.exists(path):
        return pickle.load(open(path, "rb"))
    X, weight = design(f, "base")
    idx = np.flatnonzero(c.trainable)
    x, live, source = X[idx], c.live[idx], c.source[idx]
    _, beta = fit(x, live, source, RIDGE, weight)
    oof, inner = np.zeros(len(idx)), {}
    for h in np.unique(source):
        out = source != h
        layer_h, beta_h = fit(x[out], live[out], source[out], RIDGE, weight, beta, 5)
        oof[source == h] = layer_h.score(x[source == h])
        for s in np.unique(source[out]):
            m = out & (source != s)
            inner[(h, s)] = fit(x[m], live[m], source[m], RIDGE, weight, beta_h, 4)[0].score(
                x[source == s])
    pickle.dump((oof, inner), open(path, "wb"))
    return oof, inner


def evaluate(style, live, source, oof, inner, k, tau, lam):
    accepted, per_source = np.zeros(len(live), bool), {}
    for h in np.unique(source):
        held = source == h
        others = [s for s in np.unique(source) if s != h]
        t_global = balanced_threshold(np.concatenate([inner[(h, s)] for s in others]),
                                      np.concatenate([live[source == s] for s in others]),
                                      np.concatenate([source[source == s] for s in others]))
        t_s = np.array([balanced_threshold(inner[(h, s)], live[source == s], source[source == s])
                        for s in others])
        mu, sd = style[~held].mean(0), style[~held].std(0) + 1e-6
        z = (style - mu) / sd
        p = z @ np.linalg.svd(z[~held], full_matrices=False)[2][:k].T
        centroids = np.array([p[source == s].mean(0) for s in others])
        d = np.sqrt(((p[held][:, None, :] - centroids[None]) ** 2).sum(-1))
        d /= np.median(d)
        w = np.exp(-(d - d.min(1, keepdims=True)) / tau)
        w /= w.sum(1, keepdims=True)
        accepted[held] = oof[held] >= (1 - lam) * t_global + lam * (w @ t_s)
        per_source[h] = (accepted[held & ~live].mean() + (~accepted[held & live]).mean()) / 2
    return (accepted[~live].mean() + (~accepted[live]).mean()) / 2, per_source


def main():
    blocks = sys.argv[1] if len(sys.argv) > 1 else "base"
    c = Crops(os.path.join(WORK, "crops"), scales=(27,))
    f = np.load(os.path.join(WORK, "fr.npz"))
    idx = np.flatnonzero(c.trainable)
    live, source = c.live[idx], c.source[idx]
    oof, inner = nested_scores(c, f)
    style = design(f, blocks)[0][idx]
    for k, tau, lam in [(8, 1.0, 0.0)] + [(k, tau, lam) for k in (4, 8, 16, 32)
                                           for tau in (0.05, 0.2, 1.0) for lam in (0.5, 1.0)]:
        acer, per = evaluate(style, live, source, oof, inner, k, tau, lam)
        print(f"k {k:<3} tau {tau:<5} lambda {lam:<4} ACER {100 * acer:5.2f} worst "
              f"{100 * max(per.values()):4.1f}  "
              + " ".join(f"{s[:5]}:{100 * v:.1f}" for s, v in per.items()), flush=True)


if __name__ == "__main__":
    main()
