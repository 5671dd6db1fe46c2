import os
import sys
from common import *
from export import Head
c = load()
X = np.load(os.path.join(OUT, 'emb_all.npy'))
tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == 'faces')
x, live, source = X[tr], c.live[tr], c.source[tr]
files = sys.argv[1].split(',')
S = [np.load(f) for f in files]

def fit_w(xa, ya, wa, l2):
    mu, sd = xa.mean(0), xa.std(0) + 1e-6
    beta = fit_lr((xa - mu) / sd, ya.astype(float), wa / wa.mean(), l2)
    return Head.from_standardised(beta[:-1], beta[-1], mu, sd)

def make(sz, kinds, alpha, live_alpha=0.0, l2=3.0):
    sx = sz['x']; sp = c.source[sz['parent']]; sk = sz['kind']
    keep = np.isin(sk, kinds); sxa, spa = sx[keep], sp[keep]
    lk = sk == 'liveaug'; lxa, lpa = sx[lk], sp[lk]
    def fit_fn(mask):
        w = T.sample_weights(live[mask], source[mask])
        w = w * len(w) / w.sum()  # each (source,class) group total = n/(2*nsrc)... keep as is
        grp = w[(source[mask] == source[mask][0]) & (live[mask] == live[mask][0])].sum()  # one group's total
        srcs = np.unique(source[mask])
        m2 = np.isin(spa, srcs)
        ws = np.zeros(m2.sum())
        for s in srcs:
            q = spa[m2] == s
            if q.any(): ws[q] = alpha * grp / q.sum()
        parts_x = [x[mask], sxa[m2]]; parts_y = [live[mask], np.zeros(m2.sum(), bool)]; parts_w = [w, ws]
        if live_alpha > 0:
            m3 = np.isin(lpa, srcs); wl = np.zeros(m3.sum())
            for s in srcs:
                q = lpa[m3] == s
                if q.any(): wl[q] = live_alpha * grp / q.sum()
            parts_x.append(lxa[m3]); parts_y.append(np.ones(m3.sum(), bool)); parts_w.append(wl)
        return fit_w(np.concatenate(parts_x), np.concatenate(parts_y), np.concatenate(parts_w), l2)
    def score_fn(m, held): return m.score(x[held]) if held is not None else m.score(X[fa])
    return fit_fn, score_fn

if __name__ == '__main__':
    configs = eval(sys.argv[2])
    for kinds, alpha, la, l2 in configs:
        res = []
        for sz in S:
            f, s = make(sz, kinds, alpha, la, l2)
            r = evaluate(f, s, x, live, source, xf=lambda: None)
            res.append(r)
            print(fmt(r, f"{'+'.join(kinds)} a={alpha} la={la} l2={l2}"), flush=True)
        if len(res) > 1:
            print(f"  MEAN ACER {100*np.mean([r['acer'] for r in res]):.1f} AUC {np.mean([r['auc'] for r in res]):.3f} worst {100*np.mean([r['worst'][0] for r in res]):.1f} faces {100*np.mean([r['faces_bpcer'] for r in res]):.1f}")
