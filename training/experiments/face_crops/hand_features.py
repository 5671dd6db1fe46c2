"""Hand-made colour, sharpness and frequency statistics of the crops, added to a taps file
(not part of train.sh; results in README.md here).

    python hand_features.py CROPS_DIR TAPS.npz OUT.npz

Per crop (80×80, at 1.0×, 2.7× and 4.0×: blocks `h10`, `h27`, `h40`), 18 values: the RGB means
and standard deviations, the saturation's mean and std (colour loss of prints, gamut of screens),
the log variance and log median magnitude of the grey Laplacian (blur, noise), the log share of
the spectrum's energy in seven radial bands and the peak-to-mean ratio of the upper bands
(moiré shows as isolated peaks). They are what issue #10 names as fusion inputs besides the
networks' own values.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from data import SCALES, Crops  # noqa: E402

BANDS = [(0, 4), (4, 8), (8, 14), (14, 22), (22, 30), (30, 40), (40, 60)]


def statistics(rgb):
    """N×80×80×3 uint8 → N×18."""
    x = rgb.astype(np.float32)
    g = x @ np.array([0.299, 0.587, 0.114], np.float32)
    n, h, w = g.shape
    hi, lo = x.max(-1), x.min(-1)
    sat = (hi - lo) / np.maximum(hi, 1)
    lap = (4 * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1]
           - g[:, 1:-1, :-2] - g[:, 1:-1, 2:])
    power = np.abs(np.fft.fftshift(np.fft.fft2(g - g.mean((1, 2), keepdims=True)),
                                   axes=(1, 2))) ** 2
    yy, xx = np.mgrid[-(h // 2):h - h // 2, -(w // 2):w - w // 2]
    radius = np.hypot(yy, xx)
    total = power.reshape(n, -1).sum(1) + 1e-6
    upper = power[:, radius >= 14]
    cols = [x.mean((1, 2)) / 255, x.std((1, 2)) / 255,
            sat.mean((1, 2))[:, None], sat.std((1, 2))[:, None],
            np.log1p(lap.var((1, 2)))[:, None],
            np.log1p(np.median(np.abs(lap).reshape(n, -1), 1))[:, None]]
    cols += [np.log(power[:, (radius >= a) & (radius < b)].sum(1) / total + 1e-9)[:, None]
             for a, b in BANDS]
    cols.append(np.log((upper.max(1) + 1e-6) / (upper.mean(1) + 1e-6))[:, None])
    return np.concatenate(cols, 1).astype(np.float32)


def main():
    crops_dir, taps, out = sys.argv[1:4]
    c = Crops(crops_dir, scales=SCALES + (10,))
    feats = dict(np.load(taps))
    for s in (10, 27, 40):
        feats[f"h{s}"] = statistics(c.by_scale[s])
    np.savez(out, **feats)


if __name__ == "__main__":
    main()
