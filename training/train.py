"""Trains Livegate's presentation-attack model and judges it leave-one-source-out.

    python training/train.py --crops CROPS_DIR --out OUT_DIR [--l2 1000] [--testdata DIR]

The model: the two Silent-Face networks (Apache-2.0) as they ship — MiniFASNet V2 on the face
box scaled 2.7×, V1SE on it scaled 4.0× — read as feature extractors (each one's 128-d
embedding before its own classifier, and the per-channel mean and spread of its stage-2 and
stage-3 maps: `export.TAPS`), and one strongly ridged logistic layer over all of them trained
here on the service's own crops (`livegate crops`). Every sample is weighted so that each source
counts the same and, within it, live and attack count the same: a source with many images must
not decide where the others' scores land. Chosen by leave-one-source-out figures over the
embeddings alone, fine-tuning V2's last stage and fusing the stock networks' scores (README
and MODEL_CARD.md). The ridge is strong because the texture statistics are many and each
source's look is in them too: a weak ridge learns the sources, a strong one what they share.
The features are standardised over the real crops together with tight, resampled "chip"
re-cuts of the same stills (`chips.py`, made from the test data's images, both classes, no
weight in the fit): features that move with tightness and resampling are then shrunk harder.

Writes to OUT_DIR:
- `livegate_pad/`: both networks and the layer trained on every trainable source, one graph per
  network (`crop_27.onnx`, `crop_40.onnx`: input N×3×80×80, BGR 0..255; output
  `partial_logits`, N×2, that network's share of the layer; softmax index 1 of the two shares'
  sum is live; `export.py`);
- `folds.json`: for each source, the layer trained without it (`export.py` turns them into fold
  models for `livegate eval --loso-models`);
- `loso.json` + the printed table: out-of-fold scores and per-source figures, with the stock
  networks and the service's previous ensemble judged the same way for reference;
- `threshold.txt`: the operating point chosen on the out-of-fold scores (source-balanced ACER).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chips import chip_crops  # noqa: E402
from data import TRAIN_SUBSETS, Crops, to_input  # noqa: E402
from export import BACKBONES, Head, tap_features, tap_names, write_model  # noqa: E402
from metrics import balanced_threshold, format_table, loso_table  # noqa: E402
from onnx_graph import Graph  # noqa: E402


def parse():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--crops", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--models", default=os.environ.get("LIVEGATE_BASE_MODELS", ""),
                   help="folder with MiniFASNetV2.onnx and MiniFASNetV1SE.onnx "
                        "(default: ../shared/models or the model cache)")
    p.add_argument("--l2", type=float, default=1000.0,
                   help="ridge penalty of the logistic layer (standardised features)")
    p.add_argument("--subsets", default=",".join(TRAIN_SUBSETS),
                   help="comma-separated subsets to train on (each source one LOSO fold)")
    p.add_argument("--no-folds", action="store_true", help="skip leave-one-source-out")
    p.add_argument("--testdata", default=os.environ.get("LIVEGATE_TESTDATA", os.path.join(
                       os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "testdata")),
                   help="the stills the crops were cut from (for the chip re-cuts, `chips.py`)")
    p.add_argument("--seed", type=int, default=0, help="seed of the chip re-cuts")
    p.add_argument("--no-chips", action="store_true",
                   help="standardise over the real crops only (the layer shipped until 2026-11-28)")
    return p.parse_args()


def find_models(arg):
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.environ.get("LIVEGATE_MODEL_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "livegate", "models")
    for d in [arg, os.path.join(here, "..", "..", "shared", "models"), cache]:
        if d and all(os.path.isfile(os.path.join(d, f)) for f, _ in BACKBONES.values()):
            return os.path.abspath(d)
    sys.exit("MiniFASNetV2.onnx / MiniFASNetV1SE.onnx not found; pass --models "
             "(`livegate models fetch --all` puts them in the model cache)")


def embeddings(models_dir, crops, idx):
    """Both networks' features of items `idx` (`export.TAPS`), side by side (N × 2·FEATURES)."""
    return features(models_dir, {scale: crops.by_scale[scale][idx]
                                 for _, scale in BACKBONES.values()})


