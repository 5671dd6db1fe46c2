"""Fits, feature transforms, threshold rules and the LOSO protocol of the group-fit grid."""
from common import *  # noqa: F401,F403
from common import BLOCKS, FEATURES, T, balanced_threshold, cols, loso_table, np

# ---------------------------------------------------------------- feature transforms
# Each maps N×1024 (export.TAPS of both networks) to N×D with elementwise / per-image
# operations only (Log, Div, Sub, ReduceMean, Sqrt), so an ONNX graph can compute it.


def _per_net(x, fn):
    """Apply fn(block dict of one network) → list of arrays, to both networks, concatenate."""
    out = []
    for k in range(2):
        v = x[:, k * FEATURES:(k + 1) * FEATURES]
        out.append(np.concatenate(fn({b: v[:, a:e] for b, (a, e) in BLOCKS.items()}), 1))
    return np.concatenate(out, 1)


def transform(x, name):
    if name == "none":
        return x
    if name == "logstd":      # log of the per-channel spread: a contrast gain becomes an offset
        return _per_net(x, lambda d: [d["emb"], d["s2m"], np.log(d["s2s"]), d["s3m"], np.log(d["s3s"])])
    if name == "cv":          # spread over root-mean-square (mean ≈ 0, so std/|mean| is unusable)
        f = lambda m, s: s / np.sqrt(m * m + s * s)  # noqa: E731
        return _per_net(x, lambda d: [d["emb"], d["s2m"], f(d["s2m"], d["s2s"]), d["s3m"],
                                      f(d["s3m"], d["s3s"])])
    if name == "stdnorm":     # each std block divided by its own per-image mean over channels
        g = lambda s: s / s.mean(1, keepdims=True)  # noqa: E731
        return _per_net(x, lambda d: [d["emb"], d["s2m"], g(d["s2s"]), d["s3m"], g(d["s3s"])])
    if name == "stdnorm+lvl":  # the same, plus the log of each block's level (one value)
        g = lambda s: [s / s.mean(1, keepdims=True), np.log(s.mean(1, keepdims=True))]  # noqa: E731
        return _per_net(x, lambda d: [d["emb"], d["s2m"], *g(d["s2s"]), d["s3m"], *g(d["s3s"])])
    if name == "logstdnorm":  # log std minus its per-image mean over channels
        g = lambda s: np.log(s) - np.log(s).mean(1, keepdims=True)  # noqa: E731
        return _per_net(x, lambda d: [d["emb"], d["s2m"], g(d["s2s"]), d["s3m"], g(d["s3s"])])
    if name == "blocknorm":   # every tap block (mean and std too) divided by the image's std level
        def g(d):
            l2, l3 = d["s2s"].mean(1, keepdims=True), d["s3s"].mean(1, keepdims=True)
            return [d["emb"], d["s2m"] / l2, d["s2s"] / l2, d["s3m"] / l3, d["s3s"] / l3]
        return _per_net(x, g)
    if name == "meannorm":    # mean blocks centred and scaled per image, std blocks per image
        def g(d):
            z = lambda m: (m - m.mean(1, keepdims=True)) / m.std(1, keepdims=True)  # noqa: E731
            n = lambda s: s / s.mean(1, keepdims=True)  # noqa: E731
            return [d["emb"], z(d["s2m"]), n(d["s2s"]), z(d["s3m"]), n(d["s3s"])]
        return _per_net(x, g)
    if name == "logstd+raw":  # both the std and its log
        return np.concatenate([x, transform(x, "logstd")[:, _std_cols()]], 1)
    raise ValueError(name)


def _std_cols():
    return np.sort(np.r_[cols("s2s"), cols("s3s")])

# ---------------------------------------------------------------- fits


