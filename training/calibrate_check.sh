#!/usr/bin/env bash
# What a deployment's own layer gains on captures it was not fitted on, through the product:
#   training/calibrate_check.sh SOURCE [N]
# The fold layer that never saw SOURCE stands for the shipped layer meeting a new deployment;
# training/calibrate.sh moves it toward the first N (default 20) stills of each class of SOURCE
# (calibrate_check.py: one stretch of capture; other people only, where the source names
# several), and `livegate eval` judges the source's other stills with the fold layer and with
# the moved one. Fails unless the moved one's ACER is lower. CI runs it on nuaa_train, the one
# source with many people; the README's "Your own layer" has every source's figures.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
SOURCE="${1:?usage: training/calibrate_check.sh SOURCE [N]}"
N="${2:-20}"
: "${LIVEGATE_TESTDATA:?testdata missing: set LIVEGATE_TESTDATA or put it at ../shared/testdata}"
ensure_train_venv
PY=("$LIVEGATE_TRAIN_VENV/bin/python" -W ignore)
BIN="$CARGO_TARGET_DIR/release/livegate"
[[ -x "$BIN" ]] || cargo build --locked --release -p livegate --manifest-path "$ROOT/Cargo.toml"
FOLDS="$CARGO_TARGET_DIR/folds"
[[ -d "$FOLDS/$SOURCE" ]] || "${PY[@]}" "$ROOT/training/export.py" \
  --folds "$ROOT/training/folds.json" --out "$FOLDS"

WORK="$CARGO_TARGET_DIR/calibrate-check/$SOURCE"
rm -rf "$WORK"
"${PY[@]}" "$ROOT/training/calibrate_check.py" split "$LIVEGATE_TESTDATA/MANIFEST.tsv" \
  "$SOURCE" "$N" "$WORK"
"$ROOT/training/calibrate.sh" --manifest "$WORK/calibration.tsv" --root "$LIVEGATE_TESTDATA" \
  --out "$WORK/layer" --fold "$SOURCE" --folds "$FOLDS"
for layer in before:"$FOLDS/$SOURCE" after:"$WORK/layer"; do
  LIVEGATE_PAD_DIR="${layer#*:}" "$BIN" eval --manifest "$WORK/rest.tsv" \
    --root "$LIVEGATE_TESTDATA" --out "$WORK/${layer%%:*}" --quiet > /dev/null
done
"${PY[@]}" "$ROOT/training/calibrate_check.py" compare "$WORK/before/report.json" \
  "$WORK/after/report.json" "$WORK/layer"
