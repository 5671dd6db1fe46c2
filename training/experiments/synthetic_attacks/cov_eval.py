import os
from common import *
c = load()
X = np.load(os.path.join(OUT, 'emb_all.npy'))
def eff(i, s):
    r = c.rows[i]; W, H = float(r['image_w']), float(r['image_h']); bw, bh = float(r['face_w']), float(r['face_h'])
    return max(min(s, (H-1)/bh, (W-1)/bw), 0)
E = np.array([[eff(i, 2.7), eff(i, 4.0)] for i in range(len(c.rows))])
np.save(os.path.join(OUT, 'eff.npy'), E)
tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == 'faces')
live, source = c.live[tr], c.source[tr]
for s in np.unique(source):
    m = source == s
    print(f"{s[:30]:<30} eff27 med {np.median(E[tr][m,0]):.2f} eff40 med {np.median(E[tr][m,1]):.2f} frac40<2 {np.mean(E[tr][m,1]<2):.2f}")
print('faces eff40 med', np.median(E[fa,1]), np.mean(E[fa,1]<2))
def run(F, label, l2=3.0):
    x = F[tr]
    def fit_fn(mask): return T.fit(x[mask], live[mask], source[mask], l2)
    def score_fn(m, held): return m.score(x[held]) if held is not None else m.score(F[fa])
    r = evaluate(fit_fn, score_fn, x, live, source, xf=lambda: None)
    print(fmt(r, label)); return r
cov1 = np.log(E / np.array([2.7, 4.0]))
run(X, 'baseline')
run(np.hstack([X, cov1]), '+log eff scale')
run(np.hstack([X, cov1, (E[:,1:]<2.0)*1.0]), '+log eff +tight flag')
# interactions: features times tightness
t = (E[:,1:] < 2.0) * 1.0
run(np.hstack([X, cov1, X * t]), '+interaction tight', l2=10)
