"""How far the operating point alone could move `faces/`' BPCER, and what it would cost.

Reads the `report.json` of the LOSO evaluation `scripts/test.sh` runs (`livegate eval --loso
extra --loso nuaa_train --loso-models …`) and moves every threshold by the same amount: the
policy's (which judges `faces/`) and each held-out source's (chosen on the other sources).
Nothing is fitted here: the curve says whether issue #10's `faces/` target is a threshold
question (it is not: see the README's "where the model fails").

    python3 training/experiments/frontier/frontier.py REPORT.json [POLICY_THRESHOLD]
"""

import json
import sys


def source(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "extra" else parts[0]


def main():
    report = json.load(open(sys.argv[1]))
    policy = float(sys.argv[2]) if len(sys.argv) > 2 else 0.43
    held = {name: row["threshold"] for name, row in report["loso"]["sources"].items()}
    labelled = [
        it
        for it in report["items"]
        if it["error"] is None and it["label"] in ("live", "spoof") and source(it["file"]) in held
    ]
    faces = [it["score"] or 0.0 for it in report["items"] if it["file"].startswith("faces/")]
    print("| policy threshold | LOSO thresholds moved | pooled APCER | BPCER | ACER | `faces/` BPCER |")
    print("|---|---|---|---|---|---|")
    for t in (0.55, 0.50, policy, 0.37, 0.30, 0.23, 0.18, 0.13, 0.11):
        shift = t - policy
        accepted = {True: [], False: []}
        for it in labelled:
            score = it["score"] or 0.0  # a non-response is a rejection
            accepted[it["label"] == "live"].append(score >= held[source(it["file"])] + shift)
        apcer = sum(accepted[False]) / len(accepted[False])
        bpcer = 1 - sum(accepted[True]) / len(accepted[True])
        refused = sum(1 for s in faces if s < t)
        print(
            f"| {t:.2f} | {shift:+.2f} | {100 * apcer:.1f} % | {100 * bpcer:.1f} % | "
            f"{50 * (apcer + bpcer):.1f} % | {100 * refused / len(faces):.1f} % ({refused} of {len(faces)}) |"
        )


if __name__ == "__main__":
    main()
