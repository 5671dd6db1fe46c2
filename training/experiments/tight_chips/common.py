"""Shared by the tight-chip / framed-attack experiments (not part of train.sh or CI).

Features are exactly the shipped layer's inputs (`export.TAPS` of both networks, 1,024 values);
the layer is `train.fit`'s source-balanced ridged logistic regression, with optional extra
(synthetic) samples weighted per source and class; LOSO figures as `train.py` computes them.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "synthetic_attacks"))

import train as T  # noqa: E402
from data import Crops, to_input  # noqa: E402
from export import BACKBONES, Head, tap_features, tap_names  # noqa: E402
from metrics import balanced_threshold, loso_table  # noqa: E402
from onnx_graph import Graph  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
CROPS = os.environ.get("LIVEGATE_CROPS", os.path.join(TARGET, "training", "crops"))
OUT = os.environ.get("LIVEGATE_EXP_DIR", os.path.join(TARGET, "exp-tight"))
os.makedirs(OUT, exist_ok=True)
TD = os.environ.get("LIVEGATE_TESTDATA", os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata"))

_sessions = {}


def features(c27, c40):
    """N×80×80×3 RGB crops at 2.7 and 4.0 → N×1024 (the shipped layer's inputs)."""
    names = tap_names()
    parts = []
    for net, rgb in (("crop_27", c27), ("crop_40", c40)):
        if net not in _sessions:
            g = Graph(os.path.join(T.find_models(""), BACKBONES[net][0]))
            _sessions[net] = (g.session(names), g.input)
        s, inp = _sessions[net]
        x = to_input(rgb)
        parts.append(np.concatenate([tap_features(zip(names, s.run(names, {inp: x[i:i + 128]})))
                                     for i in range(0, len(x), 128)]))
    return np.concatenate(parts, 1).astype(np.float64)


def base():
    """Crops, and the features of every crop (cached)."""
    c = Crops(CROPS)
    path = os.path.join(OUT, "base.npy")
    if not os.path.exists(path):
        np.save(path, features(c.by_scale[27], c.by_scale[40]))
    return c, np.load(path)


def fit_extra(x, live, source, l2, ex=None, ey=None, es=None, alpha=0.0, iterations=12):
    """`train.fit` plus extra samples (features ex, live flags ey, parent source es): within each
    (source, class) of the extras, total weight alpha × one real (source, class) group."""
    w = T.sample_weights(live, source)
    grp = w[(source == source[0]) & (live == live[0])].sum()
    xs, ys, ws = [x], [live], [w]
    if ex is not None and alpha > 0:
        keep = np.isin(es, np.unique(source))
        ex, ey, es = ex[keep], ey[keep], es[keep]
        we = np.zeros(len(ex))
        for s in np.unique(es):
            for cl in (True, False):
                m = (es == s) & (ey == cl)
                if m.any():
                    we[m] = alpha * grp / m.sum()
        xs.append(ex); ys.append(ey); ws.append(we)
    X, Y, W = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    mu, sd = X.mean(0), X.std(0) + 1e-6
    z = np.hstack([(X - mu) / sd, np.ones((len(X), 1))])
    beta = T.newton(z, Y.astype(float), W, l2, iterations)
    return Head.from_standardised(beta[:-1], beta[-1], mu, sd)


def evaluate(x, live, source, xf, l2, ex=None, ey=None, es=None, alpha=0.0):
    """LOSO as train.py: each source scored by the layer fitted without it (extras of that
    source dropped too); faces/ by the layer fitted on everything, at the OOF operating point."""
    return evaluate_fit(lambda keep: fit_extra(x[keep], live[keep], source[keep], l2, ex, ey, es,
                                               alpha), x, live, source, xf)


def evaluate_fit(fit, x, live, source, xf):
    """`evaluate` with any layer: `fit(keep)` fits one on the stills where `keep` is true (the
    held-out source's extras, or pool, are the caller's to drop)."""
    oof = np.zeros(len(live))
    for s in np.unique(source):
        h = source == s
        oof[h] = fit(~h).score(x[h])
    rows, pooled = loso_table(oof, live, source)
    thr = balanced_threshold(oof, live, source)
    fs = fit(np.ones(len(live), bool)).score(xf)
    worst = max((r["acer"], k) for k, r in rows.items())
    return dict(acer=pooled["acer"], auc=pooled["roc_auc"], worst=worst,
                nuaa=rows["nuaa_train"]["roc_auc"], thr=thr, faces=float(np.mean(fs < thr)),
                rows=rows, oof=oof, faces_scores=fs)


def judge(c, X, fit, label):
    """`evaluate_fit` over the trainable stills of `c` (features X, one row a still of `c`) and
    `faces/`, with `fit(x, live, source)` → a layer; prints the `fmt` line and returns the figures."""
    tr = np.flatnonzero(c.trainable)
    fa = np.flatnonzero(c.subset == "faces")
    x, live, source = X[tr], c.live[tr], c.source[tr]
    r = evaluate_fit(lambda keep: fit(x[keep], live[keep], source[keep]), x, live, source, X[fa])
    print(fmt(r, label), flush=True)
    return r


def fmt(r, label):
    per = " ".join(f"{k[:5]}:{100 * v['acer']:.0f}" for k, v in r["rows"].items())
    return (f"{label:<34} ACER {100 * r['acer']:5.2f} AUC {r['auc']:.3f} worst {100 * r['worst'][0]:4.1f}"
            f" ({r['worst'][1][:10]}) nuaa {r['nuaa']:.3f} faces {100 * r['faces']:4.1f} thr {r['thr']:.3f}"
            f"\n      {per}")


def save_copies(seed, kind, make, salt=()):
    """`make(rgb, rng_draw)` applied to both service crops (2.7 and 4.0, one draw per still) of
    every trainable still; the copies' features cached as `extra_<seed>_<kind>.npz`, each
    labelled as its parent. `make` is `(draw, transform)`: `draw(rng)` → parameters,
    `transform(rgb, *parameters)` → the copy."""
    draw, transform = make
    c = Crops(CROPS)
    tr = np.flatnonzero(c.trainable)
    c27, c40 = [], []
    for i in tr:
        params = draw(np.random.default_rng([seed, int(i), *salt]))
        c27.append(transform(c.by_scale[27][i], *params))
        c40.append(transform(c.by_scale[40][i], *params))
    c27, c40 = np.stack(c27), np.stack(c40)
    x = features(c27, c40)
    np.savez(os.path.join(OUT, f"extra_{seed}_{kind}.npz"), parent=tr, kind=np.array([kind] * len(tr)),
             live=c.live[tr], x=x, c27=c27[::9], c40=c40[::9])
    print("done", x.shape)
