"""Taps of Faceplugin's `fr_liveness` (a MiniFASNet-family network at 128×128) beside the
shipped layer's own (not part of train.sh; results in README.md here).

    python features.py CROPS_DIR OUT.npz

`crop_27` / `crop_40` are the shipped layer's inputs (V2 on the 2.7× crop, V1SE on the 4.0×
crop, 80×80); `fr_27`, `fr_40`, `fr_10` are `fr_liveness` on the 2.7× (its own crop), 4.0× and
1.0× crops at 128×128, which `livegate crops` writes as `crops_s<scale>_128.npy`. Each: the
embedding and the per-channel mean and population std of the 32×32, 16×16 and 8×8 stages.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "texture_taps"))

from data import Crops, to_input  # noqa: E402
from features import TAPS as MINIFASNET_TAPS, run_taps, tapped  # noqa: E402
from train import find_models  # noqa: E402

# The last value of each resolution in `fr_liveness.onnx` (numbered as its exporter left them):
# the 128-d embedding before the classifier, and the residual sums closing the 32×32 (64
# channels), 16×16 (128) and 8×8 (128) stages.
FR_TAPS = {"emb": "581", "s2": "440", "s3": "524", "s4": "564"}
TAPS = {k: MINIFASNET_TAPS[k] for k in ("emb", "s2", "s3")}


def fr_model():
    for d in (os.environ.get("LIVEGATE_MODEL_DIR", ""),
              os.path.expanduser("~/.cache/livegate/models")):
        p = os.path.join(d, "fr_liveness.onnx")
        if d and os.path.exists(p):
            return p
    sys.exit("fr_liveness.onnx not found: run `livegate models fetch --all`")


def fr_tapped(x):
    """`tapped` for `fr_liveness`, whose reshape ops the JAX reader does not know: the same
    statistics from an ONNX Runtime session with a free batch dimension."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(fr_model())
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    del model.graph.value_info[:]
    for name in FR_TAPS.values():
        model.graph.output.append(onnx.helper.make_tensor_value_info(
            name, onnx.TensorProto.FLOAT, None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return run_taps(sess, sess.get_inputs()[0].name, FR_TAPS, x)


def main():
    crops_dir, out = sys.argv[1], sys.argv[2]
    models = find_models("")
    c = Crops(crops_dir)
    feats = {}
    for name, file, scale in (("crop_27", "MiniFASNetV2.onnx", 27),
                              ("crop_40", "MiniFASNetV1SE.onnx", 40)):
        for k, v in tapped(os.path.join(models, file), TAPS, to_input(c.by_scale[scale])).items():
            feats[f"{name}_{k}"] = v
    for scale in (27, 40, 10):
        x = to_input(np.load(os.path.join(crops_dir, f"crops_s{scale}_128.npy"), mmap_mode="r"))
        for k, v in fr_tapped(x).items():
            feats[f"fr_{scale}_{k}"] = v
    np.savez(out, **feats)


if __name__ == "__main__":
    main()
