"""Pose and framing covariates from the detector's keypoints (`livegate crops` index columns),
added to a features file as block `pose` (issue #10; not part of train.sh).

    python pose.py CROPS_DIR FR.npz OUT.npz

Why: the face-recognition embedding of the resized face crop helps the layer, its aligned
embedding does not (README.md here), so what helps is something alignment removes — pose,
framing, the face's scale. These 13 numbers say it directly, at no cost in the service (the
detector has already run): yaw (nose off the eyes' midpoint, in eye distances) and its
magnitude, pitch (nose between eyes and mouth), roll and its magnitude, the ears' asymmetry,
the eye distance over the box width, the box's centre, width and height over the image's,
the box's aspect, and the detector's confidence.
"""
import csv
import os
import sys

import numpy as np


def covariates(r):
    k = {n: np.array([float(r[f"kp{i}_x"]), float(r[f"kp{i}_y"])]) for i, n in
         enumerate(("reye", "leye", "nose", "mouth", "rear", "lear"))}
    W, H = float(r["image_w"]), float(r["image_h"])
    x, y, w, h = (float(r[c]) for c in ("face_x", "face_y", "face_w", "face_h"))
    mid = (k["reye"] + k["leye"]) / 2
    d = k["leye"] - k["reye"]
    eye = max(np.hypot(*d), 1e-3)
    yaw = (k["nose"][0] - mid[0]) / eye
    pitch = (k["nose"][1] - mid[1]) / max(k["mouth"][1] - mid[1], 1e-3)
    roll = np.arctan2(d[1], d[0])
    ears = (np.hypot(*(k["rear"] - k["reye"])) - np.hypot(*(k["lear"] - k["leye"]))) / eye
    return [yaw, abs(yaw), pitch, roll, abs(roll), ears, eye / w, (x + w / 2) / W,
            (y + h / 2) / H, w / W, h / H, w / h, float(r["detector_score"])]


def main():
    crops, features, out = sys.argv[1:4]
    with open(os.path.join(crops, "index.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    d = dict(np.load(features))
    assert len(rows) == len(d["base"]), "features of other crops"
    np.savez(out, pose=np.array([covariates(r) for r in rows]), **d)


if __name__ == "__main__":
    main()
