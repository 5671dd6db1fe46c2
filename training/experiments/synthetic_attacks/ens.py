import os
from combo_eval import *
s0 = np.load(os.path.join(OUT, 'synth_0_screen-print-recapture-framed.npz')); s1 = np.load(os.path.join(OUT, 'synth_1_screen-print-recapture-framed-liveaug.npz'))
def lg(p): p = np.clip(p, 1e-9, 1-1e-9); return np.log(p) - np.log1p(-p)
for s in (s0, s1):
    fa_, sa_ = make([]); fb, sb = make(extras(synth=s, kinds=('framed',), alpha=1.0))
    f = lambda m: (fa_(m), fb(m))
    sc = lambda m, h: 1/(1+np.exp(-(lg(sa_(m[0], h)) + lg(sb(m[1], h))) / 2))
    print(fmt(evaluate(f, sc, x, live, source, xf=lambda: None), 'ens base+framed'), flush=True)
