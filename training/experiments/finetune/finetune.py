"""Fine-tune a stock MiniFASNet end to end on one crop scale, leave-one-source-out (not part of
train.sh; results in README.md here).

    python finetune.py CROPS_DIR NETWORK SCALE OUT_DIR [--epochs 3] [--lr 1e-4] [--fold SOURCE]

For each training source (or only `--fold`), the network is trained on every other source's
crops at `SCALE` (context scale × 10, as `livegate crops` names them) and scores every crop;
`OUT_DIR/SOURCE.npy` holds those live logits, one per row of the crops' index. Batches are drawn
so that each (source, class) pair weighs the same, and every crop is augmented the way a
different camera or a resampled photo would change it (flip, down-and-up resampling, blur, JPEG,
gain, contrast). The optimiser is Adam with a little weight decay, seed fixed.
"""

import argparse
import io
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from data import Crops, to_input  # noqa: E402
from onnx_graph import Graph  # noqa: E402
from train import find_models, sample_weights  # noqa: E402

BATCH = 32


def augment(rgb, rng):
    """One 80×80 RGB crop as another camera, distance or re-encoding might have given it."""
    im = Image.fromarray(rgb)
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < 0.5:
        # A smaller face resampled up: tight, low-resolution sources and dlib-like chips.
        s = int(rng.integers(24, 72))
        im = im.resize((s, s), Image.BILINEAR).resize((80, 80), Image.BILINEAR)
    if rng.random() < 0.2:
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.2))))
    if rng.random() < 0.5:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=int(rng.integers(30, 96)))
        im = Image.open(buf).convert("RGB")
    a = np.asarray(im).astype(np.float32) * rng.uniform(0.9, 1.1, 3) * rng.uniform(0.7, 1.3)
    mean = a.mean()
    return np.clip((a - mean) * rng.uniform(0.8, 1.2) + mean, 0, 255)


def balanced_draw(crops, train):
    """Indices of the training crops and the probability of drawing each: every (source,
    class) pair weighs the same (`train.sample_weights`), so no source's look decides the
    boundary."""
    idx = np.flatnonzero(train)
    w = sample_weights(crops.live[idx], crops.source[idx])
    return idx, w / w.sum()


def train_fold(graph, crops, x, held_out, epochs, lr, seed=7):
    rng = np.random.default_rng(seed)
    idx, prob = balanced_draw(crops, crops.trainable & (crops.source != held_out))
    params = {k: jnp.asarray(v) for k, v in graph.params.items()}

    def logit(p, xb):
        # MiniFASNet's three classes: index 1 is live, 0 and 2 are attack kinds.
        live = jax.nn.log_softmax(graph.apply(p, xb), axis=1)[:, 1]
        return live - jnp.log(-jnp.expm1(live) + 1e-7)

    def loss(p, xb, yb):
        z = logit(p, xb)
        return jnp.mean(jax.nn.softplus(-z) * yb + jax.nn.softplus(z) * (1 - yb))

    grad = jax.jit(jax.value_and_grad(loss))

    @jax.jit
    def adam(p, g, m, v, t):
        b1, b2 = 0.9, 0.999
        m = jax.tree.map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree.map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        step = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        p = jax.tree.map(lambda q, a, b: q - step * a / (jnp.sqrt(b) + 1e-8) - lr * 1e-4 * q,
                         p, m, v)
        return p, m, v

    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)
    steps = int(epochs * len(idx)) // BATCH
    started, running = time.time(), None
    for t in range(1, steps + 1):
        pick = rng.choice(idx, BATCH, p=prob)
        xb = to_input(np.stack([augment(x[i], rng) for i in pick]))
        yb = crops.live[pick].astype(np.float32)
        value, g = grad(params, jnp.asarray(xb), jnp.asarray(yb))
        params, m, v = adam(params, g, m, v, t)
        running = float(value) if running is None else 0.98 * running + 0.02 * float(value)
        if t % 100 == 0:
            print(f"{held_out}: step {t}/{steps}, loss {running:.3f}, "
                  f"{time.time() - started:.0f} s", flush=True)
    score = jax.jit(logit)
    return np.concatenate([np.asarray(score(params, jnp.asarray(to_input(x[i:i + 256]))))
                           for i in range(0, len(x), 256)])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("crops")
    ap.add_argument("network", help="MiniFASNetV2.onnx or MiniFASNetV1SE.onnx")
    ap.add_argument("scale", type=int, help="context scale × 10: 10, 15, 22, 27, 32 or 40")
    ap.add_argument("out")
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--fold", help="only this held-out source")
    a = ap.parse_args()
    crops = Crops(a.crops, scales=(a.scale,))
    x = crops.by_scale[a.scale]
    graph = Graph(os.path.join(find_models(""), a.network))
    os.makedirs(a.out, exist_ok=True)
    folds = [a.fold] if a.fold else sorted(set(crops.source[crops.trainable]))
    for held_out in folds:
        path = os.path.join(a.out, f"{held_out}.npy")
        if os.path.exists(path):
            continue
        np.save(path, train_fold(graph, crops, x, held_out, a.epochs, a.lr))


if __name__ == "__main__":
    main()
