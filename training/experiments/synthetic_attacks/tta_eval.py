from common import *
c = load()
X = np.load(os.path.join(OUT, 'emb_all.npy'))
import os
if not os.path.exists(os.path.join(OUT, 'emb_flip.npy')):
    Xf = embed_pair(c.by_scale[27][:, :, ::-1], c.by_scale[40][:, :, ::-1]); np.save(os.path.join(OUT, 'emb_flip.npy'), Xf)
Xf = np.load(os.path.join(OUT, 'emb_flip.npy'))
tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == 'faces')
live, source = c.live[tr], c.source[tr]
def logit(p): return np.log(p) - np.log1p(-p)
def sig(z): return 1/(1+np.exp(-z))
for mode in ('tta', 'avgemb', 'train_both+tta'):
    def fit_fn(mask):
        if mode == 'train_both+tta':
            return T.fit(np.vstack([X[tr][mask], Xf[tr][mask]]), np.r_[live[mask], live[mask]], np.r_[source[mask], source[mask]], 3.0)
        if mode == 'avgemb':
            return T.fit((X[tr][mask] + Xf[tr][mask]) / 2, live[mask], source[mask], 3.0)
        return T.fit(X[tr][mask], live[mask], source[mask], 3.0)
    def score_fn(m, held):
        ids = tr[held] if held is not None else fa
        if mode == 'avgemb': return m.score((X[ids] + Xf[ids]) / 2)
        return sig((logit(m.score(X[ids])) + logit(m.score(Xf[ids]))) / 2)
    print(fmt(evaluate(fit_fn, score_fn, X[tr], live, source, xf=lambda: None), mode), flush=True)
# per crop type threshold (tight vs context), using baseline oof
E = np.load(os.path.join(OUT, 'eff.npy')); tight = E[:, 1] < 2.0
def fit_fn(mask): return T.fit(X[tr][mask], live[mask], source[mask], 3.0)
oof = np.zeros(len(tr))
for s in np.unique(source):
    h = source == s; oof[h] = fit_fn(~h).score(X[tr][h])
# for each held-out source: threshold per crop type chosen on other sources of that type
dec = np.zeros(len(tr), bool); rows = {}
tt = tight[tr]
for s in np.unique(source):
    h = source == s
    for typ in (True, False):
        m = (~h) & (tt == typ); q = h & (tt == typ)
        if not q.any(): continue
        t = balanced_threshold(oof[m], live[m], source[m]) if m.any() else 0.5
        dec[q] = oof[q] >= t
    a = np.mean(dec[h & ~live]); b = np.mean(~dec[h & live]); rows[s] = (a + b) / 2
ap = np.mean(dec[~live]); bp = np.mean(~dec[live])
print('per-crop-type thr: pooled ACER', round(100*(ap+bp)/2, 1), {k[:6]: round(100*v) for k, v in rows.items()})
m = tt
tf = balanced_threshold(oof[tt], live[tt], source[tt]); print('tight thr (all tight)', tf, 'faces tight frac', tight[fa].mean())
fm = fit_fn(np.ones(len(tr), bool)).score(X[fa]); tc = balanced_threshold(oof[~tt], live[~tt], source[~tt])
print('faces BPCER per-type', np.mean(np.where(tight[fa], fm < tf, fm < tc)), tc)
