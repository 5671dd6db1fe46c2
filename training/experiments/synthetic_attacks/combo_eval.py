import os
import sys
from common import *
from export import Head
c = load()
X = np.load(os.path.join(OUT, 'emb_all.npy'))
tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == 'faces')
x, live, source = X[tr], c.live[tr], c.source[tr]

def fit_w(xa, ya, wa, l2):
    mu, sd = xa.mean(0), xa.std(0) + 1e-6
    beta = fit_lr((xa - mu) / sd, ya.astype(float), wa / wa.mean(), l2)
    return Head.from_standardised(beta[:-1], beta[-1], mu, sd)

def extras(tight=None, synth=None, kinds=('framed',), alpha=1.0, beta=1.0):
    """list of (x, src, label, alpha)"""
    out = []
    if tight is not None:
        p = tight['parent']
        for lab in (True, False):
            m = c.live[p] == lab
            out.append((tight['x'][m], c.source[p][m], lab, beta))
    if synth is not None:
        m = np.isin(synth['kind'], kinds)
        out.append((synth['x'][m], c.source[synth['parent']][m], False, alpha))
    return out

def make(ex, l2=3.0):
    def fit_fn(mask):
        w = T.sample_weights(live[mask], source[mask])
        grp = w[(source[mask] == source[mask][0]) & (live[mask] == live[mask][0])].sum()
        srcs = np.unique(source[mask])
        px, py, pw = [x[mask]], [live[mask]], [w]
        for ex_x, ex_s, lab, a in ex:
            m2 = np.isin(ex_s, srcs); ws = np.zeros(m2.sum())
            for s in srcs:
                q = ex_s[m2] == s
                if q.any(): ws[q] = a * grp / q.sum()
            px.append(ex_x[m2]); py.append(np.full(m2.sum(), lab)); pw.append(ws)
        return fit_w(np.concatenate(px), np.concatenate(py), np.concatenate(pw), l2)
    def score_fn(m, held): return m.score(x[held]) if held is not None else m.score(X[fa])
    return fit_fn, score_fn

def run(label, ex_list, l2=3.0):
    res = []
    for ex in ex_list:
        f, s = make(ex, l2)
        r = evaluate(f, s, x, live, source, xf=lambda: None); res.append(r)
        print(fmt(r, label), flush=True)
    if len(res) > 1:
        print(f"  MEAN {label}: ACER {100*np.mean([r['acer'] for r in res]):.1f} AUC {np.mean([r['auc'] for r in res]):.3f} worst {100*np.mean([r['worst'][0] for r in res]):.1f} nuaa {np.mean([r['nuaa_auc'] for r in res]):.3f} faces {100*np.mean([r['faces_bpcer'] for r in res]):.1f}", flush=True)
    return res

if __name__ == '__main__':
    t0 = np.load(os.path.join(OUT, 'tight_0.npz'))
    s0 = np.load(os.path.join(OUT, 'synth_0_screen-print-recapture-framed.npz')); s1 = np.load(os.path.join(OUT, 'synth_1_screen-print-recapture-framed-liveaug.npz'))
    for b in (0.5, 1.0, 2.0):
        run(f'tight b={b}', [extras(tight=t0, beta=b)])
    run('tight b=1 + framed a=1', [extras(tight=t0, synth=s0, beta=1.0, alpha=1.0), extras(tight=t0, synth=s1, beta=1.0, alpha=1.0)])
