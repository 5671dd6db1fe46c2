import os
import numpy as np
from PIL import Image, ImageOps
TD = os.environ.get('LIVEGATE_TESTDATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'shared', 'testdata'))

def load_image(path):
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    return np.asarray(im.convert('RGB'))

def context_crop(W, H, bx, by, bw, bh, scale):
    sw, sh = float(W), float(H)
    bw, bh = max(bw, 1.0), max(bh, 1.0)
    scale = max(min(scale, (sh - 1) / bh, (sw - 1) / bw), 0.0)
    nw, nh = bw * scale, bh * scale
    cx, cy = bx + bw / 2, by + bh / 2
    x0, y0, x1, y1 = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if x0 < 0: x1 -= x0; x0 = 0.0
    if y0 < 0: y1 -= y0; y0 = 0.0
    if x1 > sw - 1: x0 -= x1 - sw + 1; x1 = sw - 1
    if y1 > sh - 1: y0 -= y1 - sh + 1; y1 = sh - 1
    x0, y0 = max(x0, 0.0), max(y0, 0.0)
    return x0, y0, max(x1 - x0, 1.0), max(y1 - y0, 1.0), scale

def _kernel(origin, step, count, extent):
    per = int(min(max(np.ceil(step), 1), 4))
    K = np.zeros((count, extent), np.float32)
    last = extent - 1
    for o in range(count):
        for j in range(per):
            p = origin + (o + (j + 0.5) / per) * step - 0.5
            if not (p > -0.5 and p < extent - 0.5):
                continue
            p = min(max(p, 0.0), last)
            i0 = int(np.floor(p)); i1 = min(i0 + 1, last); f = p - i0
            K[o, i0] += (1 - f) / per; K[o, i1] += f / per
    return K

def sample(img, region, out=80):
    x, y, w, h = region[:4]
    H, W = img.shape[:2]
    Kx = _kernel(x, w / out, out, W); Ky = _kernel(y, h / out, out, H)
    im = img.astype(np.float32)
    nz = np.flatnonzero(Ky.any(0)); t = np.tensordot(Ky[:, nz], im[nz], axes=(1, 0))  # o,w,c
    return np.einsum('owc,pw->opc', t, Kx, optimize=True)

def crops_for(img, box, scales=(2.7, 4.0), out=80):
    H, W = img.shape[:2]
    return [sample(img, context_crop(W, H, *box, s), out) for s in scales]
