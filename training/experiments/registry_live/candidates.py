"""Earlier candidates that accepted more of `faces/`, checked on the registry live faces too.

    python candidates.py blocks                              # cache the feature blocks (~3 min)
    python candidates.py "base,base+v1se_10,base+fr_emb" 700,1000,1500

`faces/` is 78 stills; a candidate that accepts three more of them may have learnt something
about live faces or about those 78. The registry faces (`fetch.py`, `features.py`) are a
second, independent bona fide check: 80 faces of three other kinds, never trained on here.

Blocks, for the training crops and the registry crops alike: `base` (the shipped layer's 1,024
taps; `base27` / `base40` its halves, V2's and V1SE's), `v1se_10` (V1SE's taps on the
face-only 1.0× crop, `../face_crops/`), `fr_emb` and `fr_s2` (the face-recognition network's
embedding and 28² statistics on the resized face-only crop, `../fr_taps/`),
`bf_s32`/`bf_s16`/`bf_s8` and `mesh_s24`/`mesh_s12`/`mesh_s6` (the face detector's and the
face mesh's statistics on it, `../mediapipe_taps/`). The training crops are those of
`../fr_taps/` (`livegate crops --crops-128` of the whole manifest,
`$CARGO_TARGET_DIR/exp-fr/crops`); the registry crops are re-cut with `--crops-128` into
`<registry>/crops128`. Protocol and block weights ("+fr_emb*0.7") as `../fr_taps/grid.py`; the
registry faces are scored by the layer fitted on everything, at the out-of-fold operating point.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from data import Crops  # noqa: E402
from metrics import balanced_threshold, grid_line  # noqa: E402


def sibling(folder, name):
    """Another experiment's module, by path (several folders have a `features.py`)."""
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}",
                                                  os.path.join(HERE, "..", folder, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


face_crops = sibling("face_crops", "features")  # `views`
fr = sibling("fr_taps", "features")  # the face-recognition network's `session`, `TAPS`
fr_grid = sibling("fr_taps", "grid")  # `design`, `fit`
mediapipe = sibling("mediapipe_taps", "features")  # `mediapipe_features`

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
REGISTRY = os.environ.get("LIVEGATE_REGISTRY", "/var/cache/livegate/exp-reg2")
TRAIN_CROPS = os.path.join(TARGET, "exp-fr", "crops")
CACHE = os.path.join(TARGET, "exp-tight")


def fr_blocks(crops_dir):
    """`fr_emb` and `fr_s2` of `../fr_taps/features.py` on one crops folder."""
    got = fr.fr_features(np.load(os.path.join(crops_dir, "crops_s10_128.npy")))
    return {k: got[k] for k in ("fr_emb", "fr_s2")}


def v1se_10(crops_dir):
    """V1SE's taps on the face-only crop, as `../face_crops/` computes them."""
    got = face_crops.views(crops_dir, [("v1se", 10, "v1se_10")])
    return np.concatenate([got[f"v1se_10_{k}"] for k in ("emb", "s2", "s3")], 1)


def blocks():
    crops128 = os.path.join(REGISTRY, "crops128")
    if not os.path.exists(os.path.join(crops128, "index.tsv")):
        subprocess.run([os.path.join(TARGET, "release", "livegate"), "crops", "--manifest",
                        os.path.join(REGISTRY, "MANIFEST.tsv"), "--root",
                        os.path.join(REGISTRY, "root"), "--out", crops128, "--crops-128"],
                       check=True)
    reg = np.load(os.path.join(CACHE, "registry.npz"))
    face = np.load(os.path.join(crops128, "crops_s10_128.npy"))
    r = dict(base=reg["x"], base27=reg["x"][:, :512], base40=reg["x"][:, 512:],
             v1se_10=v1se_10(crops128), **fr_blocks(crops128),
             **mediapipe.mediapipe_features(face))
    assert len(r["v1se_10"]) == len(reg["x"]), "registry.npz is from other crops"
    fr = np.load(os.path.join(TARGET, "exp-fr", "fr.npz"))
    t = dict(base=fr["base"], base27=fr["base"][:, :512], base40=fr["base"][:, 512:],
             v1se_10=v1se_10(TRAIN_CROPS),
             fr_emb=fr["fr_emb"], fr_s2=fr["fr_s2"],
             **mediapipe.mediapipe_features(np.load(os.path.join(TRAIN_CROPS, "crops_s10_128.npy"))))
    np.savez(os.path.join(CACHE, "cand_train.npz"), **t)
    np.savez(os.path.join(CACHE, "cand_registry.npz"), source=reg["source"], **r)


def main():
    if sys.argv[1] == "blocks":
        return blocks()
    c = Crops(TRAIN_CROPS, scales=(27,))
    f = np.load(os.path.join(CACHE, "cand_train.npz"))
    g = np.load(os.path.join(CACHE, "cand_registry.npz"))
    idx = np.flatnonzero(c.trainable)
    faces = np.flatnonzero(c.subset == "faces")
    live, source = c.live[idx], c.source[idx]
    rsrc, rlive = g["source"], np.ones(len(g["source"]), bool)
    # TRAIN_ON_REGISTRY=1: the registry faces also train every layer (as live-only sources no
    # fold holds out); each registry group is then scored by a layer fitted without it
    with_registry = os.environ.get("TRAIN_ON_REGISTRY") == "1"
    for combo in sys.argv[1].split(","):
        X, weight = fr_grid.design(f, combo)
        R, _ = fr_grid.design(g, combo)
        x = X[idx]

        def fit(mask, l2, keep=None, start=None, iterations=12):
            if not with_registry:
                return fr_grid.fit(x[mask], live[mask], source[mask], l2, weight, start, iterations)
            keep = np.ones(len(R), bool) if keep is None else keep
            return fr_grid.fit(np.concatenate([x[mask], R[keep]]),
                               np.concatenate([live[mask], rlive[keep]]),
                               np.concatenate([source[mask], rsrc[keep]]), l2, weight, start,
                               iterations)

        for l2 in (float(v) for v in sys.argv[2].split(",")):
            everything = np.ones(len(idx), bool)
            full, beta = fit(everything, l2)
            oof = np.zeros(len(idx))
            for s in np.unique(source):
                h = source == s
                oof[h] = fit(~h, l2, None, beta, 5)[0].score(x[h])
            thr = balanced_threshold(oof, live, source)
            rs = full.score(R)
            if with_registry:
                for k in np.unique(rsrc):
                    rs[rsrc == k] = fit(everything, l2, rsrc != k, beta, 5)[0].score(R[rsrc == k])
            held = ", ".join(f"{k.split(':')[1]} {np.sum(rs[rsrc == k] < thr)}/"
                             f"{np.sum(rsrc == k)}" for k in np.unique(rsrc))
            print(grid_line(f"{combo:<28} ridge {l2:<6g}", oof, live, source, full.score(X[faces]))
                  + f" | registry {np.sum(rs < thr)}/{len(rs)}: {held}", flush=True)

if __name__ == "__main__":
    main()
