"""The layer moved toward a deployment's own stills with nothing but the shipped layer and those
stills (not run by CI).

`retrain.py` refits on the ten sources plus the sample, which a deployment cannot do: the
sources are this project's test data, never distributed. Here the fold layer that never saw a
source (its weights and its standardisation, both derived numbers a release could carry) is
the starting point, and only the sample is fitted: logistic loss on the sample (classes
balanced) plus λ‖β − β_fold‖² on the standardised weights; the bias all but free (ridge 1e-3), so it also moves
the operating point. Judged on the rest of the source at the shared LOSO threshold, against the
fold layer at the shared threshold and at the sample's own threshold (session 17's rule), on
the same draws as `retrain.py` (`WAY`, n).

λ is a grid, reported whole, and then chosen the nested way (each source judged at the λ that
did best on the other sources), which is how `training/calibrate.py`'s λ is checked.

Usage: WAY=block|halves|people anchored.py [DRAWS] [N] [λ,λ…]
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))
from common import T  # noqa: E402
from measure import local_threshold  # noqa: E402
from retrain import close_source, draw, held_out, pooled, report, stills, tally  # noqa: E402

L2 = 1000.0
# The bias's ridge (standardised units): all but free by default; larger keeps the operating
# point nearer the fold layer's.
BIAS_L2 = float(os.environ.get("BIAS_L2", "1e-3"))


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    lams = [float(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "3,10,30,100,300").split(",")]
    x, live, src, people = stills()
    sources = np.unique(src)
    fold, oof = fold_layers(x, live, src)
    rng = np.random.default_rng(0)
    ways = ["shared", "own threshold"] + [f"anchored λ {lam:g}" for lam in lams]
    acc = {w: [] for w in ways}
    per = {}
    for s in sources:
        held = source_in_fold(s, n, x, live, src, oof, people, fold)
        if held is None:
            continue
        m, t_shared, b_idx, a_idx, beta0, zs, pos = held
        got = {w: [] for w in ways}
        for _ in range(draws):
            cb, rb = draw(rng, b_idx, n, people)
            ca, ra = draw(rng, a_idx, n, people)
            judged = {"shared": (oof, t_shared),
                      "own threshold": (oof, local_threshold(oof[cb], oof[ca], t_shared))}
            sample = np.concatenate([cb, ca])
            zz = zs[pos[sample]]
            y = live[sample].astype(float)
            w = T.sample_weights(live[sample], src[sample])
            for lam in lams:
                # β = β_fold + δ: fit δ with ridge λ (the bias all but free), the fold's score as offset.
                delta = T.newton(zz, y, w, lam, 12, offset=zz @ beta0, bias_l2=BIAS_L2)
                sc = np.zeros(len(live))
                sc[m] = 1 / (1 + np.exp(-(zs @ (beta0 + delta))))
                judged[f"anchored λ {lam:g}"] = (sc, t_shared)
            tally(got, judged, rb, ra)
        close_source(s, got, per, acc)

    report(n, draws, ways, acc, per)
    nested(per, [f"anchored λ {lam:g}" for lam in lams])


def fold_layers(x, live, src):
    """Each source's fold layer (standardisation mean, scale and β, fitted without it) and
    every still's out-of-fold live score."""
    fold, oof = {}, np.zeros(len(live))
    for s in np.unique(src):
        h = src == s
        mu, sd = x[~h].mean(0), x[~h].std(0) + 1e-6
        z = np.hstack([(x[~h] - mu) / sd, np.ones(((~h).sum(), 1))])
        beta = T.newton(z, live[~h].astype(float), T.sample_weights(live[~h], src[~h]), L2, 12)
        fold[s] = (mu, sd, beta)
        oof[h] = 1 / (1 + np.exp(-(np.hstack([(x[h] - mu) / sd, np.ones((h.sum(), 1))]) @ beta)))
    return fold, oof


def source_in_fold(s, n, x, live, src, oof, people, fold):
    """`retrain.held_out`'s (mask, shared threshold, live and attack indices) for source `s`,
    then its fold layer's β, the source's stills in that layer's standardisation (bias column
    last) and each still's row there (-1 elsewhere); `None` when `s` has too few stills."""
    held = held_out(s, n, src, live, oof, people)
    if held is None:
        return None
    m = held[0]
    mu, sd, beta0 = fold[s]
    zs = np.hstack([(x[m] - mu) / sd, np.ones((m.sum(), 1))])
    pos = np.full(len(live), -1)
    pos[np.flatnonzero(m)] = np.arange(m.sum())
    return (*held, beta0, zs, pos)


def nested(per, ways):
    """λ chosen without the source it is judged on: for each source, the way of the λ grid
    `ways` with the lowest pooled ACER over the other sources' draws; the pooled ACER of those
    choices. Needs two sources or more (`WAY=people` leaves only `nuaa_train`)."""
    if len(per) < 2:
        return
    picks = {s: min(ways, key=lambda w: pooled([per[o][w] for o in per if o != s])) for s in per}
    print(f"  λ chosen on the other sources (nested): {pooled([per[s][picks[s]] for s in per]):5.1f} %")
    for s, w in picks.items():
        print(f"    {s[:40]:<40} {w}")


if __name__ == "__main__":
    main()