def groups_of(live, source, kind="sc"):
    """Group index per sample and each sample's weight within its group (summing to 1 per
    group): 'sc' (source, class), every sample of a group alike; 's' source, live and attack
    half each (as train.sample_weights); 'sraw' source, every sample alike."""
    keys = [f"{s}|{int(l)}" if kind == "sc" else s for s, l in zip(source, live)]
    u, g = np.unique(keys, return_inverse=True)
    v = np.zeros(len(g))
    for k in range(len(u)):
        m = g == k
        if kind == "s":
            cls = [c for c in (True, False) if (m & (live == c)).any()]
            for c in cls:
                mc = m & (live == c)
                v[mc] = 1.0 / (len(cls) * mc.sum())
        else:
            v[m] = 1.0 / m.sum()
    return g, len(u), v


def fit(x, live, source, l2, pool=None, tau=None, gkind="sc", start=None, iterations=30):
    """train.fit (tau None) or its group-robust version: minimise N·τ·log mean_g exp(L_g/τ) +
    ½·l2·|w|², L_g the mean logistic loss of group g ((source, class) or source) — a soft
    maximum of the group losses; τ → ∞ is train.fit's source-balanced sum. Exact Newton
    (the soft maximum of convex losses is convex), step halving on the objective.
    Returns (Head, beta in standardised space, final group weights q)."""
    s = x if pool is None or not len(pool) else np.concatenate([x, pool])
    mu, sd = s.mean(0), s.std(0) + 1e-6
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    y = live.astype(float)
    g, G, v = groups_of(live, source, gkind)
    N = len(x)
    reg = l2 * np.r_[np.ones(z.shape[1] - 1), 0.0]
    onehot = np.zeros((N, G)); onehot[np.arange(N), g] = 1.0

    def objective(beta):
        t = z @ beta
        li = np.logaddexp(0, t) - y * t
        L = np.bincount(g, v * li, G)
        if tau is None:
            F = N * L.mean(); q = np.full(G, 1.0 / G)
        else:
            a = L / tau; m = a.max()
            F = N * tau * (m + np.log(np.mean(np.exp(a - m))))
            q = np.exp(a - m); q /= q.sum()
        return F + 0.5 * np.sum(reg * beta * beta), q, t

    beta = np.zeros(z.shape[1]) if start is None else start.copy()
    F, q, t = objective(beta)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-t))
        wi = N * q[g] * v                       # per-sample weight
        grad = z.T @ (wi * (p - y)) + reg * beta
        hess = (z * (wi * p * (1 - p))[:, None]).T @ z + np.diag(reg)
        if tau is not None:
            gg = (z * ((p - y) * v)[:, None]).T @ onehot      # d × G group gradients
            gbar = gg @ q
            hess += N / tau * ((gg * q) @ gg.T - np.outer(gbar, gbar))
        step = np.linalg.solve(hess, grad)
        lr = 1.0
        while True:
            nb = beta - lr * step
            nF, nq, nt = objective(nb)
            if nF <= F + 1e-9 or lr < 1e-3:
                break
            lr /= 2
        done = abs(F - nF) < 1e-7 * max(1.0, abs(F))
        beta, F, q, t = nb, nF, nq, nt
        if done:
            break
    return T.Head.from_standardised(beta[:-1], beta[-1], mu, sd), beta, q


def bagged(x, live, source, l2, pool, pool_source, bags, drop, seed, **kw):
    """Mean of layers (their w and b: one linear layer) each fitted without `drop` random
    sources (their chips dropped too)."""
    rng = np.random.default_rng(seed)
    src = np.unique(source)
    ws, bs = [], []
    for _ in range(bags):
        out = rng.choice(src, drop, replace=False)
        m, pm = ~np.isin(source, out), ~np.isin(pool_source, out)
        h = fit(x[m], live[m], source[m], l2, pool[pm], **kw)[0]
        ws.append(h.w); bs.append(h.b)
    return T.Head(np.mean(ws, 0), np.mean(bs)), None

# ---------------------------------------------------------------- thresholds


