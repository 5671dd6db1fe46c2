"""Does a photometric normalisation of each crop, before both networks, make the layer travel?

    python norm.py grayworld,lumstd,gray 700,1000,1500

Each named transform is applied to every crop (both context scales, each crop on its own
statistics, as the service would) before the shipped taps are read; the layer is then fitted and
judged leave-one-source-out exactly as `../tight_chips/` does (standardised over the real crops
only, so the baseline is that folder's 12.1 % at ridge 1000). `none` is the baseline itself.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

from common import *  # noqa: E402,F403

LUMA = np.array([0.299, 0.587, 0.114])


def white_balance(rgb, strength=1.0, limit=2.0):
    """Each channel scaled toward the crop's grey mean (grey-world white balance): gain^strength,
    clipped to [1/limit, limit]; a source's lamp and camera tint gone (strength 1) or lessened."""
    x = rgb.astype(np.float64)
    m = x.mean((1, 2), keepdims=True)
    g = np.clip((m.mean(3, keepdims=True) / np.maximum(m, 1.0)) ** strength, 1 / limit, limit)
    return np.clip(x * g, 0, 255)


def grayworld(rgb):
    return white_balance(rgb)


def grayworld_half(rgb):
    return white_balance(rgb, strength=0.5)


def grayworld_10(rgb):
    return white_balance(rgb, limit=1.1)


def lumstd(rgb):
    """Luminance brought to a common mean and spread (exposure and contrast gone, colour kept)."""
    x = rgb.astype(np.float64)
    y = x @ LUMA
    mu = y.mean((1, 2))[:, None, None, None]
    sd = y.std((1, 2))[:, None, None, None] + 1.0
    return np.clip((x - mu) * (50.0 / sd) + 110.0, 0, 255)


def both(rgb):
    return lumstd(grayworld(rgb))


def gray(rgb):
    """Colour dropped: luminance in all three channels."""
    y = rgb.astype(np.float64) @ LUMA
    return np.repeat(y[..., None], 3, axis=3)


TRANSFORMS = dict(grayworld=grayworld, grayworld_half=grayworld_half, grayworld_10=grayworld_10,
                  lumstd=lumstd, both=both, gray=gray)


def normalised(c, name):
    """Features of the crops under transform `name`; `name@27` / `name@40` transforms only that
    network's crop (the other network reads the crop as it is: the same PAD cost as today)."""
    if "@" in name:
        name, net = name.split("@")
        x = base()[1].copy()
        half = slice(0, 512) if net == "27" else slice(512, 1024)
        x[:, half] = normalised(c, name)[:, half]
        return x
    path = os.path.join(OUT, f"photometric_{name}.npy")
    if not os.path.exists(path):
        f = TRANSFORMS[name]
        np.save(path, features(f(c.by_scale[27]), f(c.by_scale[40])))
    return np.load(path)


def main():
    names = sys.argv[1].split(",")
    ridges = [float(v) for v in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1000.0]
    c, X0 = base()
    for name in names:
        X = X0 if name == "none" else normalised(c, name)
        for l2 in ridges:
            judge(c, X, lambda x, live, source: fit_extra(x, live, source, l2),
                  f"{name}, ridge {l2:g}")


if __name__ == "__main__":
    main()
