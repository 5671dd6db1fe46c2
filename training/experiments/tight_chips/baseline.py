"""Sanity check: the shipped layer (ridge 1000, no extras) on the cached features."""
from common import *

c, X = base()
tr = np.flatnonzero(c.trainable); fa = np.flatnonzero(c.subset == "faces")
for l2 in [float(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "1000").split(",")]:
    r = evaluate(X[tr], c.live[tr], c.source[tr], X[fa], l2)
    print(fmt(r, f"shipped, ridge {l2:g}"), flush=True)
