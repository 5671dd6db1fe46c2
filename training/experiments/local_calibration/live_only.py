"""A deployment that can label only its own live captures (its genuine traffic, its staff), no
attacks: does moving toward them help, and at what cost? (Not run by CI.)

Attacks of a deployment's own kind are the hard part of `training/calibrate.sh`: it asks for
ten or more. Genuine captures are plentiful. Two ways that need lives only, each judged on the
rest of the source (both classes) at the shared LOSO threshold, on the same `WAY` draws as
`anchored.py`, against the fold layer:

- `lower threshold q`: the operating point lowered, never raised, to the q-quantile of the
  sample's live scores, so that at most about q of such captures are refused;
- `toward lives λ`: the layer's weights moved toward the sample (logistic loss on the lives
  alone + λ‖δ‖² in the standardised scales), the bias held where the fold layer has it (with
  no attacks in the sample, a free bias would simply accept everything).

Usage: WAY=block|halves|people live_only.py [DRAWS] [N] [λ,λ…]
"""
import sys

import numpy as np

from anchored import T, fold_layers, nested, source_in_fold
from retrain import close_source, draw, report, stills, tally

QUANTILES = (0.05, 0.1)


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    lams = [float(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "30,100,300,1000").split(",")]
    x, live, src, people = stills()
    fold, oof = fold_layers(x, live, src)
    rng = np.random.default_rng(0)
    ways = (["shared"] + [f"lower threshold {q:g}" for q in QUANTILES]
            + [f"toward lives λ {lam:g}" for lam in lams])
    acc = {w: [] for w in ways}
    per = {}
    for s in np.unique(src):
        held = source_in_fold(s, n, x, live, src, oof, people, fold)
        if held is None:
            continue
        m, t_shared, b_idx, a_idx, beta0, zs, pos = held
        got = {w: [] for w in ways}
        for _ in range(draws):
            cb, rb = draw(rng, b_idx, n, people)
            # The attacks are drawn only to judge on the same rest as the other experiments.
            _, ra = draw(rng, a_idx, n, people)
            judged = {"shared": (oof, t_shared)}
            for q in QUANTILES:
                judged[f"lower threshold {q:g}"] = (oof, min(t_shared, float(np.quantile(oof[cb], q))))
            zz = zs[pos[cb]]
            for lam in lams:
                # A ridge of 1e9 on the bias holds it at the fold layer's (δ's bias stays 0).
                delta = T.newton(zz, np.ones(len(cb)), np.ones(len(cb)) / len(cb), lam, 12,
                                 offset=zz @ beta0, bias_l2=1e9)
                sc = np.zeros(len(live))
                sc[m] = 1 / (1 + np.exp(-(zs @ (beta0 + delta))))
                judged[f"toward lives λ {lam:g}"] = (sc, t_shared)
            tally(got, judged, rb, ra)
        close_source(s, got, per, acc)
    report(n, draws, ways, acc, per)
    nested(per, [f"toward lives λ {lam:g}" for lam in lams])


if __name__ == "__main__":
    main()
