"""A small non-linear head over the shipped layer's 1,024 taps, judged leave-one-source-out as
`../tight_chips/` judges the linear layer (real-crop standardisation; not part of train.sh).

    f(z) = w·z + b + Σ_j v_j tanh(u_j·z + c_j),   z the standardised taps

Fitted on the same source- and class-balanced logistic loss, ridge `l2` on w (the shipped
layer's ridge, as `train.newton` applies it) and `nl2` on u and v, by L-BFGS from the ridge
solution (w, b), small random u and v = 0. HIDDEN 0 is the shipped layer; `--no-linear` drops w
(a plain one-hidden-layer network).

    python mlp.py HIDDEN[,…] NL2[,…] [L2] [--no-linear]
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tight_chips"))
from common import T, base, judge  # noqa: E402

jax.config.update("jax_enable_x64", True)


class Mlp:
    def __init__(self, params, mu, sd):
        self.p, self.mu, self.sd = params, mu, sd

    def logit(self, x):
        w, b, u, c, v = self.p
        z = (x - self.mu) / self.sd
        return z @ w + b + np.tanh(z @ u + c) @ v

    def score(self, x):
        return 1.0 / (1.0 + np.exp(-self.logit(x)))


def fit_mlp(x, live, source, hidden, nl2, l2, linear=True, seed=0):
    mu, sd = T.standardisation(x)
    z = (x - mu) / sd
    y = live.astype(float)
    wt = T.sample_weights(live, source)
    beta = T.newton(np.hstack([z, np.ones((len(z), 1))]), y, wt, l2)
    d = z.shape[1]
    rng = np.random.default_rng(seed)
    shapes = [(d,), (), (d, hidden), (hidden,), (hidden,)]
    init = [beta[:-1] if linear else np.zeros(d), beta[-1],
            rng.normal(0, 1 / np.sqrt(d), (d, hidden)), np.zeros(hidden), np.zeros(hidden)]
    sizes = [int(np.prod(s)) for s in shapes]
    zj, yj, wj = jnp.asarray(z), jnp.asarray(y), jnp.asarray(wt)

    def unpack(theta):
        out, i = [], 0
        for s, n in zip(shapes, sizes):
            out.append(theta[i:i + n].reshape(s))
            i += n
        return out

    def loss(theta):
        w, b, u, c, v = unpack(theta)
        if not linear:
            w = jnp.zeros_like(w)
        f = zj @ w + b + jnp.tanh(zj @ u + c) @ v
        nll = jnp.sum(wj * (jnp.logaddexp(0.0, f) - yj * f))
        # Half-squared norms, as `train.newton` penalises (its ridge 1000 is this l2 1000).
        return nll + 0.5 * l2 * jnp.sum(w ** 2) + 0.5 * nl2 * (jnp.sum(u ** 2) + jnp.sum(v ** 2))

    vg = jax.jit(jax.value_and_grad(loss))
    theta0 = np.concatenate([np.ravel(p) for p in init])
    res = minimize(lambda t: tuple(np.asarray(a, dtype=np.float64) for a in vg(t)), theta0,
                   jac=True, method="L-BFGS-B", options=dict(maxiter=400))
    p = [np.asarray(a) for a in unpack(res.x)]
    if not linear:
        p[0] = np.zeros(d)
    return Mlp(p, mu, sd)


def main():
    hiddens = [int(v) for v in sys.argv[1].split(",")]
    nl2s = [float(v) for v in sys.argv[2].split(",")]
    l2 = float(sys.argv[3]) if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else 1000.0
    linear = "--no-linear" not in sys.argv
    c, X = base()
    for h in hiddens:
        for nl2 in nl2s:
            judge(c, X, lambda x, live, source: fit_mlp(x, live, source, h, nl2, l2, linear),
                  f"hidden {h} nl2 {nl2:g} l2 {l2:g}{'' if linear else ' no-lin'}")

if __name__ == "__main__":
    main()
