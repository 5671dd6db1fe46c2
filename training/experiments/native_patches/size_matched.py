"""LOSO figures with each source's attacks reweighted to its live faces' size distribution:
how much of a candidate's figure a face-size detector could earn (issue #10).

    python size_matched.py NATIVE_TRAIN.npz NATIVE_REGISTRY.npz "GATE:COMBO:RIDGE" ...
    python size_matched.py $T/native_train.npz $T/native_registry.npz "0:base:1000" "150:base+logfw*20:1000"

Within each source the face widths (log) are cut into five bins at the source's quintiles;
an attack in a bin gets the weight (share of the source's live faces in that bin) / (share of
its attacks in it), so the weighted attacks have the live faces' sizes, and attacks of sizes
no live face of the source has get none. Thresholds are those of the plain LOSO table (each
source's chosen on the others' out-of-fold scores), so only the counting changes. A layer
whose APCER rises under this weighting was accepting attacks of sizes live faces have and
rejecting the others; a size-free layer's figures should barely move. `eff.` is the effective
number of weighted attacks ((Σw)² / Σw²).
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

from grid import Setup  # noqa: E402
from metrics import loso_table  # noqa: E402

BINS = 5


def size_weights(logw, live):
    """Per-item weights: 1 for live faces, the live/attack size-share ratio for attacks."""
    edges = np.quantile(logw, np.linspace(0, 1, BINS + 1)[1:-1])
    b = np.searchsorted(edges, logw)
    w = np.ones(len(logw))
    for k in range(BINS):
        share_live = np.mean(b[live] == k)
        share_attack = np.mean(b[~live] == k)
        w[~live & (b == k)] = share_live / share_attack if share_attack else 0.0
    return w


def main():
    d = Setup(sys.argv[1], sys.argv[2])
    logw = np.log(d.fw[d.idx])
    for spec in sys.argv[3:]:
        gate, combo, l2 = spec.split(":")
        oof, _, _ = d.evaluate(float(gate), combo, float(l2))
        rows, pooled = loso_table(oof, d.live, d.source)
        print(f"{spec}: plain pooled ACER {100 * pooled['acer']:.1f} % "
              f"(APCER {100 * pooled['apcer']:.1f}, BPCER {100 * pooled['bpcer']:.1f})")
        acc_w, att_w, line = 0.0, 0.0, []
        for s, r in rows.items():
            m = d.source == s
            w = size_weights(logw[m], d.live[m])
            att = ~d.live[m]
            accepted = oof[m][att] >= r["threshold"]
            wa = w[att] * (att.sum() / max(w[att].sum(), 1e-12))  # the source keeps its count
            apcer = float(np.sum(wa * accepted) / np.sum(wa))
            acc_w += np.sum(wa * accepted)
            att_w += np.sum(wa)
            eff = w[att].sum() ** 2 / max(np.sum(w[att] ** 2), 1e-12)
            line.append(f"{s[:12]} APCER {100 * r['apcer']:.1f}→{100 * apcer:.1f} "
                        f"(eff. {eff:.0f}/{att.sum()})")
        apcer = acc_w / att_w
        print(f"    size-matched pooled ACER {100 * (apcer + pooled['bpcer']) / 2:.1f} % "
              f"(APCER {100 * apcer:.1f})")
        print("    " + "\n    ".join(line), flush=True)


if __name__ == "__main__":
    main()
