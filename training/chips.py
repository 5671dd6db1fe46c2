"""Tight, resampled "chip" re-cuts of the training stills, for the layer's standardisation.

dlib-style aligned chips (150×150, the face filling nearly all of it, resampled; `faces/dlib_johns`)
are a domain none of the training sources has, and the layer used to reject many of them. Each
trainable still, live and attack alike, is re-cut here as such a chip: a square about the
service's face box (the box 82-96 % of its side, slightly off centre), resampled to 150×150 by
the service's area resampler and JPEG'd (quality 75-95); then the service's context crops
(2.7× and 4.0×, which shrink to the chip as `vision::pad::context_crop` does when the image is
too small) of the box mapped into it. `train.fit` standardises the features over the real crops
and these chips together, which changes how hard the ridge shrinks each feature (features that
move with tightness and resampling are shrunk more); the chips carry no weight in the fit
(experiments/tight_chips/: as weighted training samples they did worse).

Deterministic: every still's chip draws from its own generator (seed, row number).
"""

import io
import os

import numpy as np
from PIL import Image, ImageOps

CHIP_SIDE = 150


def load_image(path):
    """RGB uint8, EXIF orientation applied (as the service decodes stills)."""
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def context_crop(width, height, box, scale):
    """`vision::pad::context_crop`: the box scaled about its centre (less when the image is too
    small), slid to stay inside the image. → (x, y, w, h)."""
    sw, sh = float(width), float(height)
    bx, by = box[0], box[1]
    bw, bh = max(box[2], 1.0), max(box[3], 1.0)
    scale = max(min(scale, (sh - 1) / bh, (sw - 1) / bw), 0.0)
    nw, nh = bw * scale, bh * scale
    cx, cy = bx + bw / 2, by + bh / 2
    x0, y0, x1, y1 = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if x0 < 0:
        x1 -= x0
        x0 = 0.0
    if y0 < 0:
        y1 -= y0
        y0 = 0.0
    if x1 > sw - 1:
        x0 -= x1 - sw + 1
        x1 = sw - 1
    if y1 > sh - 1:
        y0 -= y1 - sh + 1
        y1 = sh - 1
    x0, y0 = max(x0, 0.0), max(y0, 0.0)
    return x0, y0, max(x1 - x0, 1.0), max(y1 - y0, 1.0)


def _taps(origin, step, count, extent):
    """One axis of the service's area resampler: up to 4 bilinear taps per output pixel."""
    per = int(min(max(np.ceil(step), 1), 4))
    k = np.zeros((count, extent), np.float32)
    last = extent - 1
    for o in range(count):
        for j in range(per):
            p = origin + (o + (j + 0.5) / per) * step - 0.5
            if not -0.5 < p < extent - 0.5:
                continue
            p = min(max(p, 0.0), last)
            i0 = int(np.floor(p))
            i1, f = min(i0 + 1, last), p - i0
            k[o, i0] += (1 - f) / per
            k[o, i1] += f / per
    return k


def resample(img, region, out):
    """`region` (x, y, w, h) of `img` → out×out float RGB."""
    x, y, w, h = region
    kx = _taps(x, w / out, out, img.shape[1])
    ky = _taps(y, h / out, out, img.shape[0])
    rows = np.flatnonzero(ky.any(0))
    t = np.tensordot(ky[:, rows], img[rows].astype(np.float32), axes=(1, 0))
    return np.einsum("owc,pw->opc", t, kx)


def _u8(a):
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def chip(img, box, rng):
    """A dlib-like chip of the face in `img` and the face box mapped into it."""
    h, w = img.shape[:2]
    bx, by, bw, bh = box
    s = min(max(bw, bh) / rng.uniform(0.82, 0.96), w - 1, h - 1)
    cx = bx + bw / 2 + rng.uniform(-0.04, 0.04) * bw
    cy = by + bh / 2 + rng.uniform(-0.02, 0.08) * bh
    x0 = min(max(cx - s / 2, 0.0), w - 1 - s)
    y0 = min(max(cy - s / 2, 0.0), h - 1 - s)
    buf = io.BytesIO()
    Image.fromarray(_u8(resample(img, (x0, y0, s, s), CHIP_SIDE))).save(
        buf, "JPEG", quality=int(rng.uniform(75, 95)))
    out = np.asarray(Image.open(buf).convert("RGB"))
    f = CHIP_SIDE / s
    return out, [(bx - x0) * f, (by - y0) * f, bw * f, bh * f]


def chip_crops(rows, idx, root, seed=0, scales=(2.7, 4.0)):
    """The context crops (80×80 RGB uint8, one array per scale) of every row in `idx` re-cut as
    a chip; `rows` are `livegate crops`' index rows (file and face box)."""
    out = [[] for _ in scales]
    for i in idx:
        r = rows[i]
        img = load_image(os.path.join(root, r["file"]))
        box = [float(r[k]) for k in ("face_x", "face_y", "face_w", "face_h")]
        c, b = chip(img, box, np.random.default_rng([seed, int(i)]))
        for k, s in enumerate(scales):
            out[k].append(_u8(resample(c, context_crop(CHIP_SIDE, CHIP_SIDE, b, s), 80)))
    return [np.stack(o) for o in out]
