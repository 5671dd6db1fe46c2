"""Does an APCER or BPCER stated at calibration (`livegate eval --calibrate --max-apcer` /
`--max-bpcer`) hold on the captures that follow? (not run by CI)

Each source's out-of-fold scores (`training/loso.json`: the fold layer never saw the source).
A calibration sample is n consecutive live and n consecutive attack stills of that source in
file-number order (one stretch of capture, as `measure.py`'s `block`); the threshold is chosen
on it by the product's rule (`crates/eval/src/calibrate.rs`: `within_apcer`, the lowest BPCER
whose APCER on the sample is at most the target; `within_bpcer`, the other way round; nearest
the shared threshold among equals) and judged on the source's other stills. 200 draws per
source and n.

Usage: stated_rate.py [DRAWS] [apcer|bpcer]
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from measure import LOSO, number, source_of  # noqa: E402
from metrics import balanced_threshold, rates  # noqa: E402

# A score step far under any gap between two stills' scores, standing for the product's half
# step of the presented thousandths (these scores are not rounded).
EPS = 1e-6


def allowed(share, n):
    return int(np.floor(share * n * (1 + 1e-6)))


def settle(bona, attack, floor, prior):
    """The product's `settle`, on unrounded scores: the stretch (a, b] above `floor`."""
    above = bona[bona > floor] if floor is not None else bona
    b = above.min() if len(above) else 1.0
    under = attack[attack < b]
    low = min(under.max() + EPS, 1.0) if len(under) else EPS
    high = min(max(b - EPS, low), 1.0)
    return float(np.clip(prior, low, high))


def within_apcer(bona, attack, max_apcer, prior):
    high_first = np.sort(attack)[::-1]
    k = allowed(max_apcer, len(high_first))
    if k >= len(high_first):
        return settle(bona, attack, None, prior)
    return settle(bona, attack, high_first[k], prior)


def within_bpcer(bona, attack, max_bpcer, prior):
    low_first = np.sort(bona)
    k = allowed(max_bpcer, len(low_first))
    kept = low_first[k] if k < len(low_first) else 1.0
    under = attack[attack < kept]
    return settle(bona, attack, under.max() if len(under) else None, prior)


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    stated = sys.argv[2] if len(sys.argv) > 2 else "apcer"
    rule, k = (within_apcer, 0) if stated == "apcer" else (within_bpcer, 1)
    oof = json.load(open(LOSO))["oof"]
    files = sorted(oof, key=lambda f: (source_of(f), number(f)))
    score = np.array([oof[f] for f in files])
    src = np.array([source_of(f) for f in files])
    live = np.array(["fake" not in f.lower() and "/spoof/" not in f for f in files])
    rng = np.random.default_rng(0)
    print(f"| n per class | target {stated.upper()} | held-out APCER (pooled) | draws over the target | "
          "held-out BPCER | shared threshold: APCER / BPCER | per source: APCER (BPCER) |")
    print("|---|---|---|---|---|---|---|")
    for n in (20, 40):
        for target in (0.0, 0.05, 0.10):
            rows, shared, per = [], [], {}
            for s in np.unique(src):
                m = src == s
                t_shared = balanced_threshold(score[~m], live[~m], src[~m])
                b_idx, a_idx = np.flatnonzero(m & live), np.flatnonzero(m & ~live)
                if min(len(b_idx), len(a_idx)) < 2 * n:
                    continue
                mine = []
                for _ in range(draws):
                    i = rng.integers(0, len(b_idx) - n + 1)
                    j = rng.integers(0, len(a_idx) - n + 1)
                    cb, ca = b_idx[i:i + n], a_idx[j:j + n]
                    t = rule(score[cb], score[ca], target, t_shared)
                    rb, ra = np.setdiff1d(b_idx, cb), np.setdiff1d(a_idx, ca)
                    ap, bp = rates(score[rb], score[ra], t)
                    mine.append((ap, bp, len(ra), len(rb)))
                    shared.append((*rates(score[rb], score[ra], t_shared), len(ra), len(rb)))
                mine = np.array(mine)
                rows.append(mine)
                per[s] = (mine[:, 0].mean(), mine[:, 1].mean())
            rows = np.concatenate(rows)
            shared = np.array(shared)

            def pooled(r, k, w):
                return 100 * (r[:, k] * r[:, w]).sum() / r[:, w].sum()
            over = 100 * np.mean(rows[:, k] > target + 1e-9)
            cells = ", ".join(f"`{k.split('+')[0]}` {100 * a:.0f} ({100 * b:.0f})" for k, (a, b) in per.items())
            print(f"| {n} | {100 * target:.0f} % | {pooled(rows, 0, 2):.1f} % | {over:.0f} % | "
                  f"{pooled(rows, 1, 3):.1f} % | {pooled(shared, 0, 2):.1f} / {pooled(shared, 1, 3):.1f} % | {cells} |")


if __name__ == "__main__":
    main()
