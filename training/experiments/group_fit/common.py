"""Shared by the group-fit experiments (issue #10; not part of train.sh or CI).

Features are exactly the shipped layer's inputs (`export.TAPS` of both networks, 1,024 values per
crop), cached; the chip re-cuts (`training/chips.py`) of every trainable still are cached per
seed. The reference fit is `train.fit` (source-balanced weighted logistic regression, ridge 1000,
standardised over the real crops + chips). LOSO as `train.py`: each source scored by the layer
fitted without it (and without its chips), its threshold chosen on the other sources' out-of-fold
scores; `faces/` scored by the layer fitted on everything at the out-of-fold operating point.
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

import train as T  # noqa: E402
from chips import chip_crops  # noqa: E402
from data import Crops  # noqa: E402
from export import FEATURES  # noqa: E402
from metrics import balanced_threshold, loso_table  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
CROPS = os.environ.get("LIVEGATE_CROPS", os.path.join(TARGET, "training", "crops"))
OUT = os.environ.get("LIVEGATE_EXP_DIR", os.path.join(TARGET, "exp-group-fit"))
os.makedirs(OUT, exist_ok=True)
TD = os.environ.get("LIVEGATE_TESTDATA",
                    os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata"))

# Column blocks of one network's 512 features (export.TAPS order).
BLOCKS = {"emb": (0, 128), "s2m": (128, 192), "s2s": (192, 256), "s3m": (256, 384),
          "s3s": (384, 512)}


def cols(block):
    """Columns of `block` in both networks' 1,024 features."""
    a, b = BLOCKS[block]
    return np.r_[np.arange(a, b), FEATURES + np.arange(a, b)]


def load():
    """(crops, features of every crop) — cached as base.npy."""
    c = Crops(CROPS)
    path = os.path.join(OUT, "base.npy")
    if not os.path.exists(path):
        t = time.time()
        np.save(path, T.features(T.find_models(""), {27: c.by_scale[27], 40: c.by_scale[40]}))
        print(f"features of {len(c.rows)} crops in {time.time() - t:.0f} s", flush=True)
    return c, np.load(path)


def chips(c, seed):
    """Features of the chip re-cut of every trainable still (train.py's pool), cached."""
    path = os.path.join(OUT, f"chips_{seed}.npy")
    if not os.path.exists(path):
        t = time.time()
        idx = np.flatnonzero(c.trainable)
        c27, c40 = chip_crops(c.rows, idx, TD, seed)
        np.save(path, T.features(T.find_models(""), {27: c27, 40: c40}))
        print(f"chips seed {seed} in {time.time() - t:.0f} s", flush=True)
    return np.load(path)
