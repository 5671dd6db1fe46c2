"""Checks that the service and the training code score the same crop alike.

    python training/parity.py --crops CROPS_DIR --model MODEL_DIR [--tolerance 1e-3]

`livegate crops --exact N` writes N items' crops unrounded (`exact_s27.npy`, `exact_s40.npy`)
with the score each installed PAD model gave them in the service (`exact.tsv`). This runs the
training code's own forward pass (the JAX graph in `onnx_graph.py`, independent of ONNX
Runtime) with the weights of MODEL_DIR (`crop_27.onnx`, `crop_40.onnx`: each network's share
of the layer's logits, summed) on the same crops and fails when any `livegate_pad` score differs
by more than the tolerance.
"""

import argparse
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax  # noqa: E402

from data import to_input  # noqa: E402
from export import BACKBONES  # noqa: E402
from onnx_graph import Graph  # noqa: E402

COLUMN = "livegate_pad"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--crops", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--tolerance", type=float, default=1e-3)
    a = p.parse_args()
    crops = {name: to_input(np.load(os.path.join(a.crops, f"exact_s{scale}.npy")))
             for name, (_, scale) in BACKBONES.items()}
    with open(os.path.join(a.crops, "exact.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or COLUMN not in rows[0]:
        sys.exit(f"exact.tsv has no {COLUMN} column: was the binary built with the model?")
    logits = 0
    for name in BACKBONES:
        graph = Graph(os.path.join(a.model, f"{name}.onnx"))
        logits = logits + np.asarray(jax.jit(graph.apply)(graph.params, {name: crops[name]}))
    ours = np.asarray(jax.nn.softmax(logits)[:, 1])
    service = np.array([float(r[COLUMN]) for r in rows])
    diff = np.abs(ours - service)
    worst = int(diff.argmax())
    print(f"{len(rows)} crops: max |training - service| = {diff.max():.2e} "
          f"({rows[worst]['file']}: {ours[worst]:.6f} vs {service[worst]:.6f})")
    if diff.max() > a.tolerance:
        sys.exit(f"scores differ by more than {a.tolerance}")


if __name__ == "__main__":
    main()
