import os
import sys, time
from common import *
from synth import *
c = load()
seed = int(sys.argv[1]); kinds = sys.argv[2].split(',')
rng = np.random.default_rng(seed)
tr = np.flatnonzero(c.trainable & c.live)
parent, kind, c27, c40 = [], [], [], []
t = time.time()
# background pool per source (for framed): other live images of same source
by_src = {}
for i in tr: by_src.setdefault(c.source[i], []).append(i)
cache = {}
def img_of(i):
    if i not in cache:
        cache[i] = load_image(os.path.join(TD, c.rows[i]['file']))
    return cache[i]
def patch(img, box, maxside=200):
    H, W = img.shape[:2]
    x, y, w, h, _ = context_crop(W, H, *box, 4.0)
    x0, y0 = int(np.floor(x)), int(np.floor(y)); x1, y1 = min(W, int(np.ceil(x + w)) + 1), min(H, int(np.ceil(y + h)) + 1)
    sub = img[y0:y1, x0:x1]
    b = [box[0] - x0, box[1] - y0, box[2], box[3]]
    f = maxside / max(sub.shape[:2])
    if f < 1:
        nh, nw = max(8, round(sub.shape[0] * f)), max(8, round(sub.shape[1] * f))
        fx, fy = nw / sub.shape[1], nh / sub.shape[0]
        sub = sample(sub, (0, 0, sub.shape[1], sub.shape[0]), 1) if False else _resize_area(sub, nw, nh)
        b = [b[0] * fx, b[1] * fy, b[2] * fx, b[3] * fy]
    return sub, b
def _resize_area(im, w, h):
    from PIL import Image
    return np.asarray(Image.fromarray(im.astype(np.uint8)).resize((w, h), Image.BOX))
for n, i in enumerate(tr):
    r = c.rows[i]
    img = img_of(i)
    box = [float(r[k]) for k in ('face_x','face_y','face_w','face_h')]
    img, box = patch(img, box)
    for k in kinds:
        if k == 'framed':
            j = rng.choice(by_src[c.source[i]])
            bgimg = img_of(j)
            bgimg = bgimg[::max(1, bgimg.shape[0]//240), ::max(1, bgimg.shape[1]//240)]
            im, b = framed(img, box, rng, bgimg)
        elif k == 'liveaug':
            im, b = live_aug(img, box, rng)
        else:
            im, b = KINDS[k](img, box, rng)
        a, bb = crops_for(im, b)
        parent.append(i); kind.append(k); c27.append(np.clip(np.round(a),0,255).astype(np.uint8)); c40.append(np.clip(np.round(bb),0,255).astype(np.uint8))
    if len(cache) > 200: cache.clear()
    if n % 100 == 0: print(n, time.time()-t, flush=True)
c27, c40 = np.stack(c27), np.stack(c40)
x = embed_pair(c27, c40)
np.savez(os.path.join(OUT, f'synth_{seed}_{"-".join(kinds)}.npz'), parent=np.array(parent), kind=np.array(kind), x=x, c27=c27[::7], c40=c40[::7])
print('done', x.shape, time.time()-t)
