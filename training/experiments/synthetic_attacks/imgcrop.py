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
