"""The shipped layer's fit with one ridge strength per kind of tap (not part of train.sh;
results in README.md here).

    python block_ridge.py CROPS_DIR TAPS.npz EMB,S2,S3 [EMB,S2,S3 ...]
    e.g. block_ridge.py /tmp/crops128 /tmp/fr_taps.npz 1000,1000,1000 100,1000,1000

TAPS.npz is `../fine_texture/features.py`'s output (its `crop_27_*` / `crop_40_*` blocks: the
shipped layer's 1,024 features). Each argument gives the ridge on the embeddings, the stage-2
and the stage-3 statistics of both networks; `train.fit` uses one ridge for all (1000).
Standardised over the real crops only, as the model card's grid.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import train as T  # noqa: E402
from data import Crops  # noqa: E402
from metrics import grid_line  # noqa: E402

KINDS = ("emb", "s2", "s3")


def fit(x, live, source, ridges):
    """`train.fit` with a ridge per feature: standardise, then Newton with that penalty."""
    mu, sd = x.mean(0), x.std(0) + 1e-6

    def design(q):
        return np.hstack([(q - mu) / sd, np.ones((len(q), 1))])

    z, y, w = design(x), live.astype(float), T.sample_weights(live, source)
    ridge = np.diag(np.r_[ridges, 0.0])
    beta = np.zeros(z.shape[1])
    for _ in range(12):
        p = 1 / (1 + np.exp(-z @ beta))
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + ridge
        beta -= np.linalg.solve(hess, z.T @ (w * (p - y)) + ridge @ beta)
    return lambda q: 1 / (1 + np.exp(-design(q) @ beta))


def main():
    c, f = Crops(sys.argv[1]), np.load(sys.argv[2])
    blocks = [(f"{n}_{k}", k) for n in ("crop_27", "crop_40") for k in KINDS]
    X = np.concatenate([f[b] for b, _ in blocks], 1).astype(np.float64)
    kind = np.concatenate([[k] * f[b].shape[1] for b, k in blocks])
    idx, faces = np.flatnonzero(c.trainable), np.flatnonzero(c.subset == "faces")
    live, source, x = c.live[idx], c.source[idx], X[idx]
    for spec in sys.argv[3:]:
        per_kind = dict(zip(KINDS, (float(v) for v in spec.split(","))))
        ridges = np.array([per_kind[k] for k in kind])
        oof = np.zeros(len(idx))
        for s in np.unique(source):
            h = source == s
            oof[h] = fit(x[~h], live[~h], source[~h], ridges)(x[h])
        faces_scores = fit(x, live, source, ridges)(X[faces])
        print(grid_line(f"ridge emb/s2/s3 {spec:<16}", oof, live, source, faces_scores),
              flush=True)


if __name__ == "__main__":
    main()
