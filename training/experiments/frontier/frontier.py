"""How far the operating point alone could move `faces/`' BPCER, and what it would cost.

Reads the `report.json` of the LOSO evaluation `scripts/test.sh` runs (`livegate eval --loso
extra --loso nuaa_train --loso-models …`) and moves every threshold by the same amount: the
policy's (which judges `faces/`) and each held-out source's (chosen on the other sources).
Nothing is fitted here: the curve says whether issue #10's `faces/` target is a threshold
question (it is not: see the README's "where the model fails").

    python3 training/experiments/frontier/frontier.py REPORT.json [REGISTRY_REPORT.json]

The optional second report is `scripts/test.sh`'s evaluation of the 82 live faces of kinds no
training source has (`$CARGO_TARGET_DIR/registry-live/eval/report.json`): a second bona fide
set, never trained on, judged at the policy's threshold like `faces/`.
"""

import json
import sys


def source(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "extra" else parts[0]


def main():
    report = json.load(open(sys.argv[1]))
    registry = json.load(open(sys.argv[2]))["items"] if len(sys.argv) > 2 else []
    registry = [it["score"] or 0.0 for it in registry if it["label"] == "live"]
    policy = 0.43  # crates/liveness/src/policy.rs, IMAGE_REAL_THRESHOLD
    held = {name: row["threshold"] for name, row in report["loso"]["sources"].items()}
    labelled = [
        it
        for it in report["items"]
        if it["error"] is None and it["label"] in ("live", "spoof") and source(it["file"]) in held
    ]
    faces = [it["score"] or 0.0 for it in report["items"] if it["file"].startswith("faces/")]
    also = " registry live BPCER |" if registry else ""
    print("| policy threshold | LOSO thresholds moved | pooled APCER | BPCER | ACER | `faces/` BPCER |" + also)
    print("|---|---|---|---|---|---|" + ("---|" if registry else ""))
    for t in (0.55, 0.50, policy, 0.37, 0.30, 0.23, 0.18, 0.13, 0.11):
        shift = t - policy
        accepted = {True: [], False: []}
        for it in labelled:
            score = it["score"] or 0.0  # a non-response is a rejection
            accepted[it["label"] == "live"].append(score >= held[source(it["file"])] + shift)
        apcer = sum(accepted[False]) / len(accepted[False])
        bpcer = 1 - sum(accepted[True]) / len(accepted[True])
        def refused(scores):
            n = sum(1 for s in scores if s < t)
            return f" {100 * n / len(scores):.1f} % ({n} of {len(scores)}) |"
        print(
            f"| {t:.2f} | {shift:+.2f} | {100 * apcer:.1f} % | {100 * bpcer:.1f} % | "
            f"{50 * (apcer + bpcer):.1f} % |" + refused(faces) + (refused(registry) if registry else "")
        )


if __name__ == "__main__":
    main()