def source_curves(scores, live, groups):
    """Candidate thresholds (every score, 0 and 1, ascending, as metrics.balanced_threshold)
    and each source's APCER and BPCER at each: (cands, S×C, S×C), NaN where a class is absent."""
    cands = np.unique(np.concatenate([scores, [0.0, 1.0]]))
    ap, bp = [], []
    for g in np.unique(groups):
        m = groups == g
        b, a = np.sort(scores[m & live]), np.sort(scores[m & ~live])
        ap.append(1 - np.searchsorted(a, cands, "left") / len(a) if len(a) else np.full(len(cands), np.nan))
        bp.append(np.searchsorted(b, cands, "left") / len(b) if len(b) else np.full(len(cands), np.nan))
    return cands, np.array(ap), np.array(bp)


def make_threshold(rule):
    """rule 'balanced' (train.py: the mean over sources of APCER and BPCER), 'worst' (minimise
    the largest per-source ACER, ties broken by the balanced ACER), 'topK' (the mean of the K
    largest per-source ACERs), 'qQ' (their Q-quantile). Vectorised; 'balanced' picks the same
    threshold as metrics.balanced_threshold (the first minimum)."""
    def thr(scores, live, groups):
        scores, live, groups = map(np.asarray, (scores, live, groups))
        cands, ap, bp = source_curves(scores, live, groups)
        bal = (np.nanmean(ap, 0) + np.nanmean(bp, 0)) / 2
        acer = np.where(np.isnan(ap), bp, np.where(np.isnan(bp), ap, (ap + bp) / 2))
        if rule == "balanced":
            key = bal
        else:
            srt = -np.sort(-acer, 0)
            if rule == "worst":
                primary = srt[0]
            elif rule.startswith("top"):
                primary = srt[:int(rule[3:])].mean(0)
            else:
                primary = np.quantile(acer, float(rule[1:]), axis=0)
            key = primary + 1e-6 * bal
        return float(cands[np.flatnonzero(key <= key.min() + 1e-12)[0]])
    return thr


def loso_rows(oof, live, source, thr_fn):
    """metrics.loso_table with another threshold rule."""
    return loso_table(oof, live, source, choose=thr_fn)


# ---------------------------------------------------------------- protocol


def evaluate(x, live, source, xf, pool, pool_source, fitter, thr_rules=("balanced",)):
    """LOSO as train.py: fitter(x, live, source, pool, pool_source, start) → (Head, beta); the
    folds' Newton starts from the full fit's solution and runs to convergence (same optimum).
    One result per threshold rule."""
    full, beta = fitter(x, live, source, pool, pool_source, None)
    fs = full.score(xf)
    oof = np.zeros(len(live))
    for s in np.unique(source):
        h = source == s
        oof[h] = fitter(x[~h], live[~h], source[~h], pool[pool_source != s],
                        pool_source[pool_source != s], beta)[0].score(x[h])
    res = {}
    for rule in thr_rules:
        fn = make_threshold(rule)
        rows, pooled = loso_rows(oof, live, source, fn)
        thr = fn(oof, live, source)
        worst = max((r["acer"], k) for k, r in rows.items())
        res[rule] = dict(acer=pooled["acer"], auc=pooled["roc_auc"], worst=worst,
                         nuaa=rows["nuaa_train"]["roc_auc"], thr=thr,
                         faces=float(np.mean(fs < thr)), rows=rows, oof=oof, faces_scores=fs)
    return res


def fmt(r, label):
    per = " ".join(f"{k[:4]}:{100 * v['acer']:.0f}" for k, v in r["rows"].items())
    return (f"{label:<40} ACER {100 * r['acer']:5.2f} AUC {r['auc']:.3f} worst {100 * r['worst'][0]:4.1f}"
            f" ({r['worst'][1][:6]}) nuaa {r['nuaa']:.3f} faces {100 * r['faces']:4.1f} thr {r['thr']:.3f}"
            f"\n      {per}")
