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
for n, i in enumerate(tr):
    r = c.rows[i]
    img = img_of(i)
    box = [float(r[k]) for k in ('face_x','face_y','face_w','face_h')]
    img, box = context_patch(img, box)
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
