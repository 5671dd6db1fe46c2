"""Texture statistics of the two MediaPipe networks the service already runs — the face detector
(BlazeFace short range, 128², 0.4 MB) and the face mesh (192², 2.4 MB) — on the face-only crop
(issue #10; not part of train.sh).

    python features.py CROPS_DIR OUT.npz      # CROPS_DIR from `livegate crops --crops-128`

Why: the face-recognition network's embedding on the face-only crop is the one addition so far
whose `faces/` gain also shows on the registry live faces (`../registry_live/`), but it costs
8 ms a still and 4.9 MB. These two networks were also trained on many photos of every kind,
are small, and (Apache-2.0) could live in the committed graph. Blocks: `bf_s32`, `bf_s16`,
`bf_s8` (BlazeFace's residual outputs at 32², 16², 8²: per-channel mean and standard
deviation), `mesh_s24`, `mesh_s12`, `mesh_s6` (the mesh network's at 24², 12², 6²).
Preprocessing as the service's (`vision::blazeface`: RGB / 127.5 − 1; `vision::mesh`: RGB / 255).
"""
import os
import sys

import numpy as np
import onnx
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from onnx_graph import exposing  # noqa: E402

MODELS = os.path.expanduser(os.environ.get("LIVEGATE_MODEL_DIR", "~/.cache/livegate/models"))
P = "StatefulPartitionedCall/functional_1/"
NETS = {
    "bf": ("blazeface_short_128.onnx", 128, lambda a: a / 127.5 - 1.0,
           {"bf_s32": P + "add_4/add:0", "bf_s16": P + "add_10/add:0", "bf_s8": None}),
    "mesh": ("face_landmark.tflite.v0.1.0.c2.onnx", 192, lambda a: a / 255.0,
             {"mesh_s24": "Add_67", "mesh_s12": "Add_99", "mesh_s6": "Add_130"}),
}


def last_add(model, channels_hw):
    """BlazeFace's last residual output at 8² (its name is not fixed across exports)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in inferred.graph.value_info}
    adds = [n.output[0] for n in model.graph.node
            if n.op_type == "Add" and shapes.get(n.output[0], [0, 0, 0])[2:] == channels_hw]
    return adds[-1]


def session(file, taps):
    m = onnx.load(os.path.join(MODELS, file))
    for k, name in list(taps.items()):
        if name is None:
            taps[k] = last_add(m, [8, 8])
    return exposing(m, taps.values(), threads=2), m.graph.input[0].name


def mediapipe_features(face):
    """{block: N×d} for N×128×128×3 RGB face-only crops."""
    out = {}
    for file, size, norm, taps in NETS.values():
        taps = dict(taps)
        s, inp = session(file, taps)
        names = list(taps.values())
        acc = {k: [] for k in taps}
        for rgb in face:
            im = np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR), np.float32)
            vals = s.run(names, {inp: norm(im)[None].astype(np.float32)})
            for k, v in zip(taps, vals):
                a = v[0].reshape(v.shape[1], -1)
                acc[k].append(np.concatenate([a.mean(1), a.std(1)]))
        out.update({k: np.array(v) for k, v in acc.items()})
    return out


def main():
    blocks = mediapipe_features(np.load(os.path.join(sys.argv[1], "crops_s10_128.npy")))
    np.savez(sys.argv[2], **blocks)
    print({k: v.shape for k, v in blocks.items()})


if __name__ == "__main__":
    main()
