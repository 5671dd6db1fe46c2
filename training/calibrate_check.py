"""Measures what `calibrate.sh` gains on captures it was not fitted on (CI runs it on one source).

    python calibrate_check.py split MANIFEST SOURCE N DIR
    python calibrate_check.py compare BEFORE_REPORT AFTER_REPORT LAYER_DIR

`split` writes `DIR/calibration.tsv`, the first N stills of each class of SOURCE in capture
(file-number) order — one stretch of capture, as a deployment labels its first sessions — and
`DIR/rest.tsv`, the source's other stills. Where the manifest names several people in a class
(`identity`), the rest holds only people the calibration stills do not show: a layer fitted on
staff is then judged on customers. `compare` prints both `livegate eval` reports' overall rates
and fails unless the after report was judged with the own layer's weights (and the before
report not) and the own layer's ACER on the rest is lower.
"""
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calibrate import natural  # noqa: E402


def source_of(file):
    """As the service's `eval::manifest::source_of` (the folder under `extra/`, else the subset)."""
    parts = file.split("/")
    return parts[1] if parts[0] == "extra" and len(parts) > 2 else parts[0]


def split(manifest, source, n, out):
    with open(manifest, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        header, rows = reader.fieldnames, list(reader)
    rows = [r for r in rows if source_of(r["file"]) == source and r["label"] in ("live", "spoof")
            and not r["file"].endswith((".mp4", ".mov", ".webm"))]
    calibration, rest = [], []
    for label in ("live", "spoof"):
        ordered = sorted((r for r in rows if r["label"] == label), key=lambda r: natural(r["file"]))
        first = ordered[:n]
        people = {r["identity"] for r in first}
        several = len({r["identity"] for r in ordered}) > len(people)
        calibration += first
        rest += [r for r in ordered[n:] if not several or r["identity"] not in people]
    for label in ("live", "spoof"):
        if min(sum(r["label"] == label for r in part) for part in (calibration, rest)) < n:
            sys.exit(f"{source}: fewer than {n} {label} stills to fit on and {n} to judge")
    os.makedirs(out, exist_ok=True)
    for name, part in (("calibration.tsv", calibration), ("rest.tsv", rest)):
        with open(os.path.join(out, name), "w", newline="") as f:
            w = csv.DictWriter(f, header, delimiter="\t", lineterminator="\n")
            w.writeheader()
            w.writerows(part)
    print(f"{source}: {len(calibration)} calibration stills, {len(rest)} judged", file=sys.stderr)


def compare(before, after, layer):
    """`before`, `after`: `livegate eval` reports on the rest; `layer`: the own layer's folder,
    whose weights `after` must have been judged with."""
    reports = []
    for path in (before, after):
        with open(path) as f:
            reports.append(json.load(f))
    with open(os.path.join(layer, "calibration.json")) as f:
        made = json.load(f)["weights_sha256"]
    if reports[1]["pad_weights"] != made or reports[0]["pad_weights"] == made:
        sys.exit(f"the reports were not judged with the layers they name: {reports[0]['pad_weights']}, "
                 f"{reports[1]['pad_weights']}; the own layer is {made}")
    rates = [r["report"]["overall"] for r in reports]
    line = lambda name, o: (f"{name}: APCER {100 * o['apcer']:.1f} %, BPCER {100 * o['bpcer']:.1f} %, "  # noqa: E731
                            f"ACER {100 * o['acer']:.1f} % ({o['bona_fide']} bona fide, {o['attacks']} attacks)")
    print(line("base layer", rates[0]))
    print(line("own layer ", rates[1]))
    if not rates[1]["acer"] < rates[0]["acer"]:
        sys.exit("the own layer does not lower the ACER on the stills it was not fitted on")


if __name__ == "__main__":
    if sys.argv[1:2] == ["split"] and len(sys.argv) == 6:
        split(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1:2] == ["compare"] and len(sys.argv) == 5:
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
