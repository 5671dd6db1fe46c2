"""Turned copies of every trainable crop, live AND attack (labelled as the parent), cached.

    LIVEGATE_EXP_DIR=$CARGO_TARGET_DIR/exp-turn python gen.py SEED

Each still's two service crops (2.7 and 4.0) are turned by the same random quarter (90°, 180° or
270°), losslessly. See README.md for why.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tight_chips"))

from common import save_copies  # noqa: E402


def draw(rng):
    return (int(rng.integers(1, 4)),)


def turn(rgb, quarters):
    return np.ascontiguousarray(np.rot90(rgb, k=quarters))


def main():
    save_copies(int(sys.argv[1]), "turned", (draw, turn))


if __name__ == "__main__":
    main()
