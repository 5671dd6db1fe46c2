import sys, os, csv
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import numpy as np
import onnxruntime as ort
from data import Crops, to_input
from export import BACKBONES, EMBEDDING, Head
from onnx_graph import Graph
from metrics import balanced_threshold, loso_table, roc_auc, rates
import train as T

TARGET = os.environ.get('CARGO_TARGET_DIR', '/var/cache/livegate/target')
CROPS = os.path.join(TARGET, 'training', 'crops')
# Intermediate embeddings and synthetic sets (tens of MB), never in the repository.
OUT = os.environ.get('LIVEGATE_EXP_DIR', os.path.join(TARGET, 'exp-synthetic'))
os.makedirs(OUT, exist_ok=True)
MODELS = os.environ.get('LIVEGATE_SHARED_MODELS', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'shared', 'models'))
TD = os.environ.get('LIVEGATE_TESTDATA', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'shared', 'testdata'))

_sess = {}
def sess(name):
    if name not in _sess:
        file, _ = BACKBONES[name]
        g = Graph(os.path.join(MODELS, file))
        os.environ.setdefault('LIVEGATE_TRAIN_THREADS','2')
        _sess[name] = (g.session([EMBEDDING]), g.input)
    return _sess[name]

def embed(name, rgb):
    """rgb: N x 80 x 80 x 3 -> N x 128"""
    s, inp = sess(name)
    x = to_input(rgb)
    out = [s.run([EMBEDDING], {inp: x[i:i+256]})[0] for i in range(0, len(x), 256)]
    return np.concatenate(out).astype(np.float64)

def embed_pair(c27, c40):
    return np.concatenate([embed('crop_27', c27), embed('crop_40', c40)], 1)

def load():
    c = Crops(CROPS)
    return c

def evaluate(fit_fn, score_fn, x, live, source, xf=None, label=''):
    """fit_fn(train_mask)->model; score_fn(model, mask or features)->scores.
    Returns dict of pooled + worst + nuaa + faces bpcer."""
    oof = np.zeros(len(live))
    for s in np.unique(source):
        held = source == s
        m = fit_fn(~held)
        oof[held] = score_fn(m, held)
    rows, pooled = loso_table(oof, live, source)
    thr = balanced_threshold(oof, live, source)
    res = dict(acer=pooled['acer'], auc=pooled['roc_auc'], apcer=pooled['apcer'], bpcer=pooled['bpcer'],
               worst=max((r['acer'], k) for k, r in rows.items()),
               nuaa_auc=rows['nuaa_train']['roc_auc'], thr=thr, rows=rows, oof=oof)
    if xf is not None:
        m = fit_fn(np.ones(len(live), bool))
        sf = score_fn(m, None) if callable(xf) else None
        res['faces_scores'] = sf
        res['faces_bpcer'] = float(np.mean(sf < thr))
    return res

def fmt(res, label):
    w = res['worst']
    s = (f"{label:<40} ACER {100*res['acer']:5.1f}  AUC {res['auc']:.3f}  worst {100*w[0]:5.1f} ({w[1][:12]})"
         f"  nuaaAUC {res['nuaa_auc']:.3f}  faces {100*res.get('faces_bpcer', float('nan')):5.1f}  thr {res['thr']:.3f}")
    per = " ".join(f"{k[:6]}:{100*r['acer']:.0f}" for k, r in res['rows'].items())
    return s + "\n    " + per

# weights
def sample_weights(live, source, extra_w=None):
    return T.sample_weights(live, source)

def fit_lr(z, y, w, l2, iterations=25):
    """z: standardised features (no bias col); returns beta incl bias."""
    return T.newton(np.hstack([z, np.ones((len(z), 1))]), y, w, l2, iterations)
