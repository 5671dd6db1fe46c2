"""Taps of both MiniFASNets on 80×80 patches of the face cut at the image's own resolution
(issue #10; not part of train.sh).

    python features.py CROPS_DIR IMAGE_ROOT OUT.npz [WIDTH]   # CROPS_DIR from `livegate crops`

Why: every view the shipped layer reads is resampled to 80×80 from a box 2.7 or 4 times the
face, so a 400-px replayed face is shrunk five- to twenty-fold and the screen's pixel grid,
moiré and print dots are averaged away before the network sees them. Here nine 80×80 patches
are cut without any resampling from a 3×3 grid spanning ±0.2 face widths about the face's
centre (clamped into the image), each tapped like the shipped views (embedding, stage-2 and
stage-3 per-channel mean and std) and averaged over the nine. The face boxes are the service's
(`index.tsv`); images are decoded with Pillow, EXIF orientation applied, and only used where
their size matches the service's decoded size (otherwise the 1.0× crop stands in).
Blocks: `nv2`, `nv1se` (512 each).
"""
import os
import sys

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "texture_taps"))

from data import Crops, to_input  # noqa: E402
from features import TAPS as ALL_TAPS, tapped  # noqa: E402
from train import find_models  # noqa: E402

TAPS = {k: ALL_TAPS[k] for k in ("emb", "s2", "s3")}
NETS = {"nv2": "MiniFASNetV2.onnx", "nv1se": "MiniFASNetV1SE.onnx"}
GRID = (-0.2, 0.0, 0.2)  # patch centres, in face widths from the face's centre
SIDE = 80


def patches(image, row, width=None):
    """The nine native-resolution patches of one face, N×80×80×3 RGB uint8. `width`: first
    shrink the image (area average) so that a wider face is that many pixels wide."""
    fw = float(row["face_w"])
    cx = float(row["face_x"]) + fw / 2
    cy = float(row["face_y"]) + float(row["face_h"]) / 2
    if width and fw > width:
        k = width / fw
        image = image.resize((max(1, round(image.size[0] * k)), max(1, round(image.size[1] * k))),
                             Image.BOX)
        fw, cx, cy = fw * k, cx * k, cy * k
    w, h = image.size
    a = np.asarray(image)
    out = []
    for dy in GRID:
        for dx in GRID:
            x0 = int(round(min(max(cx + dx * fw - SIDE / 2, 0), max(w - SIDE, 0))))
            y0 = int(round(min(max(cy + dy * fw - SIDE / 2, 0), max(h - SIDE, 0))))
            p = a[y0:y0 + SIDE, x0:x0 + SIDE]
            if p.shape[:2] != (SIDE, SIDE):  # an image smaller than a patch: edge-pad it
                p = np.pad(p, ((0, SIDE - p.shape[0]), (0, SIDE - p.shape[1]), (0, 0)), "edge")
            out.append(p)
    return np.stack(out)


def native_patches(crops_dir, root, width=None):
    c = Crops(crops_dir, scales=(10,))
    stacks, fallback = [], 0
    for i, row in enumerate(c.rows):
        try:
            image = ImageOps.exif_transpose(Image.open(os.path.join(root, row["file"])))
            image = image.convert("RGB")
        except OSError:  # a format Pillow does not read (HEIF)
            image = None
        if image is None or image.size != (int(row["image_w"]), int(row["image_h"])):
            fallback += 1
            stacks.append(np.repeat(c.by_scale[10][i][None], len(GRID) ** 2, 0))
        else:
            stacks.append(patches(image, row, width))
    print(f"{len(stacks)} faces, {fallback} at the 1.0× crop (not decoded, or at another size)", flush=True)
    return np.stack(stacks)


def main():
    crops_dir, root, out = sys.argv[1:4]
    p = native_patches(crops_dir, root, float(sys.argv[4]) if len(sys.argv) > 4 else None)
    n, k = p.shape[:2]
    x = to_input(p.reshape(n * k, SIDE, SIDE, 3))
    models = find_models("")
    blocks = {}
    for name, file in NETS.items():
        t = tapped(os.path.join(models, file), TAPS, x)
        blocks[name] = np.concatenate([t[j].reshape(n, k, -1).mean(1) for j in TAPS], 1)
    np.savez(out, **blocks)
    print({k: v.shape for k, v in blocks.items()})


if __name__ == "__main__":
    main()
