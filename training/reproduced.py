"""Checks that a fresh `training/train.sh --out DIR` run gave the committed model (run by CI).

    python reproduced.py DIR

The layer's weights and bias (`head.json`), every fold's (`folds.json`) and the out-of-fold
scores (`loso.json`) must agree with the committed ones to 1e-4, the feature scales
(`scales.json`, four significant digits, for `calibrate.py`) to 1.5e-3 of each value (one unit
of the fourth digit, which is up to 1e-3 of a value written 1.000…: another CPU flips the last
digit of about 160 of the 11,264 values), and the operating point (`threshold.txt`, four
decimals) to one unit of its last decimal, for the same reason. Why not the ONNX bytes, nor 1e-6: another CPU rounds
floats differently (ONNX Runtime picks its kernels by the instruction set it has: OpenBLAS
forced to another kernel, `OPENBLAS_CORETYPE=Haswell`, gives the same bytes here, so the
difference comes in with the networks), and that is not what "reproduces" is about; what is,
is that the command, on the data and code as they stand, makes this model. Measured: on an
AVX-512 machine (2026-12-07) the committed model, made on another, came back 8.1e-6 (head),
1.5e-5 (folds) and 2.9e-6 (out-of-fold scores) apart, same threshold; between 2026-11-28 and
2026-12-06 a real change moved the weights 1.5e-3 apart, which nothing noticed then and which
this check stops.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = 1e-4
SCALE_TOLERANCE = 1.5e-3
THRESHOLD_TOLERANCE = 1.5e-4  # one unit of threshold.txt's fourth decimal


def largest_gap(a, b):
    """The largest absolute difference between two layers ({w, b}) or score maps."""
    if isinstance(a, dict) and set(a) == {"w", "b"}:
        return max(np.abs(np.asarray(a["w"]) - np.asarray(b["w"])).max(), abs(a["b"] - b["b"]))
    if set(a) != set(b):
        sys.exit(f"training/train.sh no longer trains on the committed model's items or sources: "
                 f"{sorted(set(a) ^ set(b))[:5]}")
    return max(largest_gap(a[k], b[k]) if isinstance(a[k], dict) else abs(a[k] - b[k]) for k in a)


def largest_scale_gap(a, b):
    """The largest relative difference between two `scales.json`."""
    if sorted(a["folds"]) != sorted(b["folds"]):
        sys.exit("training/train.sh no longer writes the committed folds' scales")
    pairs = [(a["sd"], b["sd"])] + [(a["folds"][k], b["folds"][k]) for k in a["folds"]]
    return max(np.abs(np.asarray(x) / np.asarray(y) - 1).max() for x, y in pairs)


def load(folder, name):
    with open(os.path.join(folder, name)) as f:
        return json.load(f)


def main():
    fresh = sys.argv[1]
    gaps = {
        "head.json": largest_gap(load(fresh, "head.json"), load(HERE, "head.json")),
        "folds.json": largest_gap(load(fresh, "folds.json"), load(HERE, "folds.json")),
        "out-of-fold scores": largest_gap(load(fresh, "loso.json")["oof"],
                                          load(HERE, "loso.json")["oof"]),
    }
    scales = largest_scale_gap(load(fresh, "scales.json"), load(HERE, "scales.json"))
    thresholds = [float(open(os.path.join(d, "threshold.txt")).read()) for d in (fresh, HERE)]
    report = ", ".join(f"{k} {v:.1e}" for k, v in gaps.items()) + f", scales {scales:.1e}"
    if (max(gaps.values()) > TOLERANCE or scales > SCALE_TOLERANCE
            or abs(thresholds[0] - thresholds[1]) > THRESHOLD_TOLERANCE):
        sys.exit(f"training/train.sh no longer makes the committed model: {report}; threshold "
                 f"{thresholds[0]:.4f} against {thresholds[1]:.4f}. Commit what it makes now (and its "
                 f"hashes in MODEL_CARD.md) or find what moved.")
    print(f"reproduced: {report}; threshold {thresholds[0]:.4f}")


if __name__ == "__main__":
    main()
