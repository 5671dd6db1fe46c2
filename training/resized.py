"""Copies of the labelled stills at another size, so that `livegate eval` can say how the
verdict moves when the same face is nearer or further (issue #10; `experiments/zoom/`).
`scripts/test.sh` holds the evaluation floors on the ×1.5 copies too: a model that leans on
the face's size in pixels fails them.

    python resized.py TESTDATA OUT SCALE [PREFIX ...]   # e.g. 0.5 extra/ faces/

Each still of the manifest under a PREFIX is decoded (EXIF orientation applied), resized by
SCALE (area average when shrinking, bicubic when enlarging: what a camera nearer or further
would see, without new detail when enlarging) and written as PNG (no new JPEG loss) to the
same relative path with `.png` appended; OUT/MANIFEST.tsv is the manifest's rows with the
new paths.
"""
import csv
import os
import sys
from multiprocessing import Pool

from PIL import Image, ImageOps


def resize_one(job):
    """Writes one still's copy; None when Pillow cannot read it (videos, HEIF)."""
    root, out, scale, row = job
    try:
        im = ImageOps.exif_transpose(Image.open(os.path.join(root, row["file"]))).convert("RGB")
    except OSError:
        return None
    size = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
    im = im.resize(size, Image.BOX if scale < 1 else Image.BICUBIC)
    row = dict(row, file=row["file"] + ".png")
    os.makedirs(os.path.dirname(os.path.join(out, row["file"])), exist_ok=True)
    # the fastest zlib level: the copies are read once, and size on disk does not matter
    im.save(os.path.join(out, row["file"]), compress_level=1)
    return row


def main():
    root, out, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
    prefixes = tuple(sys.argv[4:]) or ("extra/", "faces/")
    with open(os.path.join(root, "MANIFEST.tsv"), newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        fields, rows = reader.fieldnames, [r for r in reader if r["file"].startswith(prefixes)]
    with Pool(os.cpu_count()) as pool:
        kept = [r for r in pool.map(resize_one, [(root, out, scale, r) for r in rows], 16) if r]
    with open(os.path.join(out, "MANIFEST.tsv"), "w", newline="") as f:
        w = csv.DictWriter(f, fields, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(kept)
    print(f"{len(kept)} stills at ×{scale:g} in {out}")


if __name__ == "__main__":
    main()
