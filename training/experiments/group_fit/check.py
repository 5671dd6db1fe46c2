"""Self-checks of this folder's code against the training code (run before trusting the grid):
fit(tau=None) is train.fit; the vectorised threshold is metrics.balanced_threshold and the LOSO
table is metrics.loso_table on the shipped out-of-fold scores (training/loso.json); the
group-robust fit stops at a stationary point of its objective (written out again here), and a
very large τ gives train.fit's layer."""
import json

from fitlib import *  # noqa: F401,F403
from fitlib import (HERE, T, balanced_threshold, chips, fit, groups_of, load, loso_rows,
                    loso_table, make_threshold, np, os)

c, X = load()
tr = np.flatnonzero(c.trainable)
x, live, source = X[tr], c.live[tr], c.source[tr]
pool = chips(c, 0)

ref = T.fit(x, live, source, 1000.0, pool)
mine = fit(x, live, source, 1000.0, pool)[0]
zr, zm = x @ ref.w + ref.b, x @ mine.w + mine.b
assert np.max(np.abs(zr - zm)) < 1e-6, np.max(np.abs(zr - zm))
big = fit(x, live, source, 1000.0, pool, tau=1e4)[0]
assert np.max(np.abs(x @ big.w + big.b - zr)) < 1e-3

d = json.load(open(os.path.join(HERE, "..", "..", "loso.json")))
if all(c.rows[i]["file"] in d["oof"] for i in tr):
    oof = np.array([d["oof"][c.rows[i]["file"]] for i in tr])
    assert make_threshold("balanced")(oof, live, source) == balanced_threshold(oof, live, source)
    r1, p1 = loso_table(oof, live, source)
    r2, p2 = loso_rows(oof, live, source, make_threshold("balanced"))
    assert p1["acer"] == p2["acer"] and all(r1[k]["acer"] == r2[k]["acer"] for k in r1)
    print(f"shipped OOF scores: pooled ACER {100 * p1['acer']:.2f} % both ways")

for gk, tau in (("sc", 0.3), ("sraw", 0.3), ("s", 1.0)):
    h, beta, q = fit(x, live, source, 1000.0, pool, tau=tau, gkind=gk)
    s = np.concatenate([x, pool]); mu, sd = s.mean(0), s.std(0) + 1e-6
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    g, G, v = groups_of(live, source, gk)

    def objective(b):
        t = z @ b
        L = np.bincount(g, v * (np.logaddexp(0, t) - live * t), G)
        return (len(x) * tau * np.log(np.mean(np.exp(L / tau)))
                + 0.5 * 1000.0 * np.sum(b[:-1] ** 2))
    rng = np.random.default_rng(0)
    f0 = objective(beta)
    for _ in range(5):
        u = rng.normal(size=beta.shape); u /= np.linalg.norm(u)
        slope = (objective(beta + 1e-4 * u) - objective(beta - 1e-4 * u)) / 2e-4
        assert abs(slope) < 1e-2 * max(1.0, abs(f0)) / len(x), slope
    print(f"group-robust fit ({gk}, τ {tau}): stationary; largest group weight {q.max():.3f} of {G}")
print("ok")
