"""Makes the extra training samples and their features (cached in $LIVEGATE_EXP_DIR).

    python gen.py SEED KINDS      # KINDS: comma-separated of chip, framed

- chip: every trainable still, live AND attack, re-cut as a dlib-style aligned chip: a square
  about the detector's face box, the box filling 82-96 % of its side, resampled by the service's
  area resampler to 150×150 and JPEG'd (q 75-95); then the service's context crops (2.7 and 4.0,
  which shrink to the chip when it is too small) of the box mapped into the chip. Labelled as
  the parent: "tight and resampled" then means neither live nor attack.
- framed: a screen or print replay of a training live image shown inside a bezel/border over
  another live image of the same source (`synthetic_attacks/synth.py`), labelled attack.
Per item its own generator (SEED, item), so the set does not depend on order.
"""
import io
import time

from PIL import Image

from common import *
from imgcrop import context_patch, crops_for, load_image, sample
from synth import framed


def chip(img, box, rng, side=150):
    H, W = img.shape[:2]
    bx, by, bw, bh = box
    s = max(bw, bh) / rng.uniform(0.82, 0.96)
    s = min(s, W - 1, H - 1)
    cx = bx + bw / 2 + rng.uniform(-0.04, 0.04) * bw
    cy = by + bh / 2 + rng.uniform(-0.02, 0.08) * bh
    x0 = min(max(cx - s / 2, 0.0), W - 1 - s)
    y0 = min(max(cy - s / 2, 0.0), H - 1 - s)
    out = sample(img, (x0, y0, s, s), side)
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    b = io.BytesIO()
    Image.fromarray(out).save(b, "JPEG", quality=int(rng.uniform(75, 95)))
    out = np.asarray(Image.open(b).convert("RGB"))
    f = side / s
    return out, [(bx - x0) * f, (by - y0) * f, bw * f, bh * f]


def main():
    seed, kinds = int(sys.argv[1]), sys.argv[2].split(",")
    c = Crops(CROPS)
    tr = np.flatnonzero(c.trainable)
    live_by_src = {}
    for i in tr:
        if c.live[i]:
            live_by_src.setdefault(c.source[i], []).append(i)
    parent, kind, label, c27, c40 = [], [], [], [], []
    t = time.time()
    for n, i in enumerate(tr):
        r = c.rows[i]
        img = load_image(os.path.join(TD, r["file"]))
        box = [float(r[k]) for k in ("face_x", "face_y", "face_w", "face_h")]
        rng = np.random.default_rng([seed, int(i)])
        for k in kinds:
            if k == "chip":
                im, b, lab = *chip(img, box, rng), c.live[i]
            elif k == "framed":
                if not c.live[i]:
                    continue
                p, pb = context_patch(img, box)
                j = rng.choice(live_by_src[c.source[i]])
                bg = load_image(os.path.join(TD, c.rows[j]["file"]))
                bg = bg[::max(1, bg.shape[0] // 240), ::max(1, bg.shape[1] // 240)]
                im, b = framed(p, pb, rng, bg)
                lab = False
            a, bb = crops_for(im, b)
            parent.append(i); kind.append(k); label.append(lab)
            c27.append(np.clip(np.round(a), 0, 255).astype(np.uint8))
            c40.append(np.clip(np.round(bb), 0, 255).astype(np.uint8))
        if n % 500 == 0:
            print(n, f"{time.time() - t:.0f}s", flush=True)
    c27, c40 = np.stack(c27), np.stack(c40)
    x = features(c27, c40)
    np.savez(os.path.join(OUT, f"extra_{seed}_{'-'.join(kinds)}.npz"), parent=np.array(parent),
             kind=np.array(kind), live=np.array(label), x=x, c27=c27[::9], c40=c40[::9])
    print("done", x.shape, f"{time.time() - t:.0f}s")


if __name__ == "__main__":
    main()