def features(models_dir, by_scale):
    """Both networks' features of crops {context scale × 10: N×80×80×3 RGB}, side by side."""
    parts = []
    names = tap_names()
    for name, (file, scale) in BACKBONES.items():
        g = Graph(os.path.join(models_dir, file))
        sess = g.session(names)
        x = to_input(by_scale[scale])
        out = [tap_features(zip(names, sess.run(names, {g.input: b})))
               for b in np.array_split(x, max(1, len(x) // 128))]
        parts.append(np.concatenate(out))
    return np.concatenate(parts, axis=1).astype(np.float64)


def sample_weights(live, source):
    w = np.zeros(len(live))
    for s in np.unique(source):
        for c in (True, False):
            m = (source == s) & (live == c)
            if m.any():
                w[m] = 1.0 / m.sum()
    return w / w.mean()


def standardisation(x, pool=None):
    """Mean and standard deviation of each feature over `x` and the unlabelled, unweighted
    `pool` (the chips) together."""
    s = x if pool is None or not len(pool) else np.concatenate([x, pool])
    return s.mean(0), s.std(0) + 1e-6


def fit(x, live, source, l2, pool=None, iterations=25):
    """Weighted logistic regression by Newton's method on features standardised over `x` and
    `pool` (`standardisation`)."""
    mu, sd = standardisation(x, pool)
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    beta = newton(z, live.astype(float), sample_weights(live, source), l2, iterations)
    return Head.from_standardised(beta[:-1], beta[-1], mu, sd)


def newton(z, y, w, l2, iterations=25, start=None, offset=0.0, bias_l2=0.0):
    """Weighted, ridge-penalised logistic regression by Newton's method; `z` ends with a column
    of ones (the bias, not penalised unless `bias_l2`). Returns the coefficients, bias last.
    `start`: where to begin (zeros by default; experiments warm-start folds from the full fit).
    `offset`: a fixed per-sample term added to the linear score (experiments; none in
    training). `bias_l2`: a ridge on the bias too, for experiments whose few samples the offset
    may already separate perfectly (the bias would otherwise be unbounded)."""
    ridge = np.diag(np.r_[np.full(z.shape[1] - 1, float(l2)), bias_l2])
    beta = np.zeros(z.shape[1]) if start is None else start.copy()
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta + offset)))
        grad = z.T @ (w * (p - y)) + ridge @ beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + ridge
        beta -= np.linalg.solve(hess, grad)
    return beta


def rounded(v):
    """Four significant digits: a scale, not a weight (the layer's own numbers keep theirs)."""
    return [float(f"{e:.4g}") for e in v]


def main():
    args = parse()
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    models_dir = find_models(args.models)
    crops = Crops(args.crops, args.subsets.split(","))
    idx = np.flatnonzero(crops.trainable)
    if len(np.unique(crops.source[idx])) < 2:
        sys.exit("need trainable items (extra/, nuaa_train/) from at least two sources")
    live, source = crops.live[idx], crops.source[idx]
    x = embeddings(models_dir, crops, idx)
    print(f"{len(idx)} trainable crops from {len(np.unique(source))} sources, "
          f"embedded in {time.time() - t0:.0f} s", flush=True)
    report = {"args": vars(args), "sources": sorted(set(source.tolist()))}
    pool, pool_source = None, source[:0]
    if not args.no_chips:
        c27, c40 = chip_crops(crops.rows, idx, args.testdata, args.seed)
        pool, pool_source = features(models_dir, {27: c27, 40: c40}), source
        print(f"{len(pool)} chip re-cuts in {time.time() - t0:.0f} s", flush=True)

    # Each layer's feature scales, which `calibrate.py` measures a deployment's change to the
    # layer in (the scales the ridge was applied in).
    scales = {"sd": rounded(standardisation(x, pool)[1]), "folds": {}}
    if not args.no_folds:
        oof = np.zeros(len(idx))
        folds = {}
        for s in report["sources"]:
            held = source == s
            fold_pool = None if pool is None else pool[pool_source != s]
            head = fit(x[~held], live[~held], source[~held], args.l2, fold_pool)
            oof[held] = head.score(x[held])
            folds[s] = head.to_json()
            scales["folds"][s] = rounded(standardisation(x[~held], fold_pool)[1])
        with open(os.path.join(args.out, "folds.json"), "w") as f:
            json.dump(folds, f)
        rows, pooled = loso_table(oof, live, source)
        print(format_table(rows, pooled, "\nLivegate PAD, leave-one-source-out:"))
        report["loso"] = {"sources": rows, "pooled": pooled}
        for name in ("minifasnet_v2", "minifasnet_v1se", "fr_liveness"):
            if name in crops.rows[0]:
                ref = np.array([float(crops.rows[i][name]) for i in idx])
                r, pl = loso_table(ref, live, source)
                print(format_table(r, pl, f"\n{name} (stock), threshold chosen the same way:"))
                report[f"reference_{name}"] = {"sources": r, "pooled": pl}
        threshold = balanced_threshold(oof, live, source)
        report["threshold"] = threshold
        report["oof"] = {crops.rows[i]["file"]: float(s) for i, s in zip(idx, oof)}
        with open(os.path.join(args.out, "threshold.txt"), "w") as f:
            f.write(f"{threshold:.4f}\n")
        print(f"\noperating point on the out-of-fold scores: {threshold:.4f}")

    final = fit(x, live, source, args.l2, pool)
    path = os.path.join(args.out, "livegate_pad")
    write_model(models_dir, final, path)
    with open(os.path.join(args.out, "head.json"), "w") as f:
        json.dump(final.to_json(), f)
    with open(os.path.join(args.out, "scales.json"), "w") as f:
        json.dump(scales, f)
    other = np.flatnonzero(~crops.trainable)
    if len(other):
        sc = final.score(embeddings(models_dir, crops, other))
        report["held_out_subsets"] = {crops.rows[i]["file"]: float(s) for i, s in zip(other, sc)}
    with open(os.path.join(args.out, "loso.json"), "w") as f:
        json.dump(report, f, indent=1)
    size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    print(f"wrote {path}/ ({size} bytes) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
