"""LOSO grid over extra-sample sets, their weights and the ridge.

    python grid.py "chip:0.5,framed:0.5" 1000 extra_0_chip-framed.npz [extra_1_chip-framed.npz ...]
    python grid.py "chip:0+frames:0.5" 1000 extra_0_chip.npz+frames_24.npz

Each config is "+"-joined kinds with one weight each, e.g. "chip:0.5+framed:0.3"; configs are
comma-separated; every config × ridge is run on each seed's file and the mean printed.
"""
import time

from common import *


def main():
    configs = [[(k.split(":")[0], float(k.split(":")[1])) for k in cfg.split("+")]
               for cfg in sys.argv[1].split(",")]
    ridges = [float(v) for v in sys.argv[2].split(",")]
    # one run per argument; "a.npz+b.npz" pools the extra samples of several files
    files = [[np.load(os.path.join(OUT, f)) for f in arg.split("+")] for arg in sys.argv[3:]]
    c, X = base()
    tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == "faces")
    x, live, source = X[tr], c.live[tr], c.source[tr]
    for cfg in configs:
        for l2 in ridges:
            res = []
            for group in files:
                # a copy that mixes in another still (style_shift) names it: both sources must
                # be in a fold's training set for the copy to be
                parts = [extra_samples(d, c, cfg) for d in group]
                extras = tuple(np.concatenate(p) for p in zip(*parts))
                # label-keeping nuisance pairs: each extra sample minus its parent's features
                global PAIRS
                for d in group:
                    if "parent" in d:
                        pm = np.isin(d["kind"], NUISANCE_KINDS)
                        PAIRS = (d["x"][pm] - X[d["parent"][pm]], c.source[d["parent"][pm]])
                t = time.time()
                r = evaluate_kinds(x, live, source, X[fa], l2, extras, dict(cfg))
                res.append(r)
                label = "+".join(f"{k}:{a:g}" for k, a in cfg) + f" r{l2:g}"
                print(fmt(r, label) + f"  [{time.time() - t:.0f}s]", flush=True)
            if len(res) > 1:
                print(f"  MEAN ACER {100 * np.mean([r['acer'] for r in res]):.2f} AUC "
                      f"{np.mean([r['auc'] for r in res]):.3f} worst {100 * np.mean([r['worst'][0] for r in res]):.1f} "
                      f"nuaa {np.mean([r['nuaa'] for r in res]):.3f} faces {100 * np.mean([r['faces'] for r in res]):.1f}",
                      flush=True)


def extra_samples(d, c, cfg):
    """The extra samples of a cached file that the config names: features, live flags, parent's
    source, partner's source, kind. Copies of training stills (`parent`: an index into the
    crops) take their sources from the parent (and the `partner` a style_shift copy mixed in);
    new stills (`video_frames/`, kind "frames") carry their own `source`."""
    if "parent" not in d:
        m = np.full(len(d["x"]), any(kind == "frames" for kind, _ in cfg))
        return (d["x"][m], d["live"][m], d["source"][m], d["source"][m],
                np.array(["frames"] * int(m.sum())))
    partner = d["partner"] if "partner" in d else d["parent"]
    m = np.concatenate([np.flatnonzero(d["kind"] == kind) for kind, _ in cfg])
    return (d["x"][m], d["live"][m], c.source[d["parent"][m]], c.source[partner[m]], d["kind"][m])


