"""LOSO grid over the group-robust temperature, feature transforms, threshold rules and bagging.

    python grid.py [--seeds 0,1] [--taus none,1,0.3] [--groups sc|s] [--transforms none,logstd]
                   [--ridges 1000] [--thr balanced,worst,top3] [--bags 0] [--drop 2] [--no-chips]

Every config is run at each chip seed (the chip re-cuts that the features are standardised over,
train.py's pool) and the mean over seeds printed; one JSON line per run is appended to
$LIVEGATE_EXP_DIR/grid.jsonl.
"""
import argparse
import json
import time

from fitlib import *  # noqa: F401,F403
from fitlib import OUT, bagged, chips, evaluate, fit, fmt, load, np, os, transform


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", default="0")
    p.add_argument("--taus", default="none")
    p.add_argument("--groups", default="sc")
    p.add_argument("--transforms", default="none")
    p.add_argument("--ridges", default="1000")
    p.add_argument("--thr", default="balanced")
    p.add_argument("--bags", type=int, default=0)
    p.add_argument("--drop", type=int, default=2)
    p.add_argument("--no-chips", action="store_true")
    a = p.parse_args()
    c, X = load()
    tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == "faces")
    live, source = c.live[tr], c.source[tr]
    rules = a.thr.split(",")
    for tname in a.transforms.split(","):
        x, xf = transform(X[tr], tname), transform(X[fa], tname)
        for l2 in [float(v) for v in a.ridges.split(",")]:
            for tau in [None if v == "none" else float(v) for v in a.taus.split(",")]:
                runs = []
                for seed in [int(v) for v in a.seeds.split(",")]:
                    pool = np.zeros((0, x.shape[1])) if a.no_chips else transform(chips(c, seed), tname)
                    ps = source[:0] if a.no_chips else source
                    if a.bags:
                        fitter = lambda x_, l_, s_, p_, ps_, st: bagged(  # noqa: E731
                            x_, l_, s_, l2, p_, ps_, a.bags, a.drop, seed, tau=tau, gkind=a.groups)
                    else:
                        fitter = lambda x_, l_, s_, p_, ps_, st: fit(  # noqa: E731
                            x_, l_, s_, l2, p_, tau=tau, gkind=a.groups, start=st)[:2]
                    t = time.time()
                    res = evaluate(x, live, source, xf, pool, ps, fitter, rules)
                    label = (f"{tname} r{l2:g} tau {tau} {a.groups}"
                             + (f" bag{a.bags}-{a.drop}" if a.bags else "") + f" s{seed}")
                    for rule, r in res.items():
                        print(fmt(r, f"{label} {rule}") + f"  [{time.time() - t:.0f}s]", flush=True)
                        with open(os.path.join(OUT, "grid.jsonl"), "a") as f:
                            f.write(json.dumps(dict(
                                transform=tname, ridge=l2, tau=tau, groups=a.groups, bags=a.bags,
                                drop=a.drop, chips=not a.no_chips, seed=seed, rule=rule,
                                acer=r["acer"], auc=r["auc"], worst=r["worst"], nuaa=r["nuaa"],
                                faces=r["faces"], thr=r["thr"],
                                per_source={k: v["acer"] for k, v in r["rows"].items()})) + "\n")
                    runs.append(res)
                if len(runs) > 1:
                    for rule in rules:
                        rs = [r[rule] for r in runs]
                        m = lambda k: np.mean([r[k] for r in rs])  # noqa: E731
                        print(f"  MEAN {label[:-3]} {rule}: ACER {100 * m('acer'):.2f} AUC {m('auc'):.3f}"
                              f" worst {100 * np.mean([r['worst'][0] for r in rs]):.1f} nuaa {m('nuaa'):.3f}"
                              f" faces {100 * m('faces'):.1f}", flush=True)


if __name__ == "__main__":
    main()
