"""LOSO with the fetched live faces as extra training samples, and what each of their groups
gets when it is the one held out (issue #10).

    python heldout.py WEIGHTS RIDGES        # e.g. 0,0.25,0.5,1 700,1000,1500

Per weight a and ridge: the nine `extra/` sources and `nuaa_train` scored leave-one-source-out
exactly as `../tight_chips/grid.py` does (the registry groups are sources no fold holds out,
each live-only group weighted a × one real (source, class) group; standardised over the real
crops only, so a = 0 is the "real crops only" baseline), `faces/` by the layer fitted on
everything; then each registry group scored by a layer fitted without that group, at the same
out-of-fold operating point. With a = 0 the registry faces train nothing and the last columns
are plain held-out bona fide rejection rates.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

import grid as G  # noqa: E402
from common import *  # noqa: E402,F403


def main():
    alphas = [float(a) for a in sys.argv[1].split(",")]
    ridges = [float(v) for v in sys.argv[2].split(",")]
    d = np.load(os.path.join(OUT, "registry.npz"))
    c, X = base()
    tr = np.flatnonzero(c.trainable)
    fa = np.flatnonzero(c.subset == "faces")
    x, live, source = X[tr], c.live[tr], c.source[tr]
    rx, rl, rs = d["x"], d["live"], d["source"]
    kind = np.array(["frames"] * len(rx))
    for l2 in ridges:
        for a in alphas:
            r = G.evaluate_kinds(x, live, source, X[fa], l2, (rx, rl, rs, rs, kind), {"frames": a})
            held = []
            for g in np.unique(rs):
                keep = rs != g
                head, _ = G.fit_weighted(x, live, source, l2, rx[keep], rl[keep], rs[keep],
                                         kind[keep], {"frames": a})
                s = head.score(rx[rs == g])
                held.append(f"{g.split(':')[1]} {np.sum(s < r['thr'])}/{len(s)}")
            print(f"a={a:g} ridge {l2:g}: ACER {100 * r['acer']:.2f} AUC {r['auc']:.3f} worst "
                  f"{100 * r['worst'][0]:.1f} ({r['worst'][1][:10]}) nuaa {r['nuaa']:.3f} faces "
                  f"{np.sum(r['faces_scores'] < r['thr'])}/{len(fa)} thr {r['thr']:.3f} | held out: "
                  + ", ".join(held), flush=True)


if __name__ == "__main__":
    main()
