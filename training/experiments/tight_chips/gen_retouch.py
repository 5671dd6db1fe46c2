"""Retouched copies of every trainable crop, live AND attack (labelled as the parent), cached.

    python gen_retouch.py SEED

Each 80×80 service crop (2.7 and 4.0, the same draw for both) is smoothed (Gaussian, radius
0.5-1.5 px), brightened (gamma 0.6-1.0), warmed (red ×1.0-1.15, blue ×0.8-1.0) and JPEG'd
(q 50-90): the look of the studio and press portraits `faces/` rejects (smooth skin, warm
light, strong compression), in both classes, so that this look cannot mean "attack".
"""
import io

from PIL import Image, ImageFilter

from common import *


def retouch(rgb, radius, gamma, red, blue, q):
    im = Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(radius))
    x = (np.asarray(im, np.float64) / 255.0) ** gamma
    x = np.clip(x * np.array([red, 1.0, blue]) * 255.0, 0, 255).astype(np.uint8)
    b = io.BytesIO()
    Image.fromarray(x).save(b, "JPEG", quality=q)
    return np.asarray(Image.open(b).convert("RGB"))


def draw(rng):
    return (rng.uniform(0.5, 1.5), rng.uniform(0.6, 1.0), rng.uniform(1.0, 1.15),
            rng.uniform(0.8, 1.0), int(rng.uniform(50, 90)))


def main():
    save_copies(int(sys.argv[1]), "retouch", (draw, retouch), salt=(7,))


if __name__ == "__main__":
    main()
