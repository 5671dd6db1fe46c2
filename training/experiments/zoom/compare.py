"""The verdicts of `livegate eval` runs on `training/resized.py`'s copies, side by side, at the shipped
operating point (issue #10).

    python compare.py THRESHOLD EVAL_DIR[=NAME] ...

Per subset/source of the manifest's paths (the `extra/` source, else the subset): bona fide
rejected and attacks accepted at THRESHOLD (non-responses count as rejected), and the median
score change against the first run for the same stills.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from metrics import rates  # noqa: E402


def group(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "extra" else parts[0]


def load(folder):
    with open(os.path.join(folder, "report.json")) as f:
        items = json.load(f)["items"]
    return {i["file"]: (i["label"] == "live", i["score"] if i["score"] is not None else 0.0)
            for i in items}


def main():
    thr = float(sys.argv[1])
    runs = [(a.partition("=")[2] or a, load(a.partition("=")[0])) for a in sys.argv[2:]]
    first = runs[0][1]
    groups = sorted({group(f) for f in first})
    print(f"{'source':<28}" + "".join(f"{name:>28}" for name, _ in runs))
    print(f"{'':<28}" + "".join(f"{'BPCER  APCER  Δmedian':>28}" for _ in runs))
    for g in groups + ["ALL"]:
        line = f"{g[:27]:<28}"
        for _, run in runs:
            keys = [f for f in run if g == "ALL" or group(f) == g]
            live = np.array([run[f][0] for f in keys])
            score = np.array([run[f][1] for f in keys])
            base = np.array([first[f][1] if f in first else np.nan for f in keys])
            apcer, bpcer = rates(score[live], score[~live], thr)
            line += f"{100 * bpcer:>9.1f}{100 * apcer:>7.1f}{np.nanmedian(score - base):>+12.3f}"
        print(line)


if __name__ == "__main__":
    main()
