import os
import sys, time
from common import *
from imgcrop import *
from PIL import Image
c = load()
seed = int(sys.argv[1]); reps = int(sys.argv[2])
rng = np.random.default_rng(seed)
E = np.load(os.path.join(OUT, 'eff.npy'))
ids = np.flatnonzero(c.trainable & (E[:, 1] >= 2.0))
parent, c27, c40 = [], [], []
t = time.time()
for n, i in enumerate(ids):
    r = c.rows[i]; img = load_image(os.path.join(TD, r['file']))
    H, W = img.shape[:2]
    bx, by, bw, bh = [float(r[k]) for k in ('face_x','face_y','face_w','face_h')]
    for _ in range(reps):
        u = rng.uniform(0.95, 1.25)  # crop side relative to the box
        ar = rng.uniform(1.0, 1.35)   # taller than wide, like the tight sources
        cw, ch = bw * u, bw * u * ar
        cx, cy = bx + bw / 2 + rng.uniform(-0.05, 0.05) * bw, by + bh / 2 + rng.uniform(-0.05, 0.1) * bh
        x0, y0 = int(max(0, cx - cw / 2)), int(max(0, cy - ch / 2))
        x1, y1 = int(min(W, cx + cw / 2)), int(min(H, cy + ch / 2))
        sub = img[y0:y1, x0:x1]
        side = rng.uniform(60, 200)
        f = side / max(sub.shape[:2])
        nw, nh = max(8, round(sub.shape[1] * f)), max(8, round(sub.shape[0] * f))
        sub = np.asarray(Image.fromarray(sub).resize((nw, nh), Image.BILINEAR if f > 1 else Image.BOX))
        fx, fy = nw / (x1 - x0), nh / (y1 - y0)
        box = [(bx - x0) * fx, (by - y0) * fy, bw * fx, bh * fy]
        a, b = crops_for(sub, box)
        parent.append(i); c27.append(np.clip(np.round(a), 0, 255).astype(np.uint8)); c40.append(np.clip(np.round(b), 0, 255).astype(np.uint8))
    if n % 200 == 0: print(n, time.time() - t, flush=True)
c27, c40 = np.stack(c27), np.stack(c40)
x = embed_pair(c27, c40)
np.savez(os.path.join(OUT, f'tight_{seed}.npz'), parent=np.array(parent), kind=np.array(['tight'] * len(parent)), x=x, c27=c27[::5])
print('done', x.shape, time.time() - t)
