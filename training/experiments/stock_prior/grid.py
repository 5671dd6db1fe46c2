"""The layer shrunk toward the stock networks' own verdict instead of toward zero (issue #10).

    python grid.py GAMMAS RIDGES [OFFSET]     # e.g. 0,0.25,0.5,1 300,1000,3000 mean
    python grid.py nested GAMMAS RIDGES [OFFSET]  # γ and ridge chosen inside each fold

The shipped layer's ridge pulls every weight to zero, so where the layer has not seen a kind of
face it says nothing — and the features' source looks decide. The stock MiniFASNets were trained
by their authors on far more faces; on live faces of kinds no source here has (studio video,
group photos: `../registry_live/`) their own classifiers accept nearly all. Here the stock
logits enter as a fixed offset, γ × (V2 logit on crop_27 + V1SE logit on crop_40) / 2 (OFFSET
`mean`; `v2` or `v1se` for one network; `fr` for Faceplugin's `fr_liveness`, a third network
the service no longer runs; `all` for the mean of the three), and the ridge-shrunk taps only correct it: a prior
centred on the stock decision. γ = 0 is the shipped layer (real-crop standardisation).

Same protocol as `../tight_chips/grid.py` (each source scored by the layer fitted without it,
threshold from the other sources' out-of-fold scores, `faces/` by the layer fitted on all), plus
the fetched live faces (`../registry_live/`, never trained on here) at that threshold.
"""
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

from common import *  # noqa: E402,F403

REGISTRY = os.environ.get("LIVEGATE_REGISTRY", "/var/cache/livegate/exp-reg2")


def stock_logits(rows, which):
    """The stock networks' live logit from each crop's index row (softmax live probability)."""
    cols = {"mean": ("minifasnet_v2", "minifasnet_v1se"), "v2": ("minifasnet_v2",),
            "v1se": ("minifasnet_v1se",), "fr": ("fr_liveness",),
            "all": ("minifasnet_v2", "minifasnet_v1se", "fr_liveness")}[which]
    p = np.clip(np.array([[float(r[k]) for k in cols] for r in rows]), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p)).mean(1)


def fit(x, live, source, l2, off, iterations=12, start=None):
    """`train.fit` with a fixed per-sample offset added to the linear score."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    beta = T.newton(z, live.astype(float), T.sample_weights(live, source), l2, iterations, start,
                    offset=off)
    return Head.from_standardised(beta[:-1], beta[-1], mu, sd), beta


def score(head, x, off):
    return 1.0 / (1.0 + np.exp(-np.clip(x @ head.w + head.b + off, -50, 50)))


def loso(x, live, source, l2, off, start=None):
    """Out-of-fold scores of every source (warm-started from `start` or the full fit)."""
    if start is None:
        start = fit(x, live, source, l2, off)[1]
    oof = np.zeros(len(live))
    for s in np.unique(source):
        h = source == s
        head, _ = fit(x[~h], live[~h], source[~h], l2, off[~h], 4, start)
        oof[h] = score(head, x[h], off[h])
    return oof


def nested(gammas, ridges, which):
    """γ and ridge chosen without the held-out source: for each source, the pair whose LOSO over
    the other sources has the lowest pooled ACER; that source is then scored by the layer with
    that pair fitted on the others. Thresholds as everywhere (the other sources' out-of-fold
    scores). With γ = 0 alone it checks the shipped form's ridge choice."""
    c, X = base()
    logit = stock_logits(c.rows, which)
    tr = np.flatnonzero(c.trainable)
    x, live, source, lg = X[tr], c.live[tr], c.source[tr], logit[tr]
    oof = np.zeros(len(live))
    for s in np.unique(source):
        h = source == s
        inner = {(g, l2): loso_table(loso(x[~h], live[~h], source[~h], l2, g * lg[~h]),
                                     live[~h], source[~h])[1]["acer"]
                 for g in gammas for l2 in ridges}
        g, l2 = min(inner, key=inner.get)
        head, _ = fit(x[~h], live[~h], source[~h], l2, g * lg[~h])
        oof[h] = score(head, x[h], g * lg[h])
        print(f"  {s[:28]:<28} γ {g:g} ridge {l2:g} (inner ACER " + ", ".join(
            f"{k[0]:g}/{k[1]:g}: {100 * v:.2f}" for k, v in inner.items()) + ")", flush=True)
    rows, pooled = loso_table(oof, live, source)
    worst = max((r["acer"], k) for k, r in rows.items())
    print(f"nested {which} ridges {'/'.join(f'{r:g}' for r in ridges)}: ACER {100 * pooled['acer']:.2f} AUC "
          f"{pooled['roc_auc']:.3f} worst {100 * worst[0]:.1f} ({worst[1][:10]}) nuaa "
          f"{rows['nuaa_train']['roc_auc']:.3f}")
    print("     ", " ".join(f"{k[:5]}:{100 * r['acer']:.1f}" for k, r in rows.items()))


def main():
    if sys.argv[1] == "nested":
        return nested([float(g) for g in sys.argv[2].split(",")],
                      [float(r) for r in sys.argv[3].split(",")],
                      sys.argv[4] if len(sys.argv) > 4 else "mean")
    gammas = [float(g) for g in sys.argv[1].split(",")]
    ridges = [float(v) for v in sys.argv[2].split(",")]
    which = sys.argv[3] if len(sys.argv) > 3 else "mean"
    c, X = base()
    logit = stock_logits(c.rows, which)
    tr = np.flatnonzero(c.trainable)
    fa = np.flatnonzero(c.subset == "faces")
    x, live, source = X[tr], c.live[tr], c.source[tr]
    reg = np.load(os.path.join(OUT, "registry.npz"))
    with open(os.path.join(REGISTRY, "crops", "index.tsv"), newline="") as f:
        rlogit = stock_logits(list(csv.DictReader(f, delimiter="\t")), which)
    for l2 in ridges:
        for g in gammas:
            off = g * logit[tr]
            full, beta = fit(x, live, source, l2, off)
            oof = loso(x, live, source, l2, off, beta)
            rows, pooled = loso_table(oof, live, source)
            thr = balanced_threshold(oof, live, source)
            worst = max((r["acer"], k) for k, r in rows.items())
            faces = score(full, X[fa], g * logit[fa])
            rs = score(full, reg["x"], g * rlogit)
            held = ", ".join(f"{k.split(':')[1]} {np.sum(rs[reg['source'] == k] < thr)}/"
                             f"{np.sum(reg['source'] == k)}" for k in np.unique(reg["source"]))
            print(f"{which} γ={g:g} ridge {l2:g}: ACER {100 * pooled['acer']:.2f} AUC "
                  f"{pooled['roc_auc']:.3f} worst {100 * worst[0]:.1f} ({worst[1][:10]}) nuaa "
                  f"{rows['nuaa_train']['roc_auc']:.3f} faces {np.sum(faces < thr)}/{len(fa)} thr "
                  f"{thr:.3f} | registry: {held}", flush=True)


if __name__ == "__main__":
    main()
