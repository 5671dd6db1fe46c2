"""Test-time views (issue #10, 2026-12-07): does averaging the taps of a few views of the same
face — mirrored, or cut at the neighbouring context scales — make the layer travel better?

    python grid.py RIDGE[,…]

Views (the service's crops of `livegate crops`, so no new cutting code is involved):
- `base`: V2 on the 2.7× crop, V1SE on the 4.0× crop (the shipped inputs);
- `flip`: the same crops mirrored left-right;
- `scale`: V2 on 2.2× / 2.7× / 3.2×, V1SE on 3.2× / 4.0× (the crops `livegate crops` writes).
The layer is linear in the taps, so averaging the taps of the views is averaging what the layer
says of each (at the cost of one more pair of passes a view). Each variant is judged as
`../tight_chips/` judges the layer (real-crop standardisation; LOSO; `faces/` by the layer
fitted on everything, at the out-of-fold operating point), trained and tested on the same
averaging (`train`), or trained on the shipped single view and tested on the average (`test`).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tight_chips"))
from common import OUT, evaluate, features, fmt  # noqa: E402
from data import Crops  # noqa: E402
import common  # noqa: E402

HALF = 512  # the first 512 taps are V2's, the rest V1SE's


def cached(name, make):
    path = os.path.join(OUT, f"tta_{name}.npy")
    if not os.path.exists(path):
        np.save(path, make())
    return np.load(path)


def main():
    c = Crops(common.CROPS, scales=(22, 27, 32, 40))
    s = c.by_scale
    base = cached("base", lambda: features(s[27], s[40]))
    flip = cached("flip", lambda: features(s[27][:, :, ::-1], s[40][:, :, ::-1]))
    near = cached("near", lambda: features(s[22], s[32]))  # V2 at 2.2, V1SE at 3.2
    far = cached("far", lambda: features(s[32], s[40]))  # V2 at 3.2 (V1SE half = base's)
    scale = np.concatenate([(base[:, :HALF] + near[:, :HALF] + far[:, :HALF]) / 3,
                            (base[:, HALF:] + near[:, HALF:]) / 2], 1)
    views = {"base": base, "flip": (base + flip) / 2, "scale": scale,
             "flip+scale": (scale + (base + flip) / 2) / 2}
    tr = np.flatnonzero(c.trainable)
    fa = np.flatnonzero(c.subset == "faces")
    live, source = c.live[tr], c.source[tr]
    for l2 in [float(v) for v in sys.argv[1].split(",")]:
        for name, x in views.items():
            r = evaluate(x[tr], live, source, x[fa], l2)
            print(fmt(r, f"{name} train, ridge {l2:g}"), flush=True)
            if name != "base":
                # trained on the shipped view, tested on the average
                oof = np.zeros(len(tr))
                fit = common.fit_extra
                for src in np.unique(source):
                    h = source == src
                    oof[h] = fit(base[tr][~h], live[~h], source[~h], l2).score(x[tr][h])
                rows, pooled = common.loso_table(oof, live, source)
                thr = common.balanced_threshold(oof, live, source)
                fs = fit(base[tr], live, source, l2).score(x[fa])
                worst = max((v["acer"], k) for k, v in rows.items())
                print(fmt(dict(acer=pooled["acer"], auc=pooled["roc_auc"], worst=worst,
                               nuaa=rows["nuaa_train"]["roc_auc"], thr=thr,
                               faces=float(np.mean(fs < thr)), rows=rows),
                          f"{name} test, ridge {l2:g}"), flush=True)


if __name__ == "__main__":
    main()
