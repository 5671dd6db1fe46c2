"""How far a deployment's own labelled captures fix the operating point (not run by CI).

Each source's out-of-fold scores (`training/loso.json`: the fold layer never saw the source)
are split into a calibration sample — n live and n attack stills of that source — and the rest.
The threshold is chosen on the sample alone (the lowest ACER there, the middle of the tied
interval) and judged on the rest, against the shared LOSO threshold judged on the same rest.

Two ways to draw the sample:
- `random`: n stills of each class anywhere in the source — optimistic, since a source's stills
  are frames of a few takes, so the sample shares takes with the rest;
- `block`: n consecutive stills of each class in file-number order (one stretch of capture) —
  closer to calibrating on one session and meeting the next.

Usage: measure.py [DRAWS]   (default 200 draws per source, n and way)
"""
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from metrics import balanced_threshold, rates  # noqa: E402

NEAREST = os.environ.get("RULE", "nearest") == "nearest"
LOSO = os.path.join(HERE, "..", "..", "loso.json")


def source_of(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "extra" else parts[0]


def number(path):
    m = re.findall(r"\d+", os.path.basename(path))
    return int(m[-1]) if m else 0


def local_threshold(bona, attack, prior=None):
    """A threshold with the lowest ACER on the sample. Without `prior`, the middle of the tied
    stretch; with it, the point of the tied thresholds nearest `prior` (the shared one): the
    operating point moves only as far as the sample says it must."""
    cands = np.unique(np.concatenate([bona, attack, [0.0, 1.0 + 1e-9]]))
    acer = np.array([sum(rates(bona, attack, t)) / 2 for t in cands])
    best = cands[acer <= acer.min() + 1e-12]
    if prior is None:
        return float((best[0] + best[-1]) / 2)
    # accepted means score ≥ t, so each tied candidate t stands for the stretch (previous, t],
    # every threshold of which judges the sample alike: the point of each nearest `prior`
    # (just above `previous` when `prior` lies under the stretch; the same as `prior` when it
    # lies in one). Until 2026-12-07 this returned the candidate itself, the stretch's far end
    # when `prior` lay under it, as `livegate eval --calibrate` did.
    prev = np.array([cands[max(np.searchsorted(cands, t) - 1, 0)] for t in best])
    points = np.clip(prior, np.minimum(prev + 1e-6, best), best)
    return float(points[np.argmin(abs(points - prior))])


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    oof = json.load(open(LOSO))["oof"]
    files = sorted(oof, key=lambda f: (source_of(f), "spoof" in f.split("/")[-2:] or "fake" in f.lower(), number(f)))
    score = np.array([oof[f] for f in files])
    src = np.array([source_of(f) for f in files])
    live = np.array(["fake" not in f.lower() and "/spoof/" not in f for f in files])
    rng = np.random.default_rng(0)
    print(f"{'n':>3} {'way':<6} {'pooled ACER shared':>19} {'local':>7}  per source (shared → local)")
    for n in (5, 10, 20, 40):
        for way in ("random", "block"):
            shared_err, local_err = [], []
            per = {}
            for s in np.unique(src):
                m = src == s
                other = ~m
                t_shared = balanced_threshold(score[other], live[other], src[other])
                b_idx, a_idx = np.flatnonzero(m & live), np.flatnonzero(m & ~live)
                if min(len(b_idx), len(a_idx)) < 2 * n:
                    continue
                acc_s, acc_l = [], []
                for _ in range(draws):
                    if way == "random":
                        cb = rng.choice(b_idx, n, replace=False)
                        ca = rng.choice(a_idx, n, replace=False)
                    else:
                        i, j = rng.integers(0, len(b_idx) - n + 1), rng.integers(0, len(a_idx) - n + 1)
                        cb, ca = b_idx[i:i + n], a_idx[j:j + n]
                    t = local_threshold(score[cb], score[ca], t_shared if NEAREST else None)
                    rb = np.setdiff1d(b_idx, cb)
                    ra = np.setdiff1d(a_idx, ca)
                    for t_, acc in ((t_shared, acc_s), (t, acc_l)):
                        ap, bp = rates(score[rb], score[ra], t_)
                        acc.append((ap, bp, len(ra), len(rb)))
                a_s, a_l = np.array(acc_s), np.array(acc_l)
                per[s] = ((a_s[:, 0].mean() + a_s[:, 1].mean()) / 2, (a_l[:, 0].mean() + a_l[:, 1].mean()) / 2)
                shared_err.append(a_s)
                local_err.append(a_l)

            def pooled(rows):
                rows = np.concatenate(rows)
                # presentations pooled: errors weighted by how many stills each rate covers
                ap = (rows[:, 0] * rows[:, 2]).sum() / rows[:, 2].sum()
                bp = (rows[:, 1] * rows[:, 3]).sum() / rows[:, 3].sum()
                return (ap + bp) / 2
            cells = " ".join(f"{k[:8]} {100 * v[0]:.0f}→{100 * v[1]:.0f}" for k, v in per.items())
            print(f"{n:>3} {way:<6} {100 * pooled(shared_err):>18.1f}% {100 * pooled(local_err):>6.1f}%  {cells}")


if __name__ == "__main__":
    main()
