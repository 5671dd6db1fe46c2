"""The service's crops of the fetched live faces and their 1,024 taps (issue #10).

    python features.py OUT_DIR      # the folder fetch.py filled

Runs `livegate crops` on OUT_DIR/MANIFEST.tsv (production's detector, face pick and context
crops; pictures it would not answer for are skipped, as in training) and caches the taps as
`registry.npz` (`x`, `live`, `source` = `registry:<group>`, `files`) in the experiments'
folder (`LIVEGATE_EXP_DIR`), beside the other experiments' extra samples. It also prints what
the shipped model (`livegate_pad` in the crops' index) makes of them at its operating point.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

from common import *  # noqa: E402,F403


# `IMAGE_REAL_THRESHOLD` in crates/liveness/src/policy.rs
SHIPPED_THRESHOLD = 0.43


def main():
    out = os.path.abspath(sys.argv[1])
    crops = os.path.join(out, "crops")
    exe = os.path.join(TARGET, "release", "livegate")
    subprocess.run([exe, "crops", "--manifest", os.path.join(out, "MANIFEST.tsv"), "--root",
                    os.path.join(out, "root"), "--out", crops], check=True)
    c = Crops(crops)
    files = np.array([r["file"] for r in c.rows])
    x = features(c.by_scale[27], c.by_scale[40])
    np.savez(os.path.join(OUT, "registry.npz"), x=x, live=c.live, source=c.source, files=files)
    shipped = np.array([float(r["livegate_pad"]) for r in c.rows])
    thr = SHIPPED_THRESHOLD
    for s in np.unique(c.source):
        m = c.source == s
        print(f"{s:<20} {m.sum():3d} faces; the shipped model rejects {np.sum(shipped[m] < thr):2d} "
              f"at {thr:.2f} (median live probability {np.median(shipped[m]):.2f})")


if __name__ == "__main__":
    main()
