#!/usr/bin/env bash
# The own layer fitted on a source's first N lives and attacks synthesised from them (no attack
# captures), judged on the rest of the source beside the fold layer; run
# `training/calibrate_check.sh SOURCE N` first (its split and its "before" report are reused).
#   [WITH_CAPTURED=1] training/experiments/local_calibration/synthetic_side.sh SOURCE [SEED]
# (WITH_CAPTURED=1: the captured attacks of the split are kept beside the synthetic ones.)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../../../scripts/env.sh"
SOURCE="${1:?usage: synthetic_side.sh SOURCE [SEED]}"
SEED="${2:-0}"
PY=("$LIVEGATE_TRAIN_VENV/bin/python" -W ignore)
BIN="$CARGO_TARGET_DIR/release/livegate"
CHECK="$CARGO_TARGET_DIR/calibrate-check/$SOURCE"
OUT="$CARGO_TARGET_DIR/calibrate-synthetic/$SOURCE-$SEED${WITH_CAPTURED:+-captured}"
[[ -f "$CHECK/before/report.json" ]] || { echo "run training/calibrate_check.sh $SOURCE first" >&2; exit 1; }
rm -rf "$OUT"
"${PY[@]}" "$HERE/synthetic_side.py" "$CHECK/calibration.tsv" "$LIVEGATE_TESTDATA" "$OUT" "$SEED"
"$ROOT/training/calibrate.sh" --manifest "$OUT/calibration.tsv" --root "$OUT/root" \
  --out "$OUT/layer" --fold "$SOURCE" --folds "$CARGO_TARGET_DIR/folds"
LIVEGATE_PAD_DIR="$OUT/layer" "$BIN" eval --manifest "$CHECK/rest.tsv" \
  --root "$LIVEGATE_TESTDATA" --out "$OUT/after" --quiet > /dev/null
"${PY[@]}" "$ROOT/training/calibrate_check.py" compare "$CHECK/before/report.json" \
  "$OUT/after/report.json" "$OUT/layer"
