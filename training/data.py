"""The crops `livegate crops` wrote.

Crops are the service's own PAD inputs (same decoder, detector, face pick, context crop and
resampler), RGB uint8, 80×80, at the context scales in `SCALES`. The network takes BGR 0..255 in
NCHW, like MiniFASNet.
"""

import csv
import os

import numpy as np

SCALES = (22, 27, 32, 40)  # context scale × 10, as in the file names
SERVICE_SCALE = 27
# Subsets the model may learn from. Everything else (`faces/` press portraits, `spoof/`
# samples, videos) is never trained on, so its figures are out-of-sample by construction.
TRAIN_SUBSETS = ("extra", "nuaa_train")


class Crops:
    def __init__(self, folder, train_subsets=TRAIN_SUBSETS, scales=SCALES):
        """`scales`: which of the written context scales to load (experiments add the
        face-only 10 and 15)."""
        with open(os.path.join(folder, "index.tsv"), newline="") as f:
            self.rows = list(csv.DictReader(f, delimiter="\t"))
        self.by_scale = {s: np.load(os.path.join(folder, f"crops_s{s}.npy")) for s in scales}
        n = len(self.rows)
        for s, a in self.by_scale.items():
            if a.shape[0] != n:
                raise ValueError(f"crops_s{s}.npy has {a.shape[0]} crops for {n} index rows")
        self.live = np.array([r["class"] == "bona_fide" for r in self.rows])
        self.source = np.array([r["source"] for r in self.rows])
        self.subset = np.array([r["subset"] for r in self.rows])
        self.trainable = np.isin(self.subset, train_subsets)

    def service(self, idx):
        """The crops the service scores, unaugmented."""
        return self.by_scale[SERVICE_SCALE][idx]


def to_input(rgb):
    """N×80×80×3 RGB (any numeric type) → N×3×80×80 float32 BGR 0..255."""
    return np.ascontiguousarray(rgb[..., ::-1].transpose(0, 3, 1, 2)).astype(np.float32)
