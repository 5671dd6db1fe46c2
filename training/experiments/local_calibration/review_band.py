"""Where the errors sit (not run by CI): each source's out-of-fold scores at its LOSO threshold
(chosen on the other sources, as `livegate eval --loso` does); how many stills, and how many of
the errors, lie within ±d of that threshold. An integrator who sends such stills to a person
(their `confidence` is then below 0.5 + d) trades that share of traffic for that share of
errors. Usage: review_band.py"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from metrics import balanced_threshold  # noqa: E402
from measure import LOSO, source_of  # noqa: E402


def main():
    oof = json.load(open(LOSO))["oof"]
    files = list(oof)
    score = np.array([oof[f] for f in files])
    src = np.array([source_of(f) for f in files])
    live = np.array(["fake" not in f.lower() and "/spoof/" not in f for f in files])
    thr = np.zeros(len(score))
    for s in np.unique(src):
        held = src == s
        thr[held] = balanced_threshold(score[~held], live[~held], src[~held])
    wrong = (score >= thr) != live
    print(f"all stills: {100 * wrong.mean():.1f} % wrong")
    for d in (0.05, 0.1, 0.15, 0.2, 0.25):
        band = np.abs(score - thr) < d
        print(f"±{d:.2f}: {100 * band.mean():4.1f} % of stills, {100 * (wrong & band).sum() / wrong.sum():4.1f} %"
              f" of the errors; outside it {100 * (wrong & ~band).sum() / (~band).sum():4.1f} % wrong")


if __name__ == "__main__":
    main()
