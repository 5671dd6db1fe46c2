"""Per-crop-type thresholds (not run by CI): tight stills, whose PAD crops are the whole picture
(the 2.7× box shrunk below 1.8× to fit), and wider frames each get the threshold chosen on the
other sources' out-of-fold scores of their own type; pooled LOSO ACER against one shared
threshold. Usage: crop_type.py [CROPS] (default: the training crops of train.sh)."""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from data import Crops  # noqa: E402
from metrics import balanced_threshold  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")


def main():
    crops = Crops(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TARGET, "training", "crops"))
    oof = json.load(open(os.path.join(HERE, "..", "..", "loso.json")))["oof"]
    idx = [i for i, r in enumerate(crops.rows) if r["file"] in oof]
    score = np.array([oof[crops.rows[i]["file"]] for i in idx])
    live, src = crops.live[idx], crops.source[idx]

    def fitted_scale(r):
        return min(2.7, (float(r["image_h"]) - 1) / float(r["face_h"]),
                   (float(r["image_w"]) - 1) / float(r["face_w"]))
    tight = np.array([fitted_scale(crops.rows[i]) < 1.8 for i in idx])

    def shared(s, _):
        o = src != s
        return balanced_threshold(score[o], live[o], src[o])

    def typed(s, kind):
        o = (src != s) & (tight == kind)
        if not (live[o].any() and (~live[o]).any()):
            return shared(s, kind)
        return balanced_threshold(score[o], live[o], src[o])

    for name, rule in (("shared", shared), ("per crop type", typed)):
        accepted = np.zeros(len(score), bool)
        for s in np.unique(src):
            for kind in (True, False):
                m = (src == s) & (tight == kind)
                if m.any():
                    accepted[m] = score[m] >= rule(s, kind)
        per = {}
        for s in np.unique(src):
            m = src == s
            ap = (accepted & m & ~live).sum() / max(1, (m & ~live).sum())
            bp = (~accepted & m & live).sum() / max(1, (m & live).sum())
            per[s[:10]] = round(100 * (ap + bp) / 2, 1)
        ap = (accepted & ~live).sum() / (~live).sum()
        bp = (~accepted & live).sum() / live.sum()
        print(f"{name:<14} pooled ACER {100 * (ap + bp) / 2:.2f} %  {per}")
    print("tight share per source:", {s[:10]: round(float(tight[src == s].mean()), 2) for s in np.unique(src)})


if __name__ == "__main__":
    main()