def evaluate_kinds(x, live, source, xf, l2, extras, alphas):
    """`common.evaluate` with one weight per kind of extra sample. `extras`: features, live
    flags, parent's source, partner's source and kind of each extra sample."""
    ex, ey, src, partner_src, kind = extras

    def fit(mask, start=None, iterations=12):
        # a source no fold holds out (new stills' own sources) is always inside
        inside = np.concatenate([np.unique(source[mask]), np.setdiff1d(src, source)])
        keep = np.isin(src, inside) & np.isin(partner_src, inside)
        return fit_weighted(x[mask], live[mask], source[mask], l2, ex[keep], ey[keep], src[keep],
                            kind[keep], alphas, start, iterations)

    full, beta = fit(np.ones(len(live), bool))
    fs = full.score(xf)
    oof = np.zeros(len(live))
    for s in np.unique(source):
        h = source == s
        # Newton from the full fit's solution: a few steps reach the fold's optimum
        oof[h] = fit(~h, beta, WARM_ITERATIONS)[0].score(x[h])
    rows, pooled = loso_table(oof, live, source)
    thr = balanced_threshold(oof, live, source)
    worst = max((r["acer"], k) for k, r in rows.items())
    return dict(acer=pooled["acer"], auc=pooled["roc_auc"], worst=worst,
                nuaa=rows["nuaa_train"]["roc_auc"], thr=thr, faces=float(np.mean(fs < thr)),
                rows=rows, oof=oof, faces_scores=fs)


NUISANCE = float(os.environ.get("NUISANCE", "0"))
NUISANCE_KINDS = os.environ.get("NUISANCE_KINDS", "chip,degrade").split(",")
PAIRS = None
SOURCE_PENALTY = float(os.environ.get("SOURCE_PENALTY", "0"))
STANDARDISE = os.environ.get("STANDARDISE", "real")
WARM_ITERATIONS = int(os.environ.get("WARM_ITERATIONS", "4"))


def fit_weighted(x, live, source, l2, ex, ey, es, ek, alphas, start=None, iterations=12):
    """`train.fit` plus extras: within each (kind, source, class), total weight alpha(kind) ×
    one real (source, class) group."""
    w = T.sample_weights(live, source)
    grp = w[(source == source[0]) & (live == live[0])].sum()
    we = np.zeros(len(ex))
    for k, a in alphas.items():
        for s in np.unique(es):
            for cl in (True, False):
                m = (ek == k) & (es == s) & (ey == cl)
                if m.any():
                    we[m] = a * grp / m.sum()
    X = np.concatenate([x, ex]); Y = np.concatenate([live, ey]).astype(float); W = np.concatenate([w, we])
    # standardised on the real samples (as train.fit), or on real + extra ones (STANDARDISE=all)
    S = X if STANDARDISE == "all" else x
    mu, sd = S.mean(0), S.std(0) + 1e-6
    z = np.hstack([(X - mu) / sd, np.ones((len(X), 1))])
    ridge = l2 * np.diag(np.r_[np.ones(z.shape[1] - 1), 0.0])
    if SOURCE_PENALTY > 0:
        # source-invariance penalty γ·wᵀBw: B the covariance, over the real (source, class)
        # groups, of each group's mean about its class's mean of group means — directions
        # along which sources differ within a class (their look, their calibration) cost extra
        zr = z[:len(x), :-1]
        dev = []
        for cl in (True, False):
            means = np.array([zr[(source == s) & (live == cl)].mean(0) for s in np.unique(source)
                              if ((source == s) & (live == cl)).any()])
            dev.append(means - means.mean(0))
        D = np.concatenate(dev)
        B = np.zeros_like(ridge)
        B[:-1, :-1] = D.T @ D / len(D)
        ridge = ridge + SOURCE_PENALTY * B
    if NUISANCE > 0:
        # invariance penalty γ·wᵀCw: C the second moment of (augmented − original) features
        # (standardised), over the training sources' pairs: what a chip re-cut or a
        # resolution change moves, the layer should not read
        dz = PAIRS[0][np.isin(PAIRS[1], np.unique(source))] / sd
        C = np.zeros_like(ridge)
        C[:-1, :-1] = dz.T @ dz / len(dz)
        ridge = ridge + NUISANCE * C
    beta = np.zeros(z.shape[1]) if start is None else start.copy()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -50, 50)))
        grad = z.T @ (W * (p - Y)) + ridge @ beta
        hess = (z * (W * p * (1 - p))[:, None]).T @ z + ridge
        beta -= np.linalg.solve(hess, grad)
    return Head.from_standardised(beta[:-1], beta[-1], mu, sd), beta


if __name__ == "__main__":
    main()
