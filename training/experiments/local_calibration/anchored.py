"""The layer moved toward a deployment's own stills with nothing but the shipped layer and those
stills (not run by CI).

`retrain.py` refits on the ten sources plus the sample, which a deployment cannot do: the
sources are this project's test data, never distributed. Here the fold layer that never saw a
source (its weights and its standardisation, both derived numbers a release could carry) is
the starting point, and only the sample is fitted: logistic loss on the sample (classes
balanced) plus λ‖β − β_fold‖² on the standardised weights; the bias is free, so it also moves
the operating point. Judged on the rest of the source at the shared LOSO threshold, against the
fold layer at the shared threshold and at the sample's own threshold (session 17's rule), on
the same draws as `retrain.py` (`WAY`, n).

λ is a grid, reported whole: which λ a deployment should use is not chosen on these figures.

Usage: WAY=block|halves|people anchored.py [DRAWS] [N] [λ,λ…]
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))
from common import T, base  # noqa: E402
from metrics import balanced_threshold, rates  # noqa: E402
from measure import local_threshold, number  # noqa: E402
from retrain import WAY, draw, identities  # noqa: E402

L2 = 1000.0


def anchored_step(z, y, w, lam, offset, iterations=12):
    """`train.newton` for δ with the fold's score as offset, with a small ridge on the bias too:
    a sample the fold already separates perfectly would otherwise leave the bias unbounded."""
    ridge = np.diag(np.r_[np.full(z.shape[1] - 1, lam), 1e-3])
    delta = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ delta + offset)))
        grad = z.T @ (w * (p - y)) + ridge @ delta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + ridge
        delta -= np.linalg.solve(hess, grad)
    return delta


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    lams = [float(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "3,10,30,100,300").split(",")]
    c, x_all = base()
    tr = np.flatnonzero(c.trainable)
    order = sorted(range(len(tr)), key=lambda k: (c.source[tr[k]], c.live[tr[k]], number(c.rows[tr[k]]["file"])))
    tr = tr[order]
    x, live, src = x_all[tr], c.live[tr], c.source[tr]
    people = np.array([identities().get(c.rows[k]["file"], "") for k in tr])
    sources = np.unique(src)
    fold, oof = {}, np.zeros(len(tr))
    for s in sources:
        h = src == s
        mu, sd = x[~h].mean(0), x[~h].std(0) + 1e-6
        z = np.hstack([(x[~h] - mu) / sd, np.ones(((~h).sum(), 1))])
        beta = T.newton(z, live[~h].astype(float), T.sample_weights(live[~h], src[~h]), L2, 12)
        fold[s] = (mu, sd, beta)
        oof[h] = 1 / (1 + np.exp(-(np.hstack([(x[h] - mu) / sd, np.ones((h.sum(), 1))]) @ beta)))
    rng = np.random.default_rng(0)
    ways = ["shared", "own threshold"] + [f"anchored λ {lam:g}" for lam in lams]
    acc = {w: [] for w in ways}
    per = {}
    for s in sources:
        m = src == s
        t_shared = balanced_threshold(oof[~m], live[~m], src[~m])
        b_idx, a_idx = np.flatnonzero(m & live), np.flatnonzero(m & ~live)
        if min(len(b_idx), len(a_idx)) < 2 * n:
            continue
        if WAY == "people" and min(len(np.unique(people[i])) for i in (b_idx, a_idx)) < 3:
            continue
        mu, sd, beta0 = fold[s]
        zs = np.hstack([(x[m] - mu) / sd, np.ones((m.sum(), 1))])
        pos = np.full(len(tr), -1)
        pos[np.flatnonzero(m)] = np.arange(m.sum())
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
                # β = β_fold + δ: fit δ (bias free) with ridge λ, the fold's score as offset.
                delta = anchored_step(zz, y, w, lam, zz @ beta0)
                sc = np.zeros(len(tr))
                sc[m] = 1 / (1 + np.exp(-(zs @ (beta0 + delta))))
                judged[f"anchored λ {lam:g}"] = (sc, t_shared)
            for name, (sc, t) in judged.items():
                ap, bp = rates(sc[rb], sc[ra], t)
                got[name].append((ap, bp, len(ra), len(rb)))
        per[s] = {k: np.array(v) for k, v in got.items()}
        for k in ways:
            acc[k].append(per[s][k])

    def pooled(rows):
        rows = np.concatenate(rows)
        ap = (rows[:, 0] * rows[:, 2]).sum() / rows[:, 2].sum()
        bp = (rows[:, 1] * rows[:, 3]).sum() / rows[:, 3].sum()
        return 100 * (ap + bp) / 2

    print(f"n = {n} per class, {draws} {WAY} draws per source; pooled ACER on the rest of each source:")
    for k in ways:
        print(f"  {k:<20} {pooled(acc[k]):5.1f} %")
    print("  per source (" + " / ".join(ways) + "):")
    for s, r in per.items():
        print(f"    {s[:40]:<40} " + " / ".join(f"{100 * (v[:, 0].mean() + v[:, 1].mean()) / 2:4.1f}" for v in r.values()))


if __name__ == "__main__":
    main()
