"""LOSO grid: the shipped layer's taps plus the native-resolution patch taps of
`features.py`, used only where the face is at least GATE pixels wide (issue #10; not part of
train.sh).

    python grid.py NATIVE_TRAIN.npz NATIVE_REGISTRY.npz GATES COMBOS RIDGES
    python grid.py $T/native_train.npz $T/native_registry.npz 0,200 "base+nv2*0.5+nv1se*0.5" 1000
    python grid.py $T/native_train.npz $T/native_registry.npz 200 "base+logfw*20" 1000   # control

Below the gate a patch holds more than the face, and what it holds then is the face's size
rather than its surface, whose direction differs from source to source (in
`AksultanMukhanbet` the attacks are the small faces, in `jtboing` the big ones). There the
native block takes a constant: the median of the gated training rows of the fold, so that
gated and ungated faces get the same contribution on average. Protocol as `train.py` and
`../fr_taps/grid.py` (each source scored by the layer fitted without it, operating point the
source-balanced ACER minimum of those scores, real-crop standardisation); `faces/` and the
registry live faces of `../registry_live/` (never trained on) are scored by the layer fitted
on everything, at that operating point.
"""
import csv
import importlib.util
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from data import Crops  # noqa: E402
from metrics import balanced_threshold, grid_line, loso_table  # noqa: E402

spec = importlib.util.spec_from_file_location("fr_grid", os.path.join(HERE, "..", "fr_taps",
                                                                       "grid.py"))
fr_grid = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fr_grid)  # `design`, `fit`

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
REGISTRY = os.environ.get("LIVEGATE_REGISTRY", "/var/cache/livegate/exp-reg2")
CACHE = os.path.join(TARGET, "exp-tight")
# blocks held constant below the gate; `logfw` (the face box's log width) is the control: how
# much of a gated block's gain the face's size alone brings
NATIVE = ("nv2", "nv1se", "logfw")


def face_widths(crops_dir):
    with open(os.path.join(crops_dir, "index.tsv"), newline="") as f:
        return np.array([float(r["face_w"]) for r in csv.DictReader(f, delimiter="\t")])


def gated(blocks, big, fill):
    """`blocks` with every native block held at `fill[block]` where not `big`."""
    out = dict(blocks)
    for k, v in fill.items():
        out[k] = np.where(big[:, None], blocks[k], v)
    return out


def medians(f, rows):
    """The constant each native block takes below the gate: its median over `rows`."""
    return {k: np.median(f[k][rows], 0) for k in NATIVE if k in f}


class Setup:
    """The training crops' and the registry faces' blocks, face widths and labels."""

    def __init__(self, native_train, native_registry):
        self.c = Crops(os.path.join(TARGET, "exp-fr", "crops"), scales=(27,))
        self.f = dict(np.load(os.path.join(CACHE, "cand_train.npz")), **np.load(native_train))
        self.g = dict(np.load(os.path.join(CACHE, "cand_registry.npz")),
                      **np.load(native_registry))
        self.fw = np.array([float(r["face_w"]) for r in self.c.rows])
        self.rfw = face_widths(os.path.join(REGISTRY, "crops128"))
        self.f["logfw"], self.g["logfw"] = np.log(self.fw)[:, None], np.log(self.rfw)[:, None]
        self.idx = np.flatnonzero(self.c.trainable)
        self.faces = np.flatnonzero(self.c.subset == "faces")
        self.live, self.source = self.c.live[self.idx], self.c.source[self.idx]

    def evaluate(self, gate, combo, l2):
        """Out-of-fold scores of the trainable rows, and the layer fitted on all of them on
        `faces/` and on the registry faces."""
        f, g, idx, live, source = self.f, self.g, self.idx, self.live, self.source
        big, rbig = self.fw >= gate, self.rfw >= gate
        everything = np.zeros(len(self.fw), bool)
        everything[idx] = True
        fill = medians(f, big & everything)
        X, weight = fr_grid.design(gated(f, big, fill), combo)
        full, beta = fr_grid.fit(X[idx], live, source, l2, weight)
        oof = np.zeros(len(idx))
        for s in np.unique(source):
            h = source == s
            rows = everything.copy()
            rows[idx[h]] = False
            Xs, _ = fr_grid.design(gated(f, big, medians(f, big & rows)), combo)
            layer = fr_grid.fit(Xs[idx][~h], live[~h], source[~h], l2, weight, beta, 5)[0]
            oof[h] = layer.score(Xs[idx][h])
        R, _ = fr_grid.design(gated(g, rbig, fill), combo)
        return oof, full.score(X[self.faces]), full.score(R)


def main():
    native_train, native_registry, gates, combos, ridges = sys.argv[1:6]
    d = Setup(native_train, native_registry)
    live, source, rsrc = d.live, d.source, d.g["source"]
    verbose = os.environ.get("VERBOSE") == "1"
    for gate in (float(v) for v in gates.split(",")):
        for combo in combos.split(","):
            for l2 in (float(v) for v in ridges.split(",")):
                oof, fs, rs = d.evaluate(gate, combo, l2)
                thr = balanced_threshold(oof, live, source)
                held = ", ".join(f"{k.split(':')[1]} {np.sum(rs[rsrc == k] < thr)}/"
                                 f"{np.sum(rsrc == k)}" for k in np.unique(rsrc))
                print(grid_line(f"gate {gate:<4g} {combo:<24} ridge {l2:<5g}", oof, live, source,
                                fs)
                      + f" | registry {np.sum(rs < thr)}/{len(rs)}: {held}", flush=True)
                if verbose:
                    rows_, _ = loso_table(oof, live, source)
                    print("     ", " ".join(f"{k[:5]}:{100 * r['acer']:.1f}"
                                            for k, r in rows_.items()))


if __name__ == "__main__":
    main()
