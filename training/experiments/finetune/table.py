"""LOSO figures of `finetune.py`'s fold scores, alone and averaged with the shipped layer's
out-of-fold scores (not part of train.sh; results in README.md here).

    python table.py CROPS_DIR SCORES_DIR [--stock]

`SCORES_DIR/SOURCE.npy`: live logits of every crop from the network trained without SOURCE.
Each source is judged on its own fold's scores at the threshold chosen on the other sources'
(`metrics.loso_table`, as `train.py` does). `faces/` (never trained on): how many of its stills
each fold's network rejects at that fold's threshold. Then the fixed-weight average
a·logit(layer) + (1 − a)·logit(network), with the layer's out-of-fold scores from
`training/loso.json` and its in-service score for `faces/`. `--stock NETWORK SCALE` instead
scores the crops with the untrained network, the reference the fine-tuning starts from.
"""

import glob
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from data import Crops, to_input  # noqa: E402
from metrics import balanced_threshold, format_table, loso_table  # noqa: E402
from onnx_graph import Graph  # noqa: E402
from train import find_models  # noqa: E402


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def stock_scores(crops_dir, crops, network, scale):
    """The untrained network's live logit of every crop, the same for every fold."""
    x = to_input(np.load(os.path.join(crops_dir, f"crops_s{scale}.npy")))
    graph = Graph(os.path.join(find_models(""), network))
    sess = graph.session()
    out = np.concatenate([sess.run(None, {graph.input: x[i:i + 256]})[0]
                          for i in range(0, len(x), 256)])
    e = np.exp(out - out.max(1, keepdims=True))
    z = logit(e[:, 1] / e.sum(1))
    return {src: z for src in np.unique(crops.source[crops.trainable])}


def report(crops, by_fold, title):
    """The LOSO table of one score per fold, and `faces/` rejections per fold."""
    oof = np.full(len(crops.rows), np.nan)
    for src, z in by_fold.items():
        oof[crops.source == src] = z[crops.source == src]
    m = crops.trainable
    p = 1 / (1 + np.exp(-oof))
    rows, pooled = loso_table(p[m], crops.live[m], crops.source[m])
    print(format_table(rows, pooled, title))
    faces = crops.subset == "faces"
    rejected = []
    for src, z in sorted(by_fold.items()):
        o = m & (crops.source != src)
        t = balanced_threshold(p[o], crops.live[o], crops.source[o])
        rejected.append(int((1 / (1 + np.exp(-z[faces])) < t).sum()))
    print(f"faces/ rejected by each fold's network at its threshold: {rejected} of {faces.sum()}")
    return oof


def main():
    crops_dir = sys.argv[1]
    crops = Crops(crops_dir, scales=())
    if sys.argv[2] == "--stock":
        network, scale = sys.argv[3], int(sys.argv[4])
        report(crops, stock_scores(crops_dir, crops, network, scale), f"stock {network} {scale}")
        return
    by_fold = {os.path.basename(f)[:-4]: np.load(f)
               for f in glob.glob(os.path.join(sys.argv[2], "*.npy"))}
    missing = set(crops.source[crops.trainable]) - set(by_fold)
    if missing:
        sys.exit(f"no scores for {sorted(missing)}")
    net = report(crops, by_fold, f"fine-tuned ({sys.argv[2]})")

    layer_oof = json.load(open(os.path.join(HERE, "..", "..", "loso.json")))["oof"]
    files = [r["file"] for r in crops.rows]
    layer = np.array([layer_oof.get(f, np.nan) for f in files])
    shipped = np.array([float(r["livegate_pad"] or "nan") for r in crops.rows])
    net_faces = np.mean(list(by_fold.values()), axis=0)
    m, faces = crops.trainable, crops.subset == "faces"
    for a in (1.0, 0.8, 0.7, 0.6, 0.5):
        p = 1 / (1 + np.exp(-(a * logit(layer) + (1 - a) * net)))
        rows, pooled = loso_table(p[m], crops.live[m], crops.source[m])
        t = balanced_threshold(p[m], crops.live[m], crops.source[m])
        pf = 1 / (1 + np.exp(-(a * logit(shipped) + (1 - a) * net_faces)))
        worst = max(r["acer"] for r in rows.values())
        print(f"a = {a}: pooled ACER {100 * pooled['acer']:.1f} %, AUC {pooled['roc_auc']:.3f}, "
              f"worst source {100 * worst:.1f} %, nuaa_train AUC "
              f"{rows['nuaa_train']['roc_auc']:.3f}, faces/ rejected {(pf[faces] < t).sum()} "
              f"at the pooled out-of-fold threshold {t:.3f}")


if __name__ == "__main__":
    main()
