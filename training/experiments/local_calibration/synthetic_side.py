"""The attack side of a deployment's calibration made from its own lives (not run by CI).

`live_only.py` found that lives alone move the layer little. Here each of the calibration's
live stills (the first N of `training/calibrate_check.sh SOURCE N`) also yields one synthetic
attack, `../synthetic_attacks/synth.py`'s screen replay, print or framed replay in turn, and
`training/calibrate.sh` fits the layer on the lives and those attacks: what a deployment could
do with no attack captures at all. `synthetic_side.sh` runs it and judges the rest of the
source.

With `WITH_CAPTURED=1` the calibration's captured attacks are kept beside the synthetic ones
(does the synthetic side add to what the captured attacks teach?).

Usage: synthetic_side.py CALIBRATION_TSV TESTDATA OUT SEED
Writes OUT/root (the test data's folders linked, the attacks under synthetic/) and
OUT/calibration.tsv (the lives as they were, one attack row per live).
"""
import csv
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "synthetic_attacks"))
from synth import framed, printed, screen  # noqa: E402


def main():
    manifest, testdata, out, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = np.random.default_rng(seed)
    root = os.path.join(out, "root")
    os.makedirs(os.path.join(root, "synthetic"), exist_ok=True)
    for name in os.listdir(testdata):
        link = os.path.join(root, name)
        if os.path.isdir(os.path.join(testdata, name)) and not os.path.exists(link):
            os.symlink(os.path.join(testdata, name), link)
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    lives = [r for r in rows if r["label"] == "live"]
    images = [np.asarray(Image.open(os.path.join(testdata, r["file"])).convert("RGB")) for r in lives]
    made = []
    for i, (row, img) in enumerate(zip(lives, images)):
        # The box is only carried along by these transforms; the service finds the face itself.
        box = [0.0, 0.0, float(img.shape[1]), float(img.shape[0])]
        kind = ("screen", "print", "framed")[i % 3]
        if kind == "framed":
            att, _ = framed(img, box, rng, images[(i + 1) % len(images)].astype(np.float32))
        else:
            att, _ = (screen if kind == "screen" else printed)(img, box, rng)
        file = f"synthetic/{i:03d}_{kind}.png"
        Image.fromarray(np.clip(att, 0, 255).astype(np.uint8)).save(os.path.join(root, file))
        made.append({**row, "file": file, "category": "synthetic", "label": "spoof",
                     "note": f"{kind} made from {row['file']}"})
    with open(os.path.join(out, "calibration.tsv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), delimiter="\t", lineterminator="\n")
        w.writeheader()
        captured = [r for r in rows if r["label"] != "live"] if os.environ.get("WITH_CAPTURED") == "1" else []
        w.writerows(lives + captured + made)
    print(f"{len(lives)} lives, {len(made)} synthetic attacks in {out}")


if __name__ == "__main__":
    main()
