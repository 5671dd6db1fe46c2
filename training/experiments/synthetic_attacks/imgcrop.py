import os
import sys
import numpy as np
TD = os.environ.get('LIVEGATE_TESTDATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'shared', 'testdata'))

# The service's crop and resampler live in `training/chips.py` (shipped); this module keeps
# the older call shapes the experiment scripts here use.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import chips  # noqa: E402

load_image = chips.load_image


def context_crop(W, H, bx, by, bw, bh, scale):
    """chips.context_crop, plus the scale it actually used (smaller when the image is)."""
    used = max(min(scale, (H - 1) / max(bh, 1.0), (W - 1) / max(bw, 1.0)), 0.0)
    return (*chips.context_crop(W, H, (bx, by, bw, bh), scale), used)


def sample(img, region, out=80):
    return chips.resample(img, region[:4], out)

def crops_for(img, box, scales=(2.7, 4.0), out=80):
    H, W = img.shape[:2]
    return [sample(img, context_crop(W, H, *box, s), out) for s in scales]


def context_patch(img, box, maxside=200):
    """The 4.0× context of the face box, shrunk (PIL's box filter) to at most `maxside` px, and
    the box in the patch's pixels: the picture the synthetic attacks are made from."""
    from PIL import Image
    H, W = img.shape[:2]
    x, y, w, h, _ = context_crop(W, H, *box, 4.0)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    x1, y1 = min(W, int(np.ceil(x + w)) + 1), min(H, int(np.ceil(y + h)) + 1)
    sub = img[y0:y1, x0:x1]
    b = [box[0] - x0, box[1] - y0, box[2], box[3]]
    f = maxside / max(sub.shape[:2])
    if f < 1:
        nh, nw = max(8, round(sub.shape[0] * f)), max(8, round(sub.shape[1] * f))
        fx, fy = nw / sub.shape[1], nh / sub.shape[0]
        sub = np.asarray(Image.fromarray(sub.astype(np.uint8)).resize((nw, nh), Image.BOX))
        b = [b[0] * fx, b[1] * fy, b[2] * fx, b[3] * fy]
    return sub, b
