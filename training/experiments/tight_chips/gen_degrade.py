"""Degraded copies of every trainable crop, live AND attack (labelled as the parent), cached.

    python gen_degrade.py SEED

Each 80×80 service crop (2.7 and 4.0) is shrunk to 35-80 % of its side and enlarged back
(bilinear), then JPEG'd (q 60-95): the look of a small face resampled up (dlib's 150×150 chips
of low-resolution photos), in both classes, so that softness cannot mean "attack".
"""
import io

from PIL import Image

from common import *


def degrade(rgb, f, q):
    im = Image.fromarray(rgb)
    n = max(8, int(round(80 * f)))
    im = im.resize((n, n), Image.BOX).resize((80, 80), Image.BILINEAR)
    b = io.BytesIO()
    im.save(b, "JPEG", quality=q)
    return np.asarray(Image.open(b).convert("RGB"))


def draw(rng):
    return rng.uniform(0.35, 0.8), int(rng.uniform(60, 95))


def main():
    save_copies(int(sys.argv[1]), "degrade", (draw, degrade))


if __name__ == "__main__":
    main()
